"""API keys: generated at random, stored as a SHA-256 digest (the keys are high-entropy, so no slow hash is needed)."""
import hashlib
import random
import secrets

from django.utils import timezone

PREFIX = "ug311_"


def digest(raw):
    return hashlib.sha256(str(raw).encode("utf-8")).hexdigest()


def generate():
    return PREFIX + secrets.token_urlsafe(24)


def issue(owner, contact="", unit=None, can_post_updates=False, raw=None):
    """Create a key; returns (Open311Key, raw key). The raw key is not stored anywhere."""
    from ..models import Open311Key

    raw = raw or generate()
    key = Open311Key.objects.create(key_hash=digest(raw), key_prefix=raw[:12], owner=owner, contact=contact, unit=unit,
                                    can_post_updates=can_post_updates)
    return key, raw


def authenticate(raw):
    """The active key for ``raw``, or None."""
    from ..models import Open311Key

    raw = (raw or "").strip()
    if not raw or len(raw) > 200:
        return None
    key = Open311Key.objects.select_related("unit").filter(key_hash=digest(raw), active=True).first()
    if key is not None:
        Open311Key.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    return key


def ensure_demo_key(seed):
    """The demo's API key (deterministic per seed and install salt), allowed to feed back for the demo unit_handler's unit."""
    from urbangrid.org.models import RoleAssignment

    from ..models import Open311Key

    rng = random.Random(f"open311-{seed}")
    raw = PREFIX + "demo" + "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(24))
    ra = (RoleAssignment.objects.filter(role="unit_handler", person__user__username="unit_handler", unit__isnull=False)
          .select_related("unit").first())
    unit = ra.unit if ra else None
    Open311Key.objects.update_or_create(key_hash=digest(raw), defaults={
        "key_prefix": raw[:12], "owner": "示范外部系统（Open311）", "contact": "demo@example.invalid", "active": True,
        "can_post_updates": unit is not None, "unit": unit})
    return raw
