"""One demo login per role, written to var/demo/logins.json."""
import json
import random

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from urbangrid.core.secretkey import install_salt
from urbangrid.org.models import Person, RoleAssignment
from urbangrid.org.roles import Role
from urbangrid.public.open311.keys import ensure_demo_key

LOGIN_ROLES = [
    Role.GRID_LEADER, Role.DEPUTY_GRID_LEADER, Role.SUB_GRID_LEADER, Role.GRID_LIAISON, Role.GRID_OFFICER,
    Role.INSPECTOR, Role.ASSESSOR, Role.INTAKE_OPERATOR, Role.SHIFT_LEAD, Role.DISPATCHER,
    Role.DISTRICT_DISPATCHER, Role.LEADER, Role.UNIT_HANDLER,
]
ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _password(rng):
    return "Ug-" + "".join(rng.choice(ALPHABET) for _ in range(10))


def build_logins(seed):
    """Create (or reset) one user per role, linked to a person holding that role; return the mapping.

    Passwords differ per install (a random salt in var/demo/) and stay the same when one install reruns the
    demo with the same seed: a demo reachable from a network has no password anybody else knows."""

    salt = install_salt()
    rng = random.Random(f"logins-{seed}-{salt}")
    User = get_user_model()
    logins, used = {}, set()
    for role in LOGIN_ROLES:
        # A different person for each login, so each login shows exactly one role's workbench.
        ra = (RoleAssignment.objects.filter(role=role).exclude(person_id__in=used).select_related("person")
              .order_by("person__employee_no", "pk").first())
        if ra is None:
            continue
        used.add(ra.person_id)
        username, password = role.value, _password(rng)
        user = User.objects.filter(username=username).first()
        if user is None or not user.check_password(password):
            user, _ = User.objects.update_or_create(username=username, defaults={"password": make_password(password), "is_active": True})
        Person.objects.filter(user=user).exclude(pk=ra.person_id).update(user=None)
        if ra.person.user_id != user.pk:
            Person.objects.filter(pk=ra.person_id).update(user=user)
        logins[role.value] = {"username": username, "password": password, "person": ra.person.name, "role": str(role.label)}
    admin_password = _password(rng)
    admin = User.objects.filter(username="admin").first()
    if admin is None or not admin.check_password(admin_password):
        User.objects.update_or_create(username="admin", defaults={
            "password": make_password(admin_password), "is_staff": True, "is_superuser": True, "is_active": True})
    logins["admin"] = {"username": "admin", "password": admin_password, "person": "", "role": str(Role.ADMIN.label)}
    # Centre and admin staff use the back office too.
    User.objects.filter(username__in=[Role.INTAKE_OPERATOR, Role.SHIFT_LEAD, Role.DISPATCHER]).update(is_staff=True)

    # Outside systems use the Open311 endpoint with this key (linked to the unit_handler's unit for updates).
    logins["open311_api_key"] = ensure_demo_key(f"{seed}-{salt}")
    path = settings.VAR_DIR / "demo" / "logins.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(logins, ensure_ascii=False, indent=2), encoding="utf-8")
    return logins, path
