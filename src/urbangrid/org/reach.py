"""可见范围 (reach): who sees what, the one rule.

A person's reach follows where he holds the roles that grant a permission (``org/roles.py``): the grids he holds a
grid role in, the units (with their teams) he handles cases for, the districts of his 二级派遣员 posts, the party
organisations he is secretary of, himself; a city-level post reaches the whole city. ``RULES`` says, per kind of
data, which of those parts count; ``reach_of(actor, name)`` computes them once per request, and each kind of data
says how its rows fall in a part (``Reach.q`` for a query, ``Reach.holds`` for one loaded row). Cases, staff phones,
reviews and deductions all ask here; their differences are the rows of ``RULES``, side by side.
"""
from dataclasses import dataclass

from django.db.models import Q

from urbangrid.grids.models import Region

from .models import PartyOrganization, Unit
from .party import is_secretary, owned_grids, party_tree, subtree
from .roles import Role

# Grid posts that answer for their grid (and read its reviews): leaders, deputies, liaisons and sub-grid leaders.
GRID_POSTS = (Role.GRID_LEADER, Role.DEPUTY_GRID_LEADER, Role.GRID_LIAISON, Role.SUB_GRID_LEADER)


@dataclass(frozen=True)
class ReachRule:
    """How far one kind of data reaches (one row of ``RULES``).

    whole_city: permissions any one of which opens the whole city; ``city_posts`` also opens it to a city-level
    post (受理员, 值班长, 派遣员, 领导, 管理员) — when ``city_posts_need`` is set, only if he holds that permission.
    grids: the roles whose grids count (None: every role granting ``permission``).
    """

    permission: str = ""
    whole_city: tuple = ()
    city_posts: bool = True
    city_posts_need: str = ""
    grids: tuple | None = None
    segments: bool = False
    units: bool = True          # the units (with sub-units) of his 处置人员 posts
    own_unit: bool = False      # ... and the unit he belongs to
    districts: bool = False     # the districts of his 二级派遣员 posts
    district_regions: bool = False  # ... with their streets and communities, and the units serving them
    parties: str = ""           # "led": his organisation's subtree when secretary, with the grids they own;
    #                             "answer": his organisation when secretary, and those owning a grid he leads
    tracking: bool = False      # the cases whose tracking code he holds (a citizen)
    needs_person: bool = False  # an actor that is no person (an outside system) reaches nothing


RULES = {
    # Cases: the centre all; a unit its own; grid people their grids; a district dispatcher his district; anyone
    # the cases he reported; a citizen the case whose code he holds.
    "case.view": ReachRule(permission="case.view", whole_city=("case.view_all",), districts=True, tracking=True),
    # Staff phones: the people a post dispatches or supervises (org/privacy.py says why).
    "person.phone": ReachRule(permission="person.phone", city_posts_need="person.phone", units=False,
                              district_regions=True),
    # Reviews (讲评): leaders and the administrator the city; grid posts their grids; units their own; a
    # secretary his organisations and their grids.
    "review": ReachRule(whole_city=("dashboard.view", "assessment.review_appeal"), grids=GRID_POSTS, parties="led"),
    # Deductions a person answers for (and may appeal): his grids, segments, units, party organisations, himself.
    "deduction.answer": ReachRule(city_posts=False, needs_person=True, grids=GRID_POSTS, segments=True, own_unit=True, parties="answer"),
}


# The parts of a reach that are sets of ids (``person`` is one id).
_AREA_PARTS = ("grids", "segments", "units", "districts", "regions", "parties", "tracking")


@dataclass(frozen=True)
class Reach:
    """The parts of the city one actor reaches for one kind of data."""

    everything: bool = False
    grids: frozenset = frozenset()
    segments: frozenset = frozenset()
    units: frozenset = frozenset()
    districts: frozenset = frozenset()
    regions: frozenset = frozenset()  # districts with their streets and communities
    parties: frozenset = frozenset()
    person: int | None = None
    tracking: frozenset = frozenset()

    @property
    def empty(self):
        """Nothing but himself."""
        return not (self.everything or any(getattr(self, p) for p in _AREA_PARTS))

    def key(self):
        """A stable text naming this reach (for caches shared by everyone with the same one)."""
        if self.everything:
            return "city"
        return repr([(p, sorted(getattr(self, p))) for p in _AREA_PARTS] + [("person", self.person)])

    def q(self, **how):
        """The rows in reach, as a condition. Each keyword names a part (``grids``, ``units``, ``person``...) and
        how a row falls in it: a field name (``field__in`` the part's ids), a tuple of field names (any of them),
        or a function of the ids answering a ``Q``/expression. Parts not named do not open rows of this kind."""
        if self.everything:
            return Q()
        out = Q(pk__in=[])
        for part, spec in how.items():
            ids = getattr(self, part)
            if part == "person":
                if ids is None:
                    continue
                ids = frozenset([ids])
            if not ids:
                continue
            if callable(spec):
                out |= spec(ids)
                continue
            for name in (spec if isinstance(spec, tuple) else (spec,)):
                out |= Q(**{f"{name}__in": ids})
        return out

    def holds(self, **values):
        """Whether one loaded row is in reach: each keyword names a part and the row's id in it (None: none), or a
        function of the part's ids answering a bool (called only when the others did not already answer)."""
        if self.everything:
            return True
        later = []
        for part, value in values.items():
            ids = getattr(self, part)
            if part == "person":
                ids = frozenset() if ids is None else frozenset([ids])
            if callable(value):
                later.append((value, ids))
            elif value is not None and value in ids:
                return True
        return any(fn(ids) for fn, ids in later if ids)

    # The single-part questions the review pages ask.
    def grid(self, grid_id):
        return self.holds(grids=grid_id)

    def unit(self, unit_id):
        return self.holds(units=unit_id)

    def party(self, org_id):
        return self.holds(parties=org_id)

    def case(self, grid_id, unit_id):
        return self.holds(grids=grid_id, units=unit_id)


def reach_of(actor, name):
    """The actor's reach for the kind of data ``name`` (a key of ``RULES``); the rules that query are computed once
    per actor."""
    rule = RULES[name]
    if not (rule.district_regions or rule.parties):  # no query behind it: computed afresh
        return _compute(actor, rule)
    memo = actor.__dict__.setdefault("_reach", {})  # per request: the actor is rebuilt for each (org/access.py)
    if name not in memo:
        memo[name] = _compute(actor, rule)
    return memo[name]


def _compute(actor, rule):
    person = getattr(actor, "person", None)
    person_id = getattr(person, "pk", None)
    if (not getattr(actor, "is_authenticated", False) and not actor.tracking_codes) or (
            rule.needs_person and person is None):
        return Reach()
    if any(actor.can(p) for p in rule.whole_city) or (
            rule.city_posts and actor.city_wide and (not rule.city_posts_need or actor.can(rule.city_posts_need))):
        return Reach(everything=True, person=person_id)
    if rule.grids is None:
        grids = set(actor.grids_with(rule.permission))
    else:
        grids = set()
        for role in rule.grids:
            grids |= actor.grids_as(role)
    units = set(actor.unit_ids) if rule.units else set()
    if rule.own_unit and getattr(person, "unit_id", None):
        units.add(person.unit_id)
    regions = set()
    if rule.district_regions and actor.district_ids and actor.can(rule.permission):  # 二级派遣员 posts only
        regions = _subtree(Region, actor.district_ids)
        units |= _subtree(Unit, Unit.objects.filter(region_id__in=regions).values_list("pk", flat=True))
    parties = set()
    if rule.parties == "led" and is_secretary(person):
        _orgs, children = party_tree()
        parties = subtree(person.party_organization_id, children)
        for owned in owned_grids(parties).values():
            grids |= owned
    elif rule.parties == "answer":
        parties = answering_parties(actor)
    return Reach(grids=frozenset(grids), segments=frozenset(actor.segment_ids if rule.segments else ()),
                 units=frozenset(units), districts=frozenset(actor.district_ids if rule.districts else ()),
                 regions=frozenset(regions), parties=frozenset(parties), person=person_id,
                 tracking=frozenset(actor.tracking_codes if rule.tracking else ()))


def answering_parties(actor):
    """Party organisations the actor answers for: where he is secretary (书记), or which own (themselves or through
    a group or branch) a grid he leads."""
    person = actor.person
    ids = set()
    if is_secretary(person):
        ids.add(person.party_organization_id)
    led = actor.grids_as(Role.GRID_LEADER)
    if led:
        for row in PartyOrganization.objects.filter(grids__in=led).values_list("pk", "parent_id", "parent__parent_id"):
            ids.update(i for i in row if i)
    return ids


def _subtree(model, root_ids, parent_field="parent_id"):
    ids, frontier = set(root_ids), set(root_ids)
    while frontier:
        frontier = set(model.objects.filter(**{f"{parent_field}__in": frontier}).values_list("pk", flat=True)) - ids
        ids |= frontier
    return ids
