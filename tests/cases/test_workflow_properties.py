"""Property tests of the workflow table and engine: no sequence of allowed actions leaves a case in an
impossible state, and every closed case has a complete chain of events."""
from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from hypothesis import given, settings as hsettings, strategies as st

from urbangrid.cases import engine
from urbangrid.cases.chain import GENESIS, digest
from urbangrid.cases.models import Case, CaseEvent
from urbangrid.cases.states import OPEN, Stage, State
from urbangrid.cases.workflow import TABLE, allowed_from, guard_ok
from urbangrid.grids.models import Region
from urbangrid.org.models import Person, Unit
from urbangrid.worktime import clock as wt

CAL = wt.Calendar()
LIMITS = engine.Limits({})
START = datetime(2026, 9, 28, 9, 0, tzinfo=wt.TZ)  # the week before National Day: holidays don't matter here
EXPECTED_STAGE = {
    State.UNLOCATED: Stage.LOCATE, State.REPORTED: Stage.ACCEPT, State.VERIFYING: Stage.VERIFY, State.PENDING_FILING: Stage.FILE,
    State.PENDING_DISPATCH: Stage.DISPATCH, State.PENDING_DISTRICT_DISPATCH: Stage.SECOND_DISPATCH,
    State.HANDLING: Stage.HANDLE, State.RETURN_REQUESTED: Stage.HANDLE, State.EXTENSION_REQUESTED: Stage.HANDLE,
    State.SUSPENSION_REQUESTED: Stage.HANDLE, State.SUSPENDED: Stage.HANDLE, State.FED_BACK: Stage.SEND_CHECK,
    State.CHECKING: Stage.CHECK, State.PENDING_CLOSE: Stage.CLOSE,
}
# The table's guards, and one more so that sequences stay realistic: one callback per closure.
GUARDS = {"callback": lambda c: not c.satisfaction}
# Cleaned inputs as services.clean_inputs gives them (objects in memory: no database here).
UNIT, DISTRICT = Unit(pk=5, code="U5", name="U5"), Region(pk=7, code="D7", name="D7", level="district")
PLACE = SimpleNamespace(unit_grid_id=11, responsibility_grid_id=12, community_id=13, street_id=14, district_id=7,
                        road_segment_id=None)
PERSON, MASTER = Person(pk=3, employee_no="E3", name="P3"), Case(pk=9, number="20260000009")


def _inputs(flag, case, t=None):
    """``flag`` sends a dispatch to a district only where the row offers one (派遣: a unit or a district; 二级派遣
    names a unit), as services.clean_inputs does: a 二级派遣 "to a district" once started a 处置 clock with no
    limit recorded, a case the service cannot make."""
    to_district = flag and t is not None and "unit_or_district" in t.requires
    return {"confirmed": flag, "to_district": to_district, "self_handled": case.self_handled, "opinion": "x", "reason": "x",
            "extra_time": (Decimal("1"), wt.WORKING_HOURS), "satisfaction": "dissatisfied" if flag else "satisfied",
            "unit_obj": UNIT, "district_obj": DISTRICT, "person_obj": PERSON, "master_obj": MASTER,
            "assignment": engine.Assignment.of(None, Decimal("2"), wt.WORKING_HOURS), "duplicate": "20260000010",
            "lon": 117.2352, "lat": 31.8785, "location": PLACE, "candidate": "长江路"}


def _new_case(self_handled):
    case = Case(number="20260000001", state=None, version=0, self_handled=self_handled, handle_limit_value=Decimal("2"),
                handle_limit_unit=wt.WORKING_HOURS)
    return case


@hsettings(max_examples=300, deadline=None)
@given(self_handled=st.booleans(), unlocated=st.booleans(), choices=st.lists(st.tuples(st.integers(0, 50), st.booleans(), st.integers(1, 300)),
                                                    max_size=40))
def test_any_allowed_sequence_keeps_the_case_consistent(self_handled, unlocated, choices):
    case = _new_case(self_handled)
    at = START
    events, reworks = [], 0
    engine.apply(case, TABLE["report"], {"unlocated": True} if unlocated else {}, at, CAL, LIMITS)
    assert case.version == 1
    events.append(("report", None, case.state))
    for pick, flag, minutes in choices:
        options = [t for t in allowed_from(case.state) if t.action != "report" and guard_ok(t, case)
                   and GUARDS.get(t.action, lambda c: True)(case)]
        if not options:
            break
        t = options[pick % len(options)]
        at = at + timedelta(minutes=minutes)
        before = case.state
        out = engine.apply(case, t, _inputs(flag, case, t), at, CAL, LIMITS)
        assert out.event["seq"] == case.version and out.event["from_state"] == (before or "")
        reworks += t.action == "check_fail"
        events.append((t.action, before, case.state))
        _assert_consistent(case)
    assert case.rework_count == reworks
    assert case.version == len(events)
    # Every step started from the state the previous one ended in.
    for (_a, _b, end), (_a2, start, _e2) in zip(events, events[1:]):
        assert end == start
    if case.state == State.CLOSED:
        actions = [a for a, _b, _e in events]
        assert actions[0] == "report" and "close" in actions


def _assert_consistent(case):
    assert case.state in State.values
    if case.state in OPEN:
        assert case.stage == EXPECTED_STAGE[case.state], (case.state, case.stage)
        assert case.stage_deadline is not None and case.stage_yellow_at is not None
        assert (case.stage_paused_at is not None) == (case.state == State.SUSPENDED)
        assert case.stage_yellow_at <= case.stage_deadline
    else:
        assert case.stage == "" and case.stage_deadline is None
    if case.state == State.CLOSED:
        assert case.archive_type in ("normal", "overdue") and case.closed_at is not None
    for counter in ("rework_count", "return_count", "extension_count", "suspension_count", "supervision_count", "reopen_count"):
        assert getattr(case, counter) >= 0


def test_an_extension_that_still_ends_before_now_keeps_yellow_before_the_deadline():
    """Found by the property above: a 1-hour extension approved long after the deadline leaves the clock
    red; its yellow instant is at the deadline at the latest, not at the approval."""
    case = _new_case(False)
    at = START
    for action, inputs, minutes in (("report", {}, 0), ("accept", {}, 5), ("file", {}, 5), ("dispatch", {}, 5),
                                    ("request_extension", {}, 60 * 30), ("approve_extension", {}, 5)):
        at += timedelta(minutes=minutes)
        inputs = {**_inputs(False, case), **inputs}
        engine.apply(case, TABLE[action], inputs, at, CAL, LIMITS)
    assert case.state == State.HANDLING and case.stage_deadline < at
    assert case.stage_yellow_at <= case.stage_deadline
    assert engine.light(case, at) == wt.RED
    _assert_consistent(case)


def test_every_state_is_reachable_and_every_open_state_can_end():
    """The table has no dead ends: from every open state some action leads on."""
    reported = set(TABLE["report"].target.targets.values())  # 待受理, or 待定位 for an address not placed yet
    assert reported == {State.REPORTED, State.UNLOCATED}
    reachable, frontier = set(reported), list(reported)
    while frontier:
        state = frontier.pop()
        for t in allowed_from(state):
            targets = t.target.targets.values() if hasattr(t.target, "targets") else [t.target or state]
            for target in targets:
                if target not in reachable:
                    reachable.add(target)
                    frontier.append(target)
    assert reachable == set(State)
    for state in OPEN:
        assert allowed_from(state), state


@hsettings(max_examples=100, deadline=None)
@given(notes=st.lists(st.text(max_size=30), min_size=1, max_size=8))
def test_hash_chain_detects_any_single_edit(notes):
    events = []
    prev = GENESIS
    for i, note in enumerate(notes, start=1):
        e = CaseEvent(seq=i, action="supervise", from_state="handling", to_state="handling", at=START, note=note, data={})
        e.prev_hash, e.hash = prev, digest(prev, e, "N1")
        prev = e.hash
        events.append(e)
    for i, e in enumerate(events):
        original = e.note
        e.note = original + "x"
        assert digest(e.prev_hash, e, "N1") != e.hash
        e.note = original


# --- a running clock recomputed on another calendar (重算时限) ---------------------------------------

def _holiday_calendar():
    """National Day 2026 as the notice has it (10-01..10-07 off, Sun 09-20 and Sat 10-10 worked), else Mon–Fri."""
    from datetime import date

    days = {date(2026, 10, d): False for d in range(1, 8)}
    days.update({date(2026, 9, 20): True, date(2026, 10, 10): True})
    return wt.Calendar(days)


CAL_B = _holiday_calendar()
EVE = datetime(2026, 9, 30, 15, 0, tzinfo=wt.TZ)  # the afternoon before National Day: the calendars part at once
LIMITS_KEEP = engine.Limits({}, rework_keeps_first_deadline=True, handle_yellow_share=Decimal("0.35"))


def _event(out):
    from types import SimpleNamespace

    e = out.event
    return SimpleNamespace(seq=e["seq"], action=e["action"], at=e["at"], data=e["data"], stage=e["stage"],
                           deadline=e["deadline"])


def _clock_of(case):
    fields = ["stage_deadline", "stage_budget_seconds", "stage_yellow_at"]
    if case.handle_first_deadline is not None:
        fields.append("handle_first_deadline")
    if case.stage == Stage.HANDLE:
        fields.append("handle_deadline")
    return {f: getattr(case, f) for f in fields}


@hsettings(max_examples=200, deadline=None)
@given(self_handled=st.booleans(), keep=st.booleans(),
       choices=st.lists(st.tuples(st.integers(0, 50), st.booleans(), st.integers(1, 600)), max_size=40))
def test_a_clock_recomputed_on_another_calendar_is_the_clock_that_calendar_gives(self_handled, keep, choices):
    """The same steps at the same times run on two calendars: recomputing the first run's running clock from its
    events on the second calendar gives exactly the clock of the second run; on its own calendar, the clock it has."""
    limits = LIMITS_KEEP if keep else LIMITS
    a, b = _new_case(self_handled), _new_case(self_handled)
    at = EVE
    events = [_event(engine.apply(a, TABLE["report"], {}, at, CAL, limits))]
    engine.apply(b, TABLE["report"], {}, at, CAL_B, limits)
    for pick, flag, minutes in choices:
        options = [t for t in allowed_from(a.state) if t.action != "report" and guard_ok(t, a)
                   and GUARDS.get(t.action, lambda c: True)(a)]
        if not options:
            break
        t = options[pick % len(options)]
        at = at + timedelta(minutes=minutes)
        events.append(_event(engine.apply(a, t, _inputs(flag, a, t), at, CAL, limits)))
        engine.apply(b, t, _inputs(flag, b, t), at, CAL_B, limits)
        assert (a.state, a.stage) == (b.state, b.stage)
        if not a.stage:
            assert engine.recompute_clock(a, events, CAL_B, limits, at) is None
            continue
        same = engine.recompute_clock(a, events, CAL, limits, at)
        assert {k: v for k, v in same.items() if k != "is_overdue"} == _clock_of(a), t.action
        moved = engine.recompute_clock(a, events, CAL_B, limits, at)
        assert {k: v for k, v in moved.items() if k != "is_overdue"} == _clock_of(b), t.action
