"""部门评价 on event logs written by the case service (March 2026, Asia/Shanghai)."""
import pytest

from eval_helpers import T, Log
from urbangrid.assessment.evaluation.evaluate import evaluation_for
from urbangrid.assessment.periods import period_of
from urbangrid.assessment.models import EvaluationScheme
from urbangrid.worktime import clock as wt

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("both_sources")]
MARCH = period_of("month", T(2026, 3, 15).date())


def rows_by_code(rows):
    return {r["unit_code"]: r for r in rows}


def units(scheme=None):
    return rows_by_code(evaluation_for(MARCH.start, MARCH.end, scheme=scheme).units())


def test_filed_closed_due_and_on_time(demo_city):
    # Deadlines are the engine's: the class's 1 工作日 (7 working hours) from the dispatch.
    log = Log()
    u = log.u1
    a = log.dispatched(T(2026, 3, 2, 9), u)  # dispatched and fed back on time (due 3 March 09:00)
    log.feed_back(a, T(2026, 3, 2, 15))
    log.dispatched(T(2026, 3, 2, 10), u)  # b: due 3 March 10:00, passes in March without feedback
    # c: dispatched on Friday 27 February, due Saturday 28 February 09:00 (a working day in 2026), fed back late
    # in March: handled, not filed in March
    c = log.dispatched(T(2026, 2, 27, 9), u)
    log.feed_back(c, T(2026, 3, 2, 9))
    log.dispatched(T(2026, 3, 31, 16), u)  # d: due 1 April 16:00: filed, nothing due yet
    r = units()[u.code]
    assert r["filed"] == 3  # a, b, d
    assert r["closed"] == 2  # a, c
    assert r["overdue_unhandled"] == 1  # b
    assert r["due_closed"] == 3
    assert r["close_rate"] == pytest.approx(2 / 3)
    assert (r["handled"], r["ontime_handled"], r["due_handled"]) == (2, 1, 3)
    assert r["ontime_handle_rate"] == pytest.approx(1 / 3)
    assert r["rework"] == 0 and r["rework_rate"] == 0
    assert r["filed_score"] == 100  # 0–50 件
    assert r["close_rate_score"] == pytest.approx(66.67)
    assert r["ontime_handle_rate_score"] == pytest.approx(33.33)
    assert r["rework_rate_score"] == 100
    assert r["score"] == pytest.approx(round(0.1 * 100 + 0.3 * 66.67 + 0.3 * 33.33 + 0.3 * 100, 2))
    assert (r["grade"], r["color"]) == ("C", "yellow")  # 10 + 20 + 10 + 30 = 70
    # the period before sees c's dispatch and its missed deadline
    feb = period_of("month", T(2026, 2, 10).date())
    rf = rows_by_code(evaluation_for(feb.start, feb.end).units())[u.code]
    assert (rf["filed"], rf["closed"], rf["overdue_unhandled"], rf["due_closed"]) == (1, 0, 1, 1)
    assert rf["close_rate"] == 0


def test_rework_counted_once_per_failed_check(demo_city):
    log = Log()
    u = log.u1
    c = log.dispatched(T(2026, 3, 2, 9), u)  # due 3 March 09:00
    for day in (3, 4):  # fed back on time, failed check, the handling clock restarts: due the next day 10:20
        log.feed_back(c, T(2026, 3, day, 9))
        log.check(c, T(2026, 3, day, 10, 20), passed=False, sent=T(2026, 3, day, 10))
    log.feed_back(c, T(2026, 3, 9, 9))  # late: due 5 March 10:20
    log.check(c, T(2026, 3, 9, 10, 20), sent=T(2026, 3, 9, 10))
    r = units()[u.code]
    assert r["rework"] == 2
    assert r["closed"] == 1 and r["due_closed"] == 1
    assert r["rework_rate"] == 2  # 返工数 / 应结案数, as the standard defines it
    assert r["rework_rate_score"] == 0  # clamped, never negative
    assert (r["handled"], r["ontime_handled"]) == (3, 2)


def test_zero_denominators_score_full_marks(demo_city):
    log = Log()
    u = log.u2
    log.dispatched(T(2026, 3, 31, 17), u)  # due 1 April 17:00
    r = units()[u.code]
    assert (r["filed"], r["closed"], r["due_closed"], r["due_handled"]) == (1, 0, 0, 0)
    assert r["close_rate"] is None and r["ontime_handle_rate"] is None and r["rework_rate"] is None
    assert r["close_rate_score"] == r["ontime_handle_rate_score"] == r["rework_rate_score"] == 100
    assert (r["score"], r["grade"], r["color"]) == (100, "A", "green")
    # the score given to an empty denominator is configurable
    scheme = EvaluationScheme.current()
    scheme.zero_denominator_score = 0
    r = units(scheme)[u.code]
    assert r["score"] == 10 and r["grade"] == "E" and r["color"] == "black"


def test_suspension_pauses_the_overdue_clock(demo_city):
    log = Log()
    u = log.u1

    def suspended(at_dispatch):
        c = log.dispatched(at_dispatch, u)  # due the next day 09:00
        log.ev(c, "request_suspension", T(2026, 3, 10, 14, 30))
        log.ev(c, "approve_suspension", T(2026, 3, 10, 15))  # 3 working hours left: 15:00–17:30, 08:30–09:00
        return c

    suspended(T(2026, 3, 10, 9))  # paused: suspended before its deadline and still suspended at the end of March
    resumed_late = suspended(T(2026, 3, 10, 9))  # resumed on Friday 20 March 09:00: due 12:00, passes in March
    log.ev(resumed_late, "resume", T(2026, 3, 20, 9))
    resumed_april = suspended(T(2026, 3, 10, 9))  # resumed 31 March 15:00: 2.5 h that day, due 1 April 09:00
    log.ev(resumed_april, "resume", T(2026, 3, 31, 15))
    extended = log.dispatched(T(2026, 3, 30, 9), u)  # due 31 March 09:00; one more 工作日: 1 April 09:00
    log.ev(extended, "request_extension", T(2026, 3, 30, 14, 30), extra_value="1", extra_unit=wt.WORKING_DAYS)
    log.ev(extended, "approve_extension", T(2026, 3, 30, 15))
    returned = log.dispatched(T(2026, 3, 2, 9), u)  # returned after its deadline (3 March 09:00): no longer the unit's
    log.ev(returned, "request_return", T(2026, 3, 4, 8, 45))
    log.ev(returned, "approve_return", T(2026, 3, 4, 9))
    r = units()[u.code]
    assert r["filed"] == 5
    assert r["overdue_unhandled"] == 1  # only resumed_late
    assert r["due_closed"] == 1 and r["closed"] == 0 and r["close_rate"] == 0


def test_midnight_edges_in_shanghai(demo_city):
    log = Log()
    u = log.u1
    log.dispatched(T(2026, 3, 1, 0, 0, 0), u)  # 2026-02-28 16:00 UTC: March (filed a second before, in February)
    log.dispatched(T(2026, 2, 28, 23, 59, 59), u)  # February
    log.dispatched(T(2026, 4, 1, 0, 0, 0), u)  # April
    assert units()[u.code]["filed"] == 1
    day = period_of("day", T(2026, 3, 1).date())
    assert rows_by_code(evaluation_for(day.start, day.end).units())[u.code]["filed"] == 1


def test_grace_minutes_rule(demo_city):
    log = Log()
    u = log.u1
    c = log.dispatched(T(2026, 3, 2, 9), u)  # due 3 March 09:00
    log.feed_back(c, T(2026, 3, 3, 9, 10))  # ten minutes late
    assert units()[u.code]["ontime_handled"] == 0
    scheme = EvaluationScheme.current()
    scheme.ontime_grace_minutes = 15
    assert units(scheme)[u.code]["ontime_handled"] == 1


def test_filed_score_bands_and_weights_from_scheme(demo_city):
    log = Log()
    u = log.u1
    for i in range(51):
        log.dispatched(T(2026, 3, 2, 9), u)
    scheme = EvaluationScheme.current()
    r = units(scheme)[u.code]
    assert r["filed"] == 51 and r["filed_score"] == 90
    scheme.unit_weights = {"filed": 100, "close_rate": 0, "ontime_handle_rate": 0, "rework_rate": 0}
    assert units(scheme)[u.code]["score"] == 90


def test_voided_cases_are_not_due(demo_city):
    log = Log()
    u = log.u1
    before = log.dispatched(T(2026, 3, 2, 9), u)  # voided before its deadline (3 March 09:00): never overdue
    log.ev(before, "void", T(2026, 3, 2, 15))
    after = log.dispatched(T(2026, 3, 2, 9), u)  # voided after its deadline passed: no longer the unit's to close
    log.ev(after, "void", T(2026, 3, 5, 9))
    r = units()[u.code]
    assert (r["filed"], r["overdue_unhandled"], r["due_closed"], r["close_rate"]) == (2, 0, 0, None)
