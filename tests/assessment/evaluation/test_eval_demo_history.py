"""The evaluation over the demo's generated history: consistency with the log and a query bound."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from urbangrid.assessment.evaluation.rules import EventEvaluation
from urbangrid.assessment.periods import period_of
from urbangrid.cases.models import Case, CaseEvent
from urbangrid.worktime import clock
from demo_snapshot import build_demo


@pytest.mark.django_db
def test_month_of_demo_history_bounded_queries(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    build_demo(seed=11, log=lambda m: None, history=True, cases=3000)
    last = CaseEvent.objects.order_by("-at").values_list("at", flat=True).first()
    month = period_of("month", last.date().replace(day=1) - timedelta(days=40))
    ev = EventEvaluation(month.start, month.end)  # the reference: raw events
    # a process that has not read the working calendar yet (as after a restored snapshot; a fresh build has read
    # it): its two reads, days and periods, are counted in the bound below
    clock.invalidate_calendar()
    with CaptureQueriesContext(connection) as ctx:
        units = ev.units()
        positions = ev.positions()
        regions = {lv: ev.regions(lv) for lv in ("grid", "responsibility_grid", "community", "street", "district")}
    assert len(ctx.captured_queries) <= 19, [q["sql"][:120] for q in ctx.captured_queries]
    # the number of queries does not grow with the period (a quarter has three times the events)
    quarter = period_of("quarter", month.first_day)
    q_ev = EventEvaluation(quarter.start, quarter.end)
    with CaptureQueriesContext(connection) as q_ctx:
        q_ev.units(), q_ev.positions(), [q_ev.regions(lv) for lv in ("grid", "responsibility_grid", "community", "street",
                                                                      "district")]
    assert len(q_ev.events) > len(ev.events) and len(q_ctx.captured_queries) <= len(ctx.captured_queries) + 2
    # every read of the event table is bounded by the period: by time, or by the period's case ids
    for q in ctx.captured_queries:
        sql = q["sql"]
        if 'FROM "cases_caseevent"' in sql:
            assert '"at" >=' in sql or '"at" <' in sql or '"case_id" IN (' in sql, sql[:300]
    window = CaseEvent.objects.filter(at__gte=month.start, at__lt=month.end)
    # units: dispatches to units and failed checks match the log
    assert sum(u["rework"] for u in units) == window.filter(action="check_fail").count()
    assert sum(u["handled"] for u in units) == window.filter(action="feed_back").count()
    assert all(u["closed"] <= u["due_closed"] for u in units)
    # every level sums to the same totals; 自行处置 closures are listed apart (the default scheme's reading)
    filed = window.filter(action="file").count()
    closed_ids = window.filter(action="close").values("case_id")
    self_closed = Case.objects.filter(pk__in=closed_ids, self_handled=True).count()
    closed = window.filter(action="close").values("case_id").distinct().count() - self_closed
    assert self_closed > 0  # the history has some: the split is not vacuous
    for lv, rows in regions.items():
        assert sum(r["filed"] for r in rows) == filed, lv
        assert sum(r["closed"] for r in rows) == closed, lv
        assert sum(r["self_handled_closed"] for r in rows) == self_closed, lv
        assert all(r["ontime_closed"] <= r["closed"] <= r["due_closed"] for r in rows), lv
    # 按期结案 agrees with the engine's archive type for cases closed once in the month
    ontime = sum(r["ontime_closed"] for r in regions["district"])
    normal = Case.objects.filter(pk__in=closed_ids, archive_type="normal", self_handled=False).count()
    assert ontime == normal
    # positions: 派遣员 dispatches by people (the automatic dispatches have no person)
    dispatched = sum(r["indicators"]["dispatched"] for r in positions if r["role"] == "dispatcher")
    assert dispatched == window.filter(action__in=("dispatch", "dispatch_second"), actor_person__isnull=False).count()
    assert {r["role"] for r in positions} == {"inspector", "intake_operator", "shift_lead", "dispatcher"}
    assert all(r["grade"] in "ABCDE" for r in positions + units + regions["district"])
