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
from .models import Person
from .reach import reach_of

PERM = "person.phone"


# How a person falls in each part of a reach: a role held in the grid, in a grid of the region, for the unit, or
# membership of the unit; himself.
_PERSON_PARTS = {"grids": "roles__grid_id", "regions": "roles__grid__region_id", "units": ("roles__unit_id", "unit_id"),
                 "person": "pk"}


def phone_scope(actor):
    """Whose phones ``actor`` may read (``org/reach.py``, rule ``person.phone``; a few queries for a district
    dispatcher, none otherwise)."""
    return reach_of(actor, PERM)


def visible_phone_ids(actor, people):
    """The pks of ``people`` whose phone ``actor`` may read (at most one query)."""

    pks = {p.pk for p in people}
    scope = phone_scope(actor)
    if scope.everything:
        return pks
    if scope.empty or not pks:
        return pks & {scope.person}
    return set(Person.objects.filter(pk__in=pks).filter(scope.q(**_PERSON_PARTS)).values_list("pk", flat=True))


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
