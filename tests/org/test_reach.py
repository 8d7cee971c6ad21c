"""The one who-sees-what rule (``org/reach.py``): the rule rows, a reach's query and its one-row answer agree, and
no module outside ``org`` decides on its own who sees what. (Cases: ``tests/cases/test_fast_paths.py`` holds
``visible_cases`` and ``can_see`` equal for every demo login; ``tests/org/test_privacy_matrix.py`` the matrices.)"""
import re
from pathlib import Path

import pytest
from django.db.models import Q

from urbangrid.org.reach import RULES, Reach, reach_of
from urbangrid.org.roles import Role
from urbangrid.org.scope import Actor, anonymous_actor, citizen_actor, system_actor, unit_system_actor

SRC = Path(__file__).resolve().parents[2] / "src" / "urbangrid"


def _actor(**kw):
    user = type("U", (), {"pk": 7, "is_authenticated": True, "is_superuser": False})()
    person = type("P", (), {"pk": 70, "unit_id": 5, "party_organization_id": None, "title": ""})()
    return Actor(user=user, person=person, **kw)


def test_every_rule_names_parts_a_reach_has():
    parts = {"grids", "segments", "units", "districts", "regions", "parties", "person", "tracking"}
    assert set(RULES) == {"case.view", "person.phone", "review", "deduction.answer"}
    for rule in RULES.values():
        assert rule.parties in ("", "led", "answer")
    assert parts <= {f for f in Reach.__dataclass_fields__}


@pytest.mark.django_db
def test_scope_follows_permission():
    # A grid held as 网格巡查员 opens its cases but no phone; one held as 考核员 opens neither; 网格长 both.
    a = _actor(roles={Role.INSPECTOR, Role.ASSESSOR, Role.GRID_LEADER},
               grids_by_role={Role.INSPECTOR: {1}, Role.ASSESSOR: {2}, Role.GRID_LEADER: {3}})
    assert reach_of(a, "case.view").grids == {1, 3}
    assert reach_of(a, "person.phone").grids == {3}
    assert reach_of(a, "review").grids == {3}
    assert reach_of(a, "deduction.answer").grids == {3}


def test_city_posts_and_outsiders():
    centre = system_actor(Role.DISPATCHER)
    assert reach_of(centre, "case.view").everything and reach_of(centre, "person.phone").everything
    assert not reach_of(centre, "deduction.answer").everything  # a post answers for no one else's deductions
    nobody = anonymous_actor()
    assert all(reach_of(nobody, name) == Reach() for name in RULES)
    citizen = citizen_actor("ABC123")
    assert reach_of(citizen, "case.view").tracking == {"ABC123"} and reach_of(citizen, "person.phone").empty
    unit = unit_system_actor({4, 9})
    assert reach_of(unit, "case.view").units == {4, 9}
    assert reach_of(unit, "deduction.answer") == Reach()  # no person, nothing to answer for


def test_own_unit_counts_only_where_the_rule_says():
    a = _actor(roles={Role.UNIT_HANDLER}, unit_ids={8})
    assert reach_of(a, "case.view").units == {8}
    assert reach_of(a, "deduction.answer").units == {5, 8}  # the unit he belongs to answers through him


def test_q_and_holds_are_one_rule():
    r = Reach(grids=frozenset({1}), units=frozenset({2}), person=3, tracking=frozenset({"T"}))
    how = {"grids": "g", "units": ("u", "v"), "person": "p", "tracking": "t"}
    f = frozenset
    assert r.q(**how) == (Q(pk__in=[]) | Q(g__in=f({1})) | Q(u__in=f({2})) | Q(v__in=f({2})) | Q(p__in=f({3}))
                          | Q(t__in=f({"T"})))
    assert Reach(everything=True).q(**how) == Q()
    assert r.holds(grids=1) and r.holds(units=2) and r.holds(person=3) and r.holds(tracking="T")
    assert not r.holds(grids=2, units=1, person=4, tracking=None)
    calls = []
    assert r.holds(grids=1, units=lambda ids: calls.append(ids) or False) and calls == []  # no query when not needed
    assert not Reach().holds(units=lambda ids: calls.append(ids) or True) and calls == []  # nor for an empty part


# Reading an actor's grids, units or districts to decide visibility belongs in org/reach.py. These modules read
# them for other questions: who may act (the workflow's scopes), what is on a person's desk (inboxes), where an
# inspector patrols.
ALLOWED = {"org/scope.py", "org/reach.py", "org/access.py", "cases/services.py", "cases/queries.py",
           "mobile/views.py", "cases/web/views.py"}
PATTERN = re.compile(r"\.(grids_with|grids_as)\(|actor\.(unit_ids|district_ids|segment_ids|tracking_codes)\b")


def test_no_other_module_decides_who_sees_what():
    offenders = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).as_posix()
        if rel in ALLOWED or "/migrations/" in rel:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if PATTERN.search(line):
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert offenders == []
