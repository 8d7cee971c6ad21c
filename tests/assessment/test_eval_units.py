"""部门评价 on hand-built event logs (March 2026, Asia/Shanghai)."""
import pytest

from eval_helpers import T, Log
from urbangrid.assessment.evaluation import Evaluation, period_of
from urbangrid.assessment.models import EvaluationScheme

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("both_sources")]
MARCH = period_of("month", T(2026, 3, 15).date())


def rows_by_code(rows):
    return {r["unit_code"]: r for r in rows}


def units(scheme=None):
    return rows_by_code(Evaluation(MARCH.start, MARCH.end, scheme=scheme).units())


def test_filed_closed_due_and_on_time(demo_city):
    log = Log()
    u = log.u1
    a = log.case()  # dispatched and fed back on time
    log.dispatch(a, T(2026, 3, 2, 9), u, T(2026, 3, 3, 9))
    log.feed_back(a, T(2026, 3, 2, 15), u, on_time=True)
    b = log.case()  # dispatched, deadline passes in March without feedback
    log.dispatch(b, T(2026, 3, 2, 10), u, T(2026, 3, 4, 10))
    c = log.case()  # dispatched in February, fed back late in March: handled, not filed in March
    log.dispatch(c, T(2026, 2, 27, 9), u, T(2026, 2, 27, 16))
    log.feed_back(c, T(2026, 3, 2, 9), u, on_time=False)
    d = log.case()  # dispatched in March, deadline in April: filed, nothing due yet
    log.dispatch(d, T(2026, 3, 31, 16), u, T(2026, 4, 1, 16))
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
    rf = rows_by_code(Evaluation(feb.start, feb.end).units())[u.code]
    assert (rf["filed"], rf["closed"], rf["overdue_unhandled"], rf["due_closed"]) == (1, 0, 1, 1)
    assert rf["close_rate"] == 0


def test_rework_counted_once_per_failed_check(demo_city):
    log = Log()
    u = log.u1
    c = log.case()
    log.dispatch(c, T(2026, 3, 2, 9), u, T(2026, 3, 3, 9))
    for day in (3, 5):
        log.feed_back(c, T(2026, 3, day, 9), u)
        log.ev(c, "send_check", T(2026, 3, day, 10), person=log.intake, stopped=[("send_check", True)], stage="check")
        log.ev(c, "check_fail", T(2026, 3, day, 11), person=log.inspector, unit=u, stopped=[("check", True)],
               stage="handle", deadline=T(2026, 3, day + 1, 11))
    log.feed_back(c, T(2026, 3, 9, 9), u, on_time=False)
    log.ev(c, "check_pass", T(2026, 3, 9, 11), person=log.inspector, stopped=[("check", True)], stage="close")
    r = units()[u.code]
    assert r["rework"] == 2
    assert r["closed"] == 1 and r["due_closed"] == 1
    assert r["rework_rate"] == 2  # 返工数 / 应结案数, as the standard defines it
    assert r["rework_rate_score"] == 0  # clamped, never negative
    assert (r["handled"], r["ontime_handled"]) == (3, 2)


def test_zero_denominators_score_full_marks(demo_city):
    log = Log()
    u = log.u2
    c = log.case()
    log.dispatch(c, T(2026, 3, 31, 17), u, T(2026, 4, 2, 17))
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
    paused = log.case()  # suspended before its deadline and still suspended at the end of March
    log.dispatch(paused, T(2026, 3, 10, 9), u, T(2026, 3, 11, 9))
    log.ev(paused, "approve_suspension", T(2026, 3, 10, 15), person=log.dispatcher, stage="handle",
           deadline=T(2026, 3, 11, 9))
    resumed_late = log.case()  # resumed; the moved deadline passes in March without feedback
    log.dispatch(resumed_late, T(2026, 3, 10, 9), u, T(2026, 3, 11, 9))
    log.ev(resumed_late, "approve_suspension", T(2026, 3, 10, 15), person=log.dispatcher, stage="handle",
           deadline=T(2026, 3, 11, 9))
    log.ev(resumed_late, "resume", T(2026, 3, 20, 9), person=log.dispatcher, stage="handle", deadline=T(2026, 3, 23, 9))
    resumed_april = log.case()  # resumed with a deadline in April
    log.dispatch(resumed_april, T(2026, 3, 10, 9), u, T(2026, 3, 11, 9))
    log.ev(resumed_april, "approve_suspension", T(2026, 3, 10, 15), person=log.dispatcher, stage="handle",
           deadline=T(2026, 3, 11, 9))
    log.ev(resumed_april, "resume", T(2026, 3, 31, 9), person=log.dispatcher, stage="handle", deadline=T(2026, 4, 2, 9))
    extended = log.case()  # an extension moves the deadline past the period
    log.dispatch(extended, T(2026, 3, 30, 9), u, T(2026, 3, 31, 9))
    log.ev(extended, "approve_extension", T(2026, 3, 30, 15), person=log.dispatcher, stage="handle",
           deadline=T(2026, 4, 1, 9))
    returned = log.case()  # returned after its deadline: no longer the unit's
    log.dispatch(returned, T(2026, 3, 2, 9), u, T(2026, 3, 3, 9))
    log.ev(returned, "approve_return", T(2026, 3, 4, 9), person=log.dispatcher, stopped=[("handle", False)],
           stage="dispatch")
    r = units()[u.code]
    assert r["filed"] == 5
    assert r["overdue_unhandled"] == 1  # only resumed_late
    assert r["due_closed"] == 1 and r["closed"] == 0 and r["close_rate"] == 0


def test_overdue_once_in_the_period_its_deadline_passed(demo_city):
    log = Log()
    u = log.u1
    c = log.case()
    log.dispatch(c, T(2026, 2, 26, 9), u, T(2026, 2, 28, 23, 59, 59))
    # deadline in February, still unhandled through March: overdue in February only
    assert units()[u.code]["overdue_unhandled"] == 0
    feb = period_of("month", T(2026, 2, 1).date())
    assert rows_by_code(Evaluation(feb.start, feb.end).units())[u.code]["overdue_unhandled"] == 1


def test_midnight_edges_in_shanghai(demo_city):
    log = Log()
    u = log.u1
    first = log.case()
    log.dispatch(first, T(2026, 3, 1, 0, 0, 0), u, T(2026, 3, 5, 9))  # 2026-02-28 16:00 UTC: March
    last = log.case()
    log.dispatch(last, T(2026, 2, 28, 23, 59, 59), u, T(2026, 3, 5, 9))  # February
    nxt = log.case()
    log.dispatch(nxt, T(2026, 4, 1, 0, 0, 0), u, T(2026, 4, 5, 9))  # April
    assert units()[u.code]["filed"] == 1
    day = period_of("day", T(2026, 3, 1).date())
    assert rows_by_code(Evaluation(day.start, day.end).units())[u.code]["filed"] == 1


def test_grace_minutes_rule(demo_city):
    log = Log()
    u = log.u1
    c = log.case()
    log.dispatch(c, T(2026, 3, 2, 9), u, T(2026, 3, 3, 9))
    log.ev(c, "feed_back", T(2026, 3, 3, 9, 10), unit=u, stopped=[("handle", False, T(2026, 3, 3, 9))], stage="send_check")
    assert units()[u.code]["ontime_handled"] == 0
    scheme = EvaluationScheme.current()
    scheme.ontime_grace_minutes = 15
    assert units(scheme)[u.code]["ontime_handled"] == 1


def test_filed_score_bands_and_weights_from_scheme(demo_city):
    log = Log()
    u = log.u1
    for i in range(51):
        c = log.case()
        log.dispatch(c, T(2026, 3, 2, 9), u, T(2026, 4, 30, 9))
    scheme = EvaluationScheme.current()
    r = units(scheme)[u.code]
    assert r["filed"] == 51 and r["filed_score"] == 90
    scheme.unit_weights = {"filed": 100, "close_rate": 0, "ontime_handle_rate": 0, "rework_rate": 0}
    assert units(scheme)[u.code]["score"] == 90


def test_voided_cases_are_not_due(demo_city):
    log = Log()
    u = log.u1
    before = log.case()  # voided before its deadline: never overdue
    log.dispatch(before, T(2026, 3, 2, 9), u, T(2026, 3, 3, 9))
    log.ev(before, "void", T(2026, 3, 2, 15), person=log.shift, stopped=[("handle", True)], from_state="handling",
           to_state="voided")
    after = log.case()  # voided after its deadline passed: no longer the unit's to close
    log.dispatch(after, T(2026, 3, 2, 9), u, T(2026, 3, 3, 9))
    log.ev(after, "void", T(2026, 3, 5, 9), person=log.shift, stopped=[("handle", False)], from_state="handling",
           to_state="voided")
    r = units()[u.code]
    assert (r["filed"], r["overdue_unhandled"], r["due_closed"], r["close_rate"]) == (2, 0, 0, None)
