"""日统计: the evaluation from the daily tallies equals the raw-event reference, stays current as events
arrive (now or in the past), follows the scheme's grace, and reads a bounded number of rows."""
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from urbangrid.assessment.evaluation import tallies
from urbangrid.assessment.evaluation.rules import EventEvaluation, LEVELS
from urbangrid.assessment.evaluation.evaluate import evaluation_for
from urbangrid.assessment.periods import Period, _midnight, period_of
from urbangrid.assessment.models import CaseFact, EvaluationScheme, PostDay, RegionDay, TallyDay, UnitDay
from urbangrid.assessment.evaluation.tallies import TallyEvaluation
from urbangrid.cases.models import Case, CaseEvent
from demo_snapshot import build_demo

from eval_helpers import Log, T

pytestmark = pytest.mark.django_db


def tables(ev):
    return {"units": ev.units(), "positions": ev.positions(), **{lv: ev.regions(lv) for lv in LEVELS}}


def assert_same(p, scheme=None):
    ref = tables(EventEvaluation(p.start, p.end, scheme=scheme))
    tallies.ensure_fresh(p.first_day, p.last_day, scheme=scheme)  # the worker's step (requests never tally)
    ev = TallyEvaluation(p.start, p.end, scheme=scheme)
    assert not ev.missing, (p.label(), ev.missing)
    got = tables(ev)
    for name in ref:
        assert got[name] == ref[name], (p.label(), name)
    return ref


def custom(a, b):
    return Period(_midnight(a), _midnight(b + timedelta(days=1)))


def test_tallies_equal_the_event_log_on_the_demo_history(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    build_demo(seed=11, log=lambda m: None, history=True, cases=3000)
    last = tallies.local_day(CaseEvent.objects.order_by("-at").values_list("at", flat=True).first())
    first = tallies.local_day(CaseEvent.objects.order_by("at").values_list("at", flat=True).first())
    busy = last.replace(day=1) - timedelta(days=40)
    periods = [period_of("month", busy), period_of("quarter", busy), period_of("week", busy), period_of("day", busy),
               custom(busy - timedelta(days=17), busy + timedelta(days=9)),  # across a month boundary
               custom(first, last), period_of("month", last)]
    totals = {}
    for p in periods:
        ref = assert_same(p)
        totals[p] = sum(r["filed"] for r in ref["district"]), sum(r["closed"] for r in ref["units"])
    # the comparisons were not vacuous: the busy month has filings, closings, overdue clocks and repeats
    month = periods[0]
    assert totals[month][0] > 50 and totals[month][1] > 50
    assert CaseFact.objects.filter(kind="clock").exists()
    assert CaseFact.objects.filter(kind__in=("filed_again", "fed_again", "returned")).exists()
    for model in (UnitDay, RegionDay, PostDay):
        assert model.objects.filter(day__gte=month.first_day, day__lte=month.last_day).exists()
    assert TallyDay.objects.filter(day__gte=first, day__lte=last).count() == (last - first).days + 1

    # once tallied, a month and the whole history read about the same number of queries
    def count(p):
        with CaptureQueriesContext(connection) as ctx:
            tables(TallyEvaluation(p.start, p.end))
        return len(ctx.captured_queries)

    # (the whole history adds the count checks of the last two days and the look-ups of its overdue clocks)
    assert count(custom(first, last)) <= count(month) + 4
    assert count(month) <= 30

    # a rebuild from scratch gives the same rows
    def rows():
        return [sorted(m.objects.values_list(*[f.name for f in m._meta.fields if f.name != "id"])) for m in (UnitDay, RegionDay, PostDay)]

    before = rows()
    call_command("tallies", "rebuild", "--from", str(first), "--to", str(last))
    assert rows() == before

    # a grace of a day makes more stages on time: the tallies follow the scheme
    scheme = EvaluationScheme.current()
    scheme.pk = None
    scheme.name, scheme.ontime_grace_minutes = "宽限", 24 * 60
    scheme.save()
    ref = assert_same(month, scheme=EvaluationScheme.current())
    assert TallyDay.objects.filter(day=month.first_day, grace_minutes=24 * 60).exists()
    assert sum(r["ontime_closed"] for r in ref["district"]) >= 1


def test_new_events_now_and_in_the_past_are_counted(demo_city):
    log = Log()
    past = custom(T(2026, 3, 1).date(), T(2026, 3, 31).date())
    assert_same(past)
    assert not TallyDay.objects.exists()  # no events yet: days before the first event hold nothing to tally
    log.case(T(2026, 3, 1, 9))  # the first event: from here on every day is tallied
    assert_same(past)
    tallied_at = TallyDay.objects.get(day=T(2026, 3, 10).date()).computed_at
    untouched = TallyDay.objects.get(day=T(2026, 3, 20).date()).computed_at
    # events written later with times in that month (an import of history) re-tally their days only
    a = log.case(T(2026, 3, 10, 9))
    log.ev(a, "accept", T(2026, 3, 10, 9, 30))
    log.ev(a, "file", T(2026, 3, 10, 10))
    log.dispatch(a, T(2026, 3, 10, 11), log.u1)  # due 11 March 11:00 (1 工作日)
    ref = assert_same(past)
    assert TallyDay.objects.get(day=T(2026, 3, 10).date()).computed_at > tallied_at
    assert TallyDay.objects.get(day=T(2026, 3, 20).date()).computed_at == untouched  # their days only
    assert sum(u["overdue_unhandled"] for u in ref["units"]) >= 1  # the clock went overdue on the 11th
    log.feed_back(a, T(2026, 3, 12, 9))  # late
    ref = assert_same(past)
    assert sum(u["overdue_unhandled"] for u in ref["units"]) == 0
    # today's events, through the factory the pages use
    now = timezone.now()
    b = log.case(now - timedelta(minutes=5))
    log.ev(b, "accept", now - timedelta(minutes=4, seconds=30))
    log.ev(b, "file", now - timedelta(minutes=4))
    month = period_of("month", tallies.local_day(now))
    call_command("tallies", "build", "--from", str(month.first_day))  # as the worker would: pages never tally
    ev = evaluation_for(month.start, month.end)
    assert isinstance(ev, TallyEvaluation) and not ev.missing
    filed = sum(r["filed"] for r in ev.regions("district"))
    assert filed == CaseEvent.objects.filter(action="file", at__gte=month.start).count() >= 1
    assert_same(month)
    # the periodic task re-tallies a day that gained events since
    from urbangrid.assessment.tasks import refresh_tallies

    log.dispatch(b, now - timedelta(minutes=1), log.u2)
    assert str(tallies.local_day(now)) in refresh_tallies.call_local()
    assert UnitDay.objects.filter(day=tallies.local_day(now), unit=log.u2.pk, filed=1).exists()


def test_reclosed_case_counts_once_with_its_last_verdict(demo_city):
    log = Log()
    c = log.dispatched(T(2026, 4, 1, 10), log.u1)  # reported, accepted and filed on time just before; due 2 April 10:00
    log.feed_back(c, T(2026, 4, 1, 15))  # on time
    log.close(c, T(2026, 4, 1, 16))  # checked and closed within the hour after the feedback: on time
    log.ev(c, "callback", T(2026, 4, 8, 8, 30), satisfaction="dissatisfied")
    log.ev(c, "reopen", T(2026, 4, 8, 9))
    log.dispatch(c, T(2026, 4, 8, 10), log.u1)  # on time (the reopening started the dispatch clock); due 9 April 10:00
    log.feed_back(c, T(2026, 4, 9, 15))  # late
    log.close(c, T(2026, 4, 10, 9))
    for p in (custom(T(2026, 4, 1).date(), T(2026, 4, 30).date()), custom(T(2026, 4, 5).date(), T(2026, 4, 30).date()),
              custom(T(2026, 4, 1).date(), T(2026, 4, 3).date())):
        ref = assert_same(p)
        district = next(r for r in ref["district"] if r["closed"])
        assert district["closed"] == 1
        unit = next(r for r in ref["units"] if r["unit_code"] == log.u1.code)
        assert unit["closed"] == 1 and unit["filed"] == 1
    april = assert_same(custom(T(2026, 4, 1).date(), T(2026, 4, 30).date()))
    district = next(r for r in april["district"] if r["closed"])
    assert district["ontime_closed"] == 0  # the last close followed a late feedback
    early = assert_same(custom(T(2026, 4, 1).date(), T(2026, 4, 3).date()))
    assert next(r for r in early["district"] if r["closed"])["ontime_closed"] == 1
    assert Case.objects.filter(pk=c.pk).exists()


def test_cli_refuses_bad_dates_and_writes_nothing():
    for args in (("--from", "2026-05-02", "--to", "2026-05-01"), ("--from", "2026-13-01")):
        with pytest.raises(CommandError):
            call_command("tallies", "rebuild", *args)
    assert not TallyDay.objects.exists()
