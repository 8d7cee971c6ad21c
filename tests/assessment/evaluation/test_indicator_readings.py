"""The three indicator readings of docs/standards.md (Evaluation indicators), each pinned by a small log
written through the case service and numbers computed by hand (March 2026, Asia/Shanghai), on both the
raw events and the daily tallies (``both_sources``).

The scheme's defaults (the seeded scheme): unit weights 立案数 10 / 结案率 30 / 按期处置率 30 / 返工率 30; region
weights 监督举报率 10 / 立案数 20 / 结案率 30 / 按期结案率 40; region 立案数分值 (一类, per unit grid) 0 → 100,
< 3 → 90; a unit's 立案数 0–50 → 100; grades A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, E below. The demo's class is handled
within 1 工作日 (7 working hours: Mon 09:00 → Tue 09:00).
"""
import pytest

from eval_helpers import T, Log
from urbangrid.assessment.evaluation.evaluate import evaluation_for
from urbangrid.assessment.periods import period_of
from urbangrid.assessment.models import EvaluationScheme
from urbangrid.cases import engine
from urbangrid.cases.models import Case
from urbangrid.worktime import clock as wt

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("both_sources")]
FEB, MARCH, APRIL = (period_of("month", T(2026, m, 10).date()) for m in (2, 3, 4))


def unit_row(period, unit, scheme=None):
    return next(r for r in evaluation_for(period.start, period.end, scheme=scheme).units() if r["unit_code"] == unit.code)


def region_row(period, level, code, scheme=None):
    return next(r for r in evaluation_for(period.start, period.end, scheme=scheme).regions(level) if r["code"] == code)


# --- 1. 超期未处置: counted in every period at whose end it is overdue and unhandled -------------------------

def test_an_overdue_unhandled_case_counts_in_every_period_it_stays_so(demo_city):
    log = Log()
    u = log.u1
    a = log.dispatched(T(2026, 2, 26, 9), u)  # due Friday 27 February 09:00; never fed back
    b = log.dispatched(T(2026, 3, 2, 9), u)  # due Tuesday 3 March 09:00
    log.feed_back(b, T(2026, 3, 2, 15))  # on time
    # a's light is red at the end of March: the month the unit used to score 100/A in
    assert engine.light(Case.objects.get(pk=a.pk), T(2026, 3, 31, 23)) == wt.RED

    r = unit_row(MARCH, u)
    # 立案 {b} = 1; 结案 {b} = 1; 超期未处置 {a} = 1; 应结案 {b} ∪ {a} = 2; 处置 1 (on time); 应处置 1 + 1 = 2
    assert (r["filed"], r["closed"], r["overdue_unhandled"], r["due_closed"]) == (1, 1, 1, 2)
    assert (r["handled"], r["ontime_handled"], r["due_handled"], r["rework"]) == (1, 1, 2, 0)
    # 结案率 1/2 → 50; 按期处置率 1/2 → 50; 返工率 0/2 → 100; 立案数 1 → 100
    assert (r["close_rate_score"], r["ontime_handle_rate_score"], r["rework_rate_score"], r["filed_score"]) == (50, 50, 100, 100)
    # 0.1 × 100 + 0.3 × 50 + 0.3 × 50 + 0.3 × 100 = 10 + 15 + 15 + 30 = 70.00 → C (the earlier reading: 100.00 A)
    assert (r["score"], r["grade"]) == (70.0, "C")

    # February, the period its deadline passed: 立案 1, 应结案 1, 结案 0, 应处置 1, 处置 0
    # → 0.1 × 100 + 0.3 × 0 + 0.3 × 0 + 0.3 × 100 = 40.00 → D
    r = unit_row(FEB, u)
    assert (r["filed"], r["closed"], r["overdue_unhandled"], r["due_closed"], r["due_handled"]) == (1, 0, 1, 1, 1)
    assert (r["score"], r["grade"]) == (40.0, "D")
    # April, still unhandled: the same 40.00 D (nothing else happened)
    r = unit_row(APRIL, u)
    assert (r["filed"], r["closed"], r["overdue_unhandled"], r["due_closed"], r["due_handled"]) == (0, 0, 1, 1, 1)
    assert (r["score"], r["grade"]) == (40.0, "D")

    # The search bound (a scheme setting, 365 days by default): with 30 days, April looks for deadlines set
    # from 2 March on, and a's (set 26 February) is no longer found: April has nothing for the unit.
    scheme = EvaluationScheme.current()
    assert scheme.deadline_lookback_days == 365
    scheme.deadline_lookback_days = 30
    r = unit_row(APRIL, u, scheme)
    assert (r["overdue_unhandled"], r["has_data"], r["score"]) == (0, False, None)


def test_a_suspended_overdue_case_counts_where_it_was_overdue_while_running(demo_city):
    log = Log()
    u = log.u1
    c = log.dispatched(T(2026, 3, 2, 9), u)  # due 3 March 09:00
    log.ev(c, "request_suspension", T(2026, 3, 4, 9))
    log.ev(c, "approve_suspension", T(2026, 3, 4, 10))  # 挂账 after the deadline: overdue 3 March 09:00 → 4 March 10:00
    # March: overdue while running and not fed back by the end → 应结案 1, 结案 0 (0.1 × 100 + 0.3 × 100 = 40.00)
    r = unit_row(MARCH, u)
    assert (r["filed"], r["overdue_unhandled"], r["due_closed"], r["score"]) == (1, 1, 1, 40.0)
    # April: suspended the whole month: out of the handling indicators (挂账), nothing else → no data
    r = unit_row(APRIL, u)
    assert (r["overdue_unhandled"], r["has_data"]) == (0, False)


# --- 2. A late feedback without closure does not raise a region's score ----------------------------------

def build_grid_month(log, late_feedback):
    """One responsibility grid in March: five cases filed (one a confirmed public report), four closed (three on
    time), and o, overdue since 10 March 09:00, either unanswered or fed back late on 12 March and not closed."""
    p = log.case(T(2026, 3, 2, 8, 30), source="public_app")
    log.ev(p, "send_verify", T(2026, 3, 2, 8, 40))
    log.ev(p, "verify", T(2026, 3, 2, 9), confirmed=True)
    log.ev(p, "file", T(2026, 3, 2, 9, 30))
    log.dispatch(p, T(2026, 3, 2, 10), log.u1)
    for case in (p, log.dispatched(T(2026, 3, 2, 9), log.u1), log.dispatched(T(2026, 3, 2, 9), log.u2)):
        log.feed_back(case, T(2026, 3, 2, 15))  # on time
        log.close(case, T(2026, 3, 2, 16))  # checked and closed on time
    late = log.dispatched(T(2026, 3, 2, 9), log.u2)  # due 3 March 09:00
    log.feed_back(late, T(2026, 3, 4, 9))  # late
    log.close(late, T(2026, 3, 4, 10))  # 超时结案
    o = log.dispatched(T(2026, 3, 9, 9), log.u1)  # due 10 March 09:00
    if late_feedback:
        log.feed_back(o, T(2026, 3, 12, 9))  # late, and not closed in March
    return o


@pytest.mark.parametrize("late_feedback", [False, True], ids=["unanswered", "late_feedback"])
def test_a_late_feedback_without_closure_does_not_raise_the_grid(demo_city, late_feedback):
    log = Log()
    build_grid_month(log, late_feedback)
    r = region_row(MARCH, "responsibility_grid", log.grid.responsibility_grid.code)
    assert r["unit_grids"] >= 2  # so 5 filings are fewer than 3 per unit grid
    # 监督举报核实 1, 立案 5, 结案 4 (3 on time); o overdue and not closed → 应结案 4 + 1 = 5, answered or not
    assert (r["verified_reports"], r["filed"], r["closed"], r["ontime_closed"], r["due_closed"]) == (1, 5, 4, 3, 5)
    # 监督举报率 1/5 → (1 − 0.2) × 100 = 80; 立案数 5/n < 3 per grid → 90; 结案率 4/5 → 80; 按期结案率 3/5 → 60
    assert (r["report_rate_score"], r["filed_score"], r["close_rate_score"], r["ontime_close_rate_score"]) == (80, 90, 80, 60)
    # 0.1 × 80 + 0.2 × 90 + 0.3 × 80 + 0.4 × 60 = 8 + 18 + 24 + 24 = 74.00 → C
    # (the earlier reading took o out of 应结案 on its late feedback: 4/4 and 3/4 → 8 + 18 + 30 + 30 = 86.00 B)
    assert (r["score"], r["grade"]) == (74.0, "C")
    # u1 holds p, one on-time case and o. A unit's 结案 is its feedback: answering late, it has 3 of 3 结案 and its
    # lateness in 按期处置率 (2 of 3); unanswered, o is its 超期未处置 (2 of 3 结案, 2 of 3 按期处置)
    u = unit_row(MARCH, log.u1)
    if late_feedback:
        assert (u["closed"], u["due_closed"], u["handled"], u["ontime_handled"], u["overdue_unhandled"]) == (3, 3, 3, 2, 0)
    else:
        assert (u["closed"], u["due_closed"], u["handled"], u["ontime_handled"], u["overdue_unhandled"]) == (2, 3, 2, 2, 1)


def test_an_overdue_case_voided_is_not_due_in_its_region(demo_city):
    log = Log()
    v = log.dispatched(T(2026, 3, 2, 9), log.u1)  # due 3 March 09:00
    log.ev(v, "void", T(2026, 3, 5, 9))  # voided after its deadline passed
    kept = log.dispatched(T(2026, 3, 2, 9), log.u1)  # overdue, voided only in April
    log.ev(kept, "void", T(2026, 4, 2, 9))
    r = region_row(MARCH, "district", log.grid.community.parent.parent.code)
    # 立案 2; 结案 0; 应结案 {kept} = 1 (v was voided in March: not due) → 结案率 0, 按期结案率 0
    assert (r["filed"], r["closed"], r["due_closed"], r["close_rate"]) == (2, 0, 1, 0)


# --- 3. 自行处置: on both sides of the region's figures or on neither -------------------------------------

def build_self_handled(log):
    """In log.grid: two 自行处置 reports accepted straight to 待结案 and closed on time, one case dispatched,
    fed back late and closed (超时结案). In the other grid: one 自行处置 closure and nothing else."""
    for grid in (log.grid, log.grid, log.other_grid):
        s = log.case(T(2026, 3, 2, 9), grid=grid, self_handled=True)
        log.ev(s, "accept", T(2026, 3, 2, 9, 5))  # → 待结案, the close clock starts (1 working hour)
        log.ev(s, "close", T(2026, 3, 2, 9, 30))  # on time
    n = log.dispatched(T(2026, 3, 2, 9), log.u1)  # due 3 March 09:00
    log.feed_back(n, T(2026, 3, 4, 9))  # late
    log.close(n, T(2026, 3, 4, 10))


def test_self_handled_cases_count_in_neither_立案_nor_结案_by_default(demo_city):
    log = Log()
    build_self_handled(log)
    scheme = EvaluationScheme.current()
    assert scheme.self_handled_in_regions is False
    r = region_row(MARCH, "responsibility_grid", log.grid.responsibility_grid.code)
    # neither: 立案 {n} = 1, 结案 {n} = 1 (late), 应结案 1; the two 自行处置 closures listed apart
    assert (r["filed"], r["closed"], r["ontime_closed"], r["due_closed"], r["self_handled_closed"]) == (1, 1, 0, 1, 2)
    # 监督举报率 0/1 → 100; 立案数 1/n → 90; 结案率 1/1 → 100; 按期结案率 0/1 → 0
    # 0.1 × 100 + 0.2 × 90 + 0.3 × 100 + 0.4 × 0 = 10 + 18 + 30 + 0 = 58.00 → D
    # (the earlier reading counted the two closures in 结案 only: 3/3 and 2/3 → 10 + 18 + 30 + 26.67 = 84.67 B)
    assert (r["score"], r["grade"]) == (58.0, "D")
    # a grid whose only activity is a 自行处置 closure has no score (not 100/A)
    other = region_row(MARCH, "responsibility_grid", log.other_grid.responsibility_grid.code)
    assert (other["self_handled_closed"], other["has_data"], other["score"], other["rank"]) == (1, False, None, None)
    # the inspector's 漏报率 denominator is his grid's 立案数 as the region counts it
    rows = evaluation_for(MARCH.start, MARCH.end).positions()
    insp = next(x for x in rows if x["role"] == "inspector" and x["person_id"] == log.inspector.pk)["indicators"]
    assert (insp["reported"], insp["valid_reported"], insp["grid_filed"]) == (2, 2, 1)


def test_self_handled_cases_count_on_both_sides_when_the_scheme_says_so(demo_city):
    log = Log()
    build_self_handled(log)
    scheme = EvaluationScheme.current()
    scheme.self_handled_in_regions = True
    r = region_row(MARCH, "responsibility_grid", log.grid.responsibility_grid.code, scheme)
    # both: 立案 = 1 filing + 2 acceptances = 3; 结案 3 (2 on time); 应结案 3
    assert (r["filed"], r["closed"], r["ontime_closed"], r["due_closed"], r["self_handled_closed"]) == (3, 3, 2, 3, 2)
    # 监督举报率 0/3 → 100; 立案数 3/n < 3 per grid → 90; 结案率 3/3 → 100; 按期结案率 2/3 → 66.67
    # 10 + 18 + 30 + 0.4 × 66.67 = 84.67 → B
    assert (r["score"], r["grade"]) == (84.67, "B")
    other = region_row(MARCH, "responsibility_grid", log.other_grid.responsibility_grid.code, scheme)
    # 立案 1, 结案 1 on time: 10 + 18 + 30 + 40 = 98.00 → A
    assert (other["filed"], other["closed"], other["due_closed"], other["score"], other["grade"]) == (1, 1, 1, 98.0, "A")
    rows = evaluation_for(MARCH.start, MARCH.end, scheme=scheme).positions()
    insp = next(x for x in rows if x["role"] == "inspector" and x["person_id"] == log.inspector.pk)["indicators"]
    assert insp["grid_filed"] == 3
