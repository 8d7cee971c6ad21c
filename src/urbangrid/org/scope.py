"""Who is asking and what they may see: an ``Actor`` built from a login's role assignments."""
from dataclasses import dataclass, field
from functools import cached_property
from types import SimpleNamespace

from .models import RoleAssignment, Unit
from .roles import ROLE_PERMISSIONS, Role, permissions_for


@dataclass
class Actor:
    user: object
    person: object = None
    roles: set = field(default_factory=set)
    grid_ids: set = field(default_factory=set)  # responsibility grids where a grid role is held
    grids_by_role: dict = field(default_factory=dict)  # role -> responsibility grid ids
    segment_ids: set = field(default_factory=set)
    district_ids: set = field(default_factory=set)  # districts of 二级派遣员 posts
    unit_ids: set = field(default_factory=set)  # units (with their sub-units) of 处置人员
    tracking_codes: set = field(default_factory=set)  # a citizen's cases, by the tracking code he holds
    city_wide: bool = False

    @cached_property
    def permissions(self):
        perms = permissions_for(self.roles)
        if getattr(self.user, "is_superuser", False):
            perms |= permissions_for([Role.ADMIN])
        return perms

    def can(self, perm):
        return perm in self.permissions

    def grids_as(self, role):
        return self.grids_by_role.get(role, set())

    def grids_with(self, perm):
        """Responsibility grids where the actor holds a role that grants ``perm``: scope follows permission, so a
        grid held only as 考核员 (no ``case.view``) opens no case there, and a grid held only as 网格巡查员 no phone."""

        out = set()
        for role, grids in self.grids_by_role.items():
            if perm in ROLE_PERMISSIONS.get(role, ()):
                out |= grids
        return out

    def role_for(self, perm, prefer=()):
        """The role that grants ``perm`` (recorded on case events), or "": the first of ``prefer`` the actor
        holds with that permission, else the first such role by name."""

        for role in prefer:
            if role in self.roles and perm in ROLE_PERMISSIONS.get(Role(role), ()):
                return Role(role).value
        for role in sorted(self.roles, key=str):
            if perm in ROLE_PERMISSIONS.get(role, ()):
                return role.value
        return Role.ADMIN.value if getattr(self.user, "is_superuser", False) else ""

    @property
    def is_authenticated(self):
        return bool(getattr(self.user, "is_authenticated", False))


def actor_for(user):
    """Build the actor of a Django user (anonymous users get an actor with no roles)."""
    actor = Actor(user=user)
    if not getattr(user, "is_authenticated", False):
        return actor
    person = getattr(user, "person", None)
    actor.person = person
    if user.is_superuser:
        actor.city_wide = True
    if person is None:
        return actor
    return _with_roles(actor, person)


def actor_for_person(person):
    """The actor of a person without a login (generated history, imports): same roles and scope."""

    actor = Actor(user=SimpleNamespace(pk=None, is_authenticated=True, is_superuser=False), person=person)
    return _with_roles(actor, person)


def _with_roles(actor, person):
    for ra in RoleAssignment.objects.filter(person=person).select_related("region", "unit"):
        actor.roles.add(Role(ra.role))
        if ra.grid_id:
            actor.grid_ids.add(ra.grid_id)
            actor.grids_by_role.setdefault(Role(ra.role), set()).add(ra.grid_id)
        if ra.road_segment_id:
            actor.segment_ids.add(ra.road_segment_id)
        if ra.role == Role.DISTRICT_DISPATCHER and ra.region_id:
            actor.district_ids.add(ra.region_id)
        if ra.unit_id:
            actor.unit_ids |= Unit.objects.get(pk=ra.unit_id).descendants_ids()
        if ra.role in (Role.INTAKE_OPERATOR, Role.SHIFT_LEAD, Role.DISPATCHER, Role.LEADER, Role.ADMIN) and not ra.region_id:
            actor.city_wide = True
    return actor


# The actors that are no logged-in person, built here only (one place says what each may do).
def _nobody(authenticated):
    return SimpleNamespace(pk=None, is_authenticated=authenticated, is_superuser=False)


def anonymous_actor():
    """Someone not logged in: citizens' pages and Open311 reports (what they may do: cases/intake.py)."""
    return Actor(user=_nobody(False))


def citizen_actor(tracking_code):
    """A member of the public who holds a tracking code: may see and rate that case only."""
    return Actor(user=_nobody(False), roles={Role.CITIZEN}, tracking_codes={tracking_code})


def system_actor(role=Role.DISPATCHER):
    """The platform itself acting in a city-level post (automatic dispatch, reopening after a dissatisfied
    citizen); its events have no person."""
    return Actor(user=_nobody(True), roles={role}, city_wide=True)


def unit_system_actor(unit_ids):
    """An outside system acting for a unit (an Open311 key bound to a unit posting its updates): the unit's
    handler post over ``unit_ids``, no person."""
    return Actor(user=_nobody(True), roles={Role.UNIT_HANDLER}, unit_ids=set(unit_ids))
