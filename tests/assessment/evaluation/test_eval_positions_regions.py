"""岗位评价 and 区域评价 on event logs written by the case service (March 2026, Asia/Shanghai)."""
import pytest

from eval_helpers import T, Log
from urbangrid.assessment.evaluation.evaluate import evaluation_for
from urbangrid.assessment.periods import period_of
from urbangrid.assessment.models import EvaluationScheme
from urbangrid.cases.models import CaseEvent
from urbangrid.catalog import responsibility
from urbangrid.catalog.models import CatalogClass, ResponsibilityRule
from urbangrid.org.models import RoleAssignment
from urbangrid.worktime import clock as wt

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("both_sources")]
MARCH = period_of("month", T(2026, 3, 15).date())


def build_positions(log):
    """Every step through the case service; the on-time verdicts are the engine's (accept, file, dispatch and
    send_check clocks: 1 working hour; verify and check: 0.5 working hour; handling: 1 工作日)."""
    I, O, S, D = log.inspector, log.intake, log.shift, log.dispatcher
    r1 = log.case(T(2026, 3, 2, 9), reporter=I)
    log.ev(r1, "accept", T(2026, 3, 2, 9, 10), person=O)  # on time
    log.ev(r1, "file", T(2026, 3, 2, 9, 20), person=S)  # on time
    log.dispatch(r1, T(2026, 3, 2, 9, 30), log.u1, person=D)  # on time; due 3 March 09:30
    log.ev(r1, "request_return", T(2026, 3, 3, 8, 45))
    log.ev(r1, "approve_return", T(2026, 3, 3, 9), person=D)  # the dispatch clock restarts: due 10:00
    log.dispatch(r1, T(2026, 3, 3, 16), log.u2, person=D)  # late; due 4 March 16:00
    log.feed_back(r1, T(2026, 3, 4, 9))  # on time
    log.ev(r1, "send_check", T(2026, 3, 4, 10), person=O)  # on time (due 10:00)
    log.ev(r1, "check_fail", T(2026, 3, 4, 11), person=I)  # late (due 10:30); handling restarts
    log.ev(r1, "void", T(2026, 3, 5, 9), person=S)
    r2 = log.case(T(2026, 3, 3, 9), reporter=I)  # reported, not filed
    log.ev(r2, "not_file", T(2026, 3, 3, 10), person=O)  # on time
    r3 = log.case(T(2026, 3, 4, 9), reporter=I, self_handled=True)  # self-handled: accepted straight to 待结案
    log.ev(r3, "accept", T(2026, 3, 4, 9, 5), person=O)
    p1 = log.case(T(2026, 3, 5, 9), source="public_app")
    log.ev(p1, "send_verify", T(2026, 3, 5, 9, 10), person=O)  # on time
    log.ev(p1, "verify", T(2026, 3, 5, 9, 30), person=I, confirmed=True)  # on time (due 09:40)
    log.ev(p1, "file", T(2026, 3, 5, 15), person=S)  # late (due 10:30)
    log.dispatch(p1, T(2026, 3, 5, 15, 10), log.u1, person=D)  # on time
    p2 = log.case(T(2026, 3, 6, 9), source="public_app")
    log.ev(p2, "send_verify", T(2026, 3, 6, 16), person=O)  # late (due 10:00)
    log.ev(p2, "verify", T(2026, 3, 9, 10), person=I, confirmed=False)  # late (due 6 March 16:30)
    v = log.case(T(2026, 3, 9, 9), reporter=I)  # voided before filing: does not touch 准确立案
    log.ev(v, "void", T(2026, 3, 9, 10), person=S)
    # Two more dispatches in another grid, of public reports accepted and filed by the other intake operator and
    # shift lead (log.intake2, log.shift2), so that the posts above are judged on the steps above only.
    log.intake2 = RoleAssignment.objects.filter(role="intake_operator").order_by("-pk").first().person
    log.shift2 = RoleAssignment.objects.filter(role="shift_lead").order_by("-pk").first().person
    other = log.filed(T(2026, 3, 9, 9), grid=log.other_grid, intake=log.intake2, shift=log.shift2)
    log.dispatch(other, T(2026, 3, 9, 9), log.u1)  # by the dispatcher (the helper's default person)
    # An automatic dispatch has no person: the class's rule dispatches on filing (自动派遣).
    auto = CatalogClass.objects.exclude(pk=log.cls.pk).order_by("pk").first()
    ResponsibilityRule.objects.filter(catalog_class=auto).update(auto_dispatch=True)
    responsibility.invalidate()
    sys_case = log.filed(T(2026, 3, 9, 9), grid=log.other_grid, cls=auto, intake=log.intake2, shift=log.shift2)
    assert CaseEvent.objects.filter(case=sys_case, action="dispatch", actor_person__isnull=True).exists()


def test_positions(demo_city):
    log = Log()
    build_positions(log)
    rows = evaluation_for(MARCH.start, MARCH.end).positions()
    by = {(r["role"], r["person_id"]): r for r in rows}
    insp = by["inspector", log.inspector.pk]["indicators"]
    assert (insp["reported"], insp["valid_reported"]) == (4, 2)  # r1 filed, r3 self-handled; r2 and v not
    assert insp["valid_report_rate"] == pytest.approx(0.5)
    assert (insp["verified"], insp["ontime_verified"], insp["ontime_verify_rate"]) == (2, 1, 0.5)
    assert (insp["checked"], insp["ontime_checked"], insp["ontime_check_rate"]) == (1, 0, 0)
    assert (insp["missed"], insp["grid_filed"]) == (1, 2)  # p1 confirmed in his grid; r1 and p1 filed there
    assert insp["missed_rate"] == pytest.approx(0.5)
    r = by["inspector", log.inspector.pk]
    assert r["scores"] == {"valid_report_rate": 50, "missed_rate": 50, "ontime_verify_rate": 50, "ontime_check_rate": 0}
    assert r["score"] == pytest.approx(0.4 * 50 + 0.2 * 50 + 0.2 * 50) and r["grade"] == "D"  # 40 is D

    intake = by["intake_operator", log.intake.pk]
    ind = intake["indicators"]
    assert ind["accepted"] == 4  # 2 accepts + 2 sent to verification
    assert (ind["sent_verify"], ind["ontime_sent_verify"], ind["ontime_send_verify_rate"]) == (2, 1, 0.5)
    assert (ind["sent_check"], ind["ontime_sent_check"], ind["ontime_send_check_rate"]) == (1, 1, 1)
    assert intake["scores"]["accepted"] == 0  # ≤100 件
    assert intake["score"] == pytest.approx(0.4 * 50 + 0.35 * 100) and intake["grade"] == "D"

    shift = by["shift_lead", log.shift.pk]["indicators"]
    assert (shift["filed"], shift["ontime_filed"], shift["voided_after_filing"]) == (2, 1, 1)
    assert shift["accurate_filed"] == 1 and shift["accurate_file_rate"] == 0.5
    assert shift["closed"] == 0 and shift["ontime_close_rate"] is None
    assert by["shift_lead", log.shift.pk]["score"] == pytest.approx(0.25 * 50 + 0.4 * 50 + 0.35 * 100)

    disp = by["dispatcher", log.dispatcher.pk]["indicators"]
    # r1 twice (one returned), p1, and the helper's default-person dispatch; the system's has no person
    assert (disp["dispatched"], disp["ontime_dispatched"], disp["returned"]) == (4, 3, 1)
    assert disp["accurate_dispatch_rate"] == pytest.approx(0.75)
    assert by["dispatcher", log.dispatcher.pk]["scores"]["dispatched"] == 0

    # post holders without activity are listed with empty rates and no data: no score, grade or rank
    idle = RoleAssignment.objects.filter(role="intake_operator").exclude(person__in=[log.intake, log.intake2]).first()
    if idle is not None:
        row = by["intake_operator", idle.person_id]
        assert row["indicators"]["ontime_send_verify_rate"] is None
        assert (row["has_data"], row["score"], row["grade"], row["rank"]) == (False, None, "", None)


def test_position_weights_are_configurable(demo_city):
    log = Log()
    build_positions(log)
    scheme = EvaluationScheme.current()
    scheme.position_weights["shift_lead"] = {"ontime_file_rate": 0, "accurate_file_rate": 100, "ontime_close_rate": 0}
    rows = evaluation_for(MARCH.start, MARCH.end, scheme=scheme).positions()
    row = next(r for r in rows if r["role"] == "shift_lead" and r["person_id"] == log.shift.pk)
    assert row["score"] == 50 and row["grade"] == "D"


def build_regions(log):
    g, g2 = log.grid, log.other_grid
    p1 = log.case(T(2026, 3, 2, 8, 30), source="public_app")  # a confirmed public report, filed
    log.ev(p1, "send_verify", T(2026, 3, 2, 8, 40))
    log.ev(p1, "verify", T(2026, 3, 2, 9), confirmed=True)
    log.ev(p1, "file", T(2026, 3, 2, 10))
    k = log.dispatched(T(2026, 3, 2, 9), log.u1)  # suspended two days: the suspension is not handling time
    log.ev(k, "request_suspension", T(2026, 3, 2, 9, 30))
    log.ev(k, "approve_suspension", T(2026, 3, 2, 10))
    log.ev(k, "resume", T(2026, 3, 4, 9))
    log.feed_back(k, T(2026, 3, 4, 11))  # on time
    log.check(k, T(2026, 3, 4, 11, 30), sent=T(2026, 3, 4, 11, 10))
    log.ev(k, "close", T(2026, 3, 4, 14, 15))  # on time (due 14:30): every clock of k was on time
    log.dispatched(T(2026, 3, 10, 9), log.u1)  # o: overdue without feedback (due 11 March 09:00)
    # closed, handled late; filed in February, so its district files nothing in March
    late = log.filed(T(2026, 2, 27, 16), grid=g2)
    log.dispatch(late, T(2026, 3, 2, 9), log.u2)
    log.feed_back(late, T(2026, 3, 6, 9))  # late (due 3 March 09:00)
    log.close(late, T(2026, 3, 6, 15))
    early = log.dispatched(T(2026, 2, 2, 9), log.u1)  # closed in February: not in March
    log.feed_back(early, T(2026, 2, 2, 11))
    log.close(early, T(2026, 2, 28, 23, 59, 59))
    return k


def test_regions_district(demo_city):
    log = Log()
    build_regions(log)
    rows = {r["code"]: r for r in evaluation_for(MARCH.start, MARCH.end).regions("district")}
    d1 = rows[log.grid.community.parent.parent.code]
    # filed: p1, k and o (each dispatched case was filed just before its dispatch)
    assert (d1["verified_reports"], d1["filed"], d1["closed"], d1["due_closed"], d1["ontime_closed"]) == (1, 3, 1, 2, 1)
    assert d1["report_rate"] == pytest.approx(1 / 3)
    assert d1["close_rate"] == 0.5 and d1["ontime_close_rate"] == 0.5
    cal = wt.get_calendar()
    handling = (wt.working_time_between(T(2026, 3, 2, 9), T(2026, 3, 4, 11), cal)
                - wt.working_time_between(T(2026, 3, 2, 10), T(2026, 3, 4, 9), cal))
    assert handling == 3 * 3600  # 09:00–10:00 on the 2nd, 09:00–11:00 on the 4th
    assert d1["avg_handle_hours"] == 3.0
    assert d1["filed_score"] == 90 and d1["report_rate_score"] == pytest.approx(66.67)
    assert d1["score"] == pytest.approx(round(0.1 * 66.67 + 0.2 * 90 + 0.3 * 50 + 0.4 * 50, 2))
    assert d1["grade"] == "D" and d1["color"] == "red"
    d2 = rows[log.other_grid.community.parent.parent.code]
    assert (d2["filed"], d2["closed"], d2["due_closed"], d2["ontime_closed"]) == (0, 1, 1, 0)
    assert d2["report_rate"] is None and d2["report_rate_score"] == 100
    assert d2["score"] == pytest.approx(10 + 20 + 30 + 0) and d2["grade"] == "C"
    quiet = [r for code, r in rows.items() if code not in (d1["code"], d2["code"])]
    for r in quiet:  # no activity: every rate empty, no data (no score, grade or rank)
        assert r["close_rate"] is None and r["score"] is None and r["grade"] == "" and r["rank"] is None
    assert (d1["rank"], d2["rank"]) == (2, 1)  # ranked among the districts with activity only


def test_regions_levels_sum_and_region_class(demo_city):
    log = Log()
    build_regions(log)
    ev = evaluation_for(MARCH.start, MARCH.end)
    for level in ("grid", "responsibility_grid", "community", "street", "district"):
        rows = ev.regions(level)
        assert sum(r["filed"] for r in rows) == 3, level
        assert sum(r["closed"] for r in rows) == 2, level
        assert sum(r["due_closed"] for r in rows) == 3, level
    grid = next(r for r in ev.regions("grid") if r["code"] == log.grid.code)
    assert grid["filed_per_grid"] == 3 and grid["region_class"] == "1" and grid["filed_score"] == 75  # 一类: <5
    scheme = EvaluationScheme.current()
    scheme.class_two_regions = [log.grid.community.parent.code]  # the street: its grids are 二类
    grid = next(r for r in evaluation_for(MARCH.start, MARCH.end, scheme=scheme).regions("grid") if r["code"] == log.grid.code)
    assert grid["region_class"] == "2" and grid["filed_score"] == 90  # 二类: <4


def test_bad_level(demo_city):
    from urbangrid.assessment.periods import PeriodError

    with pytest.raises(PeriodError):
        evaluation_for(MARCH.start, MARCH.end).regions("planet")
