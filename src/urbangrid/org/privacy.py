"""Personal data by need: whose phone number an actor may read. The one rule; every page, API and export
that shows a person's phone asks here (``may_see_phone`` for one person, ``visible_phone_ids`` for a list,
``with_phones`` for a template), never ``person.phone`` directly.

A staff member's phone is shown to the people who dispatch or supervise him, and to himself:

- the city-wide centre posts (受理员, 值班长, 派遣员, 领导) and the administrator: everyone's;
- a district dispatcher (二级派遣员): the people holding a role in a responsibility grid of his district, and the
  staff (members or handlers) of the units serving his district, to which he dispatches;
- a grid leader or deputy grid leader (网格长, 副网格长): the people holding a role in the grids he leads;
- anyone: his own.

Everybody else (inspectors, grid officers, liaisons, sub-grid leaders, assessors, unit handlers) sees no other
person's phone. The permission is ``person.phone`` (``org/roles.py``); like every permission its scope is where
the role granting it is held: a grid held only as 网格巡查员 or 考核员 opens no phone there.
"""
from dataclasses import dataclass

from django.db.models import Q

from urbangrid.grids.models import Region

from .models import Person, Unit

PERM = "person.phone"


@dataclass(frozen=True)
class PhoneScope:
    everyone: bool = False
    grid_ids: frozenset = frozenset()  # grids where the actor holds a role with ``person.phone``
    region_ids: frozenset = frozenset()  # districts of his 二级派遣员 posts, with their streets and communities
    unit_ids: frozenset = frozenset()  # units serving those districts, with their sub-units
    self_id: int | None = None

    def person_q(self):
        """The persons in scope, as a condition on ``Person`` (everyone: no condition)."""
        if self.everyone:
            return Q()
        q = Q(pk=self.self_id) if self.self_id is not None else Q(pk__in=[])
        if self.grid_ids:
            q |= Q(roles__grid_id__in=self.grid_ids)
        if self.region_ids:
            q |= Q(roles__grid__region_id__in=self.region_ids)
        if self.unit_ids:
            q |= Q(roles__unit_id__in=self.unit_ids) | Q(unit_id__in=self.unit_ids)
        return q

    @property
    def only_self(self):
        return not (self.everyone or self.grid_ids or self.region_ids or self.unit_ids)


def _subtree(model, root_ids, parent_field="parent_id"):
    ids, frontier = set(root_ids), set(root_ids)
    while frontier:
        frontier = set(model.objects.filter(**{f"{parent_field}__in": frontier}).values_list("pk", flat=True)) - ids
        ids |= frontier
    return ids


def phone_scope(actor):
    """Whose phones ``actor`` may read (a few queries for a district dispatcher, none otherwise)."""
    cached = getattr(actor, "_phone_scope", None)
    if cached is not None:
        return cached
    self_id = getattr(getattr(actor, "person", None), "pk", None)
    if not getattr(actor, "is_authenticated", False):
        scope = PhoneScope()
    elif actor.can(PERM) and (actor.city_wide or getattr(actor.user, "is_superuser", False)):
        scope = PhoneScope(everyone=True, self_id=self_id)
    else:
        grids = frozenset(actor.grids_with(PERM))
        regions, units = frozenset(), frozenset()
        if actor.district_ids and actor.can(PERM):  # district_ids come from 二级派遣员 posts only

            regions = frozenset(_subtree(Region, actor.district_ids))
            units = frozenset(_subtree(Unit, Unit.objects.filter(region_id__in=regions).values_list("pk", flat=True)))
        scope = PhoneScope(grid_ids=grids, region_ids=regions, unit_ids=units, self_id=self_id)
    try:
        actor._phone_scope = scope  # per request: the actor is rebuilt for each one (org/access.py)
    except AttributeError:
        pass
    return scope


def visible_phone_ids(actor, people):
    """The pks of ``people`` whose phone ``actor`` may read (at most one query)."""

    pks = {p.pk for p in people}
    scope = phone_scope(actor)
    if scope.everyone:
        return pks
    if scope.only_self or not pks:
        return pks & {scope.self_id}
    return set(Person.objects.filter(pk__in=pks).filter(scope.person_q()).values_list("pk", flat=True))


def may_see_phone(actor, person):
    return person is not None and person.pk in visible_phone_ids(actor, [person])


def phone_or_none(actor, person, visible=None):
    """The phone to show (None when hidden); ``visible``: the result of ``visible_phone_ids`` for a list."""
    allowed = (person.pk in visible) if visible is not None else may_see_phone(actor, person)
    return person.phone if allowed else None


def with_phones(actor, people):
    """Give each person the attribute ``shown_phone`` for templates ("" when hidden); returns whether any phone
    was hidden (the page then says why)."""
    people = list(people)
    visible = visible_phone_ids(actor, people)
    hidden = False
    for p in people:
        p.shown_phone = p.phone if p.pk in visible else ""
        hidden = hidden or (p.pk not in visible and bool(p.phone))
    return hidden
