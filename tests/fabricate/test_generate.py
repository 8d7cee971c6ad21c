"""``urbangrid generate``: a consistent megacity dataset (replayable through the engine, intact hash chains,
evaluable) written in bulk, and clear refusals of nonsense parameters."""
import os
import random
import subprocess
import sys
from collections import Counter
from io import StringIO
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone
from ug_testing import MIGRATED, new_site

from urbangrid.assessment.evaluation.evaluate import evaluate
from urbangrid.assessment.periods import period_of
from urbangrid.cases import engine
from urbangrid.cases.models import Case, CaseEvent, CaseNumberSequence, CaseUnit
from urbangrid.cases.states import OPEN
from urbangrid.fabricate.demo.history import last_arrival
from urbangrid.grids.models import Region, ResponsibilityGrid, UnitGrid

ROOT = Path(__file__).resolve().parents[2]
CASES, GRIDS = 2000, 100


def _generate(*extra):
    call_command("generate", "--cases", str(CASES), "--grids", str(GRIDS), "--years", "1", "--seed", "7",
                 "--workers", "1", *extra, stdout=open(os.devnull, "w"))


@pytest.mark.django_db
def test_generated_dataset_is_what_the_workflow_would_produce(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    _generate()
    assert UnitGrid.objects.count() == GRIDS
    assert ResponsibilityGrid.objects.count() == 4  # 30 unit grids each, the last partial
    assert Region.objects.filter(level="community").count() == 4
    # valid, non-overlapping polygons covering the grid's bounding boxes
    from shapely.geometry import shape
    from shapely.strtree import STRtree

    polys = [shape(g.geometry) for g in UnitGrid.objects.order_by("pk")]
    assert all(p.is_valid and p.area > 0 for p in polys)
    tree = STRtree(polys)
    for i, p in enumerate(polys):
        overlapping = [j for j in tree.query(p) if j != i and polys[j].intersection(p).area > 1e-14]
        assert overlapping == [], i
    cases = list(Case.objects.order_by("pk"))
    assert len(cases) == CASES
    # nothing is dated after the moment of generating: the planned 0.1 % open, plus the cases in flight
    now = timezone.now()
    assert not CaseEvent.objects.filter(at__gt=now).exists()
    n_open = sum(c.state in OPEN for c in cases)
    assert 1 <= n_open <= CASES // 1000 + sum(c.created_at > now - timedelta(days=30) for c in cases)
    total = len(cases)
    assert 0.01 < sum(c.rework_count > 0 for c in cases) / total < 0.035  # ≈ 2 % rework
    for field in ("return_count", "extension_count", "suspension_count"):
        assert any(getattr(c, field) for c in cases), field
    assert 0.02 * total < sum(c.archive_type == "overdue" for c in cases) < 0.2 * total
    # every case's history replays through the engine to the stored case (version = its steps) and its keyed
    # hash chain verifies: ``audit verify`` checks both for every case
    out = StringIO()
    call_command("audit", "verify", "--quiet", stdout=out)
    assert f"已核验 {CASES} 个案件" in out.getvalue()
    assert not Case.objects.exclude(responsibility_grid_id=F("unit_grid__responsibility_grid_id")).exists()
    # dispatched units are linked, numbers continue in the sequence table
    dispatched = CaseEvent.objects.filter(action__in=("dispatch", "dispatch_second"), unit_id__isnull=False)
    assert CaseUnit.objects.count() == len(set(dispatched.values_list("case_id", "unit_id")))
    for seq in CaseNumberSequence.objects.all():
        assert Case.objects.filter(number__startswith=str(seq.year)).count() == seq.last
    # the standard evaluation runs over it with sane numbers
    last = max(c.created_at for c in cases).astimezone(timezone.get_current_timezone()).date()
    month = period_of("month", (last.replace(day=1) - timedelta(days=1)))
    ev = evaluate(month.start, month.end)
    units, regions = ev.units(), ev.regions("district")
    filed_events = CaseEvent.objects.filter(action="file", at__gte=month.start, at__lt=month.end).count()
    assert filed_events > 50
    assert sum(r["filed"] for r in regions) == filed_events
    assert sum(u["filed"] for u in units) >= filed_events * 0.9
    for u in units:
        assert u["close_rate"] is None or 0 <= u["close_rate"] <= 1
    rates = [r["ontime_close_rate"] for r in regions if r["ontime_close_rate"] is not None]
    assert rates and all(0.5 < r <= 1 for r in rates)
    positions = ev.positions()
    assert sum(p["indicators"].get("dispatched", 0) for p in positions) > 0
    year = period_of("year", last)
    assert sum(r["filed"] for r in evaluate(year.start, year.end).regions("district")) == \
        CaseEvent.objects.filter(action="file", at__gte=year.start, at__lt=year.end).count()


@pytest.mark.django_db
def test_no_step_is_dated_after_the_moment_of_generating(settings, tmp_path):
    """Generated at 03:15 on a Saturday (Beijing time), the arrivals end at 17:00 on Friday: cases filed late
    that afternoon would be dispatched on Monday. They are left in flight instead, and a year's evaluation
    at that moment counts every filing."""
    from urbangrid.fabricate.generate.build import Params, generate

    settings.VAR_DIR = tmp_path
    now = datetime(2026, 11, 28, 3, 15, tzinfo=timezone.get_current_timezone())  # a Saturday
    generate(Params(cases=600, grids=30, years=1, days=30, seed=3), log=lambda m: None, now=now)
    assert not CaseEvent.objects.filter(at__gt=now).exists()
    friday = datetime(2026, 11, 27, 12, tzinfo=now.tzinfo)
    in_flight = Case.objects.filter(created_at__gte=friday, state__in=OPEN)
    assert in_flight.exists()  # (the planned open cases are not 0.1 % of 600: max(1, …) = 1)
    year = period_of("year", now.date())
    assert sum(r["filed"] for r in evaluate(year.start, year.end, now=now).regions("district")) == \
        CaseEvent.objects.filter(action="file", at__gte=year.start).count()


@pytest.mark.django_db
def test_fast_path_builds_the_same_events_as_the_demo_history(settings, tmp_path):
    """The light objects give the same chains as the demo's history with model instances and services._event."""
    from urbangrid.fabricate.demo.history import _arrival_times, _Run
    from urbangrid.fabricate.generate.cases import GenRun

    settings.VAR_DIR = tmp_path
    call_command("generate", "--cases", "100", "--grids", "60", "--years", "1", "--workers", "1", stdout=open(os.devnull, "w"))
    now = timezone.now()
    end = last_arrival(now)
    fast, slow = GenRun(1, now), _Run(1, now)
    times = _arrival_times(random.Random(3), 300, end - timedelta(days=200), end, fast.cal)
    items = [(f"2099{i:07d}", at, i % 50 != 0) for i, at in enumerate(times)]
    cases, events, _links, _stats = fast.chunk(5, 0, 10_000_000, items)
    slow.rng = random.Random("generate-5-0")
    reference = [slow.run_case(n, at, finish) for n, at, finish in items]
    assert [c.chain_hash for c in cases] == [c.chain_hash for c in reference]
    assert [c.state for c in cases] == [c.state for c in reference]
    assert len(events) == len(slow.events) and Counter(e.action for e in events) == Counter(e.action for e in slow.events)
    # every column of every case row too (ids and tracking codes aside: the light path numbers them itself)
    skip = {"id", "tracking_code", "recurrence_of_id"}
    columns = [f.attname for f in Case._meta.concrete_fields if f.attname not in skip]
    number_of = {c.pk: c.number for c in cases}
    for fast_case, slow_case in zip(cases, reference):
        assert [getattr(fast_case, a) for a in columns] == [getattr(slow_case, a) for a in columns], fast_case.number
        fast_prev = number_of.get(fast_case.recurrence_of_id)
        assert fast_prev == (slow_case.recurrence_of.number if slow_case.recurrence_of is not None else None)


@pytest.mark.django_db
def test_a_generated_city_of_20000_cases_is_what_its_events_say(settings, tmp_path):
    """The replay consistency check (``audit verify``: keyed chains, and every stored case field recomputed from
    the events) over a generated city of 20,000 cases, on the database the suite runs on."""
    settings.VAR_DIR = tmp_path
    call_command("generate", "--cases", "20000", "--grids", "400", "--years", "1", "--seed", "11", "--workers", "1",
                 stdout=open(os.devnull, "w"))
    assert Case.objects.count() == 20_000
    out = StringIO()
    call_command("audit", "verify", "--quiet", stdout=out)
    assert "已核验 20000 个案件" in out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("args, message", [
    (["--cases", "-5", "--grids", "10"], "--cases"),
    (["--cases", "100", "--grids", "0"], "--grids"),
    (["--cases", "100", "--grids", "10", "--years", "0"], "--years"),
    (["--cases", "100", "--grids", "10", "--years", "11"], "--years"),
    (["--cases", "50", "--grids", "100"], "--grids"),
    (["--cases", "100", "--grids", "10", "--start", "2099-01-01"], "--start"),
    (["--cases", "100", "--grids", "10", "--start", "01/02/2024"], "--start"),
    (["--cases", "100", "--grids", "10", "--workers", "0"], "--workers"),
    (["--cases", "100", "--append"], "--append"),
    (["--cases", "100", "--grids", "10", "--append"], "--append"),
])
def test_nonsense_parameters_are_refused_and_nothing_is_written(args, message):
    with pytest.raises(CommandError, match=message.replace("-", r"\-")):
        call_command("generate", *args, stdout=open(os.devnull, "w"))
    assert not UnitGrid.objects.exists() and not Case.objects.exists() and not Region.objects.exists()


@pytest.mark.django_db
def test_a_non_empty_database_is_refused_unless_appending(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("generate", "--cases", "100", "--grids", "40", "--workers", "1", stdout=open(os.devnull, "w"))
    with pytest.raises(CommandError, match="--append"):
        call_command("generate", "--cases", "100", "--grids", "40", stdout=open(os.devnull, "w"))
    assert Case.objects.count() == 100
    # appending adds cases on the same city, numbers continue, chains stay intact
    call_command("generate", "--cases", "150", "--append", "--workers", "1", stdout=open(os.devnull, "w"))
    assert Case.objects.count() == 250 and UnitGrid.objects.count() == 40
    assert sum(CaseNumberSequence.objects.values_list("last", flat=True)) == 250
    call_command("audit", "verify", stdout=open(os.devnull, "w"))


def test_cli_exits_non_zero_with_a_clear_message(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "URBANGRID_VAR_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "urbangrid.cli", "generate", "--cases", "10", "--grids", "0"],
                          capture_output=True, text=True, env=env, cwd=ROOT)
    assert proc.returncode != 0
    assert "--grids" in proc.stderr



def test_working_time_axis_gives_the_same_instants_as_the_clock():
    """fastclock's axis against worktime.clock: additions (ending on a period's end stays there), deadlines
    in every unit, working time between two instants, on random and on boundary instants, with holidays
    and a working Saturday."""
    from datetime import date, time

    from urbangrid.fabricate.generate.fastclock import FastCalendar
    from urbangrid.worktime import clock as wt

    rng = random.Random(11)
    days = {date(2025, 10, 1) + timedelta(days=i): False for i in range(7)}
    days[date(2025, 10, 11)] = True
    for periods in (wt.DEFAULT_PERIODS, ((time(9), time(12)), (time(13), time(18))), ((time(0), time(23, 59, 59)),)):
        cal = wt.Calendar(days, periods)
        fast = FastCalendar(cal)
        for _ in range(3000):
            at = datetime(2025, 9, 1, tzinfo=wt.TZ) + timedelta(seconds=rng.randint(0, 90 * 86400), microseconds=rng.randint(0, 999_999))
            if rng.random() < 0.3:
                at = datetime.combine(at.date(), rng.choice(rng.choice(cal.periods)), wt.TZ)
            hours = engine.Decimal(str(round(rng.uniform(0, 60), rng.choice([0, 3, 4]))))
            assert fast.add(at, fast.hours_us(hours)).isoformat() == wt.add_working_time(at, hours, cal).isoformat()
            for value, unit in ((1, wt.WORKING_DAYS), (20, wt.WORKING_DAYS), (engine.Decimal("0.5"), wt.WORKING_DAYS),
                                (4, wt.WORKING_HOURS), (engine.Decimal("2"), wt.CALENDAR_HOURS)):
                assert fast.deadline(at, value, unit).isoformat() == wt.deadline(at, value, unit, cal).isoformat()
            other = at + timedelta(seconds=rng.randint(-20 * 86400, 20 * 86400))
            assert fast.between_us(at, other) == wt.working_timedelta(at, other, cal) // timedelta(microseconds=1)


def _small_run(settings, tmp_path, cases=60, grids=60):
    from urbangrid.fabricate.generate.cases import GenRun

    settings.VAR_DIR = tmp_path
    call_command("generate", "--cases", str(cases), "--grids", str(grids), "--years", "1", "--workers", "1",
                 stdout=open(os.devnull, "w"))
    return GenRun(1), last_arrival(timezone.now())


@pytest.mark.django_db
def test_every_fast_case_is_what_engine_apply_gives(settings, tmp_path):
    """Each of 3,000 cases (finished and open, with returns, extensions, suspensions, rework) is replayed
    through engine.apply and clock from the same random state: every value of the case and its events —
    states, stages, deadlines, stopped clocks with on-time, counters, hashes — must be the same."""
    from urbangrid.fabricate.demo.history import _arrival_times

    run, end = _small_run(settings, tmp_path)
    times = _arrival_times(random.Random(5), 3000, end - timedelta(days=300), end, run.cal)
    run.rng = random.Random("shapes")
    run.events, run.links, run.stats, run.next_pk = [], [], Counter(), 20_000_000
    for i, at in enumerate(times):
        item = (f"2098{i:07d}", at, i % 40 != 0)
        state, first = run.rng.getstate(), len(run.events)
        case = run.run_case(*item)
        run.check_shape(item, state, case, run.events[first:])  # raises HistoryError on any difference
    for action in ("request_extension", "approve_suspension", "resume", "check_fail", "approve_return", "dispatch_second",
                   "callback", "not_file", "void", "verify", "supervise"):
        assert run.stats[action] > 0, action
    ontime = Counter(r["on_time"] for e in run.events for r in e.data.get("stopped", ()))
    assert ontime[True] > 0 and ontime[False] > 0


@pytest.mark.django_db
def test_the_shape_check_notices_a_difference(settings, tmp_path):
    from urbangrid.fabricate.demo.history import HistoryError

    run, end = _small_run(settings, tmp_path)
    run.rng = random.Random("tamper")
    run.events, run.links, run.stats, run.next_pk = [], [], Counter(), 20_000_000
    item = ("20970000001", end - timedelta(days=30), True)
    state = run.rng.getstate()
    case = run.run_case(*item)
    run.check_shape(item, state, case, run.events)
    filed = next(e for e in run.events if e.action == "file")
    filed.deadline += timedelta(microseconds=1)
    with pytest.raises(HistoryError, match="differs"):
        run.check_shape(item, state, case, run.events)


@pytest.mark.django_db
def test_fast_rows_and_canonical_text_are_the_reference_ones(settings, tmp_path):
    """The fast writers give the reference writers' COPY text and executemany values (the JSON of ``data``
    as the same value), and the hand-built canonical JSON is chain.canonical's."""
    import json

    from django.db import connection

    from urbangrid.cases import chain
    from urbangrid.fabricate.demo.history import _arrival_times
    from urbangrid.fabricate.generate import cases as gen

    run, end = _small_run(settings, tmp_path)
    times = _arrival_times(random.Random(8), 600, end - timedelta(days=200), end, run.cal)
    cases, events, links, _stats = run.chunk(9, 0, 30_000_000, [(f"2096{i:07d}", at, i % 30 != 0) for i, at in enumerate(times)])
    for e in events:
        assert gen.canonical(e, e.case.number) == chain.canonical(e, e.case.number)
    for case in cases:
        assert chain.verify(case, [e for e in events if e.case is case]) is None
    data_col = gen.EVENT_COLUMNS.index("data")

    def split(payload):
        return [line.split("\t") for line in payload.decode("utf-8").splitlines()]

    ref, fast = gen.rows_copy(cases, events, links), gen.fast_rows_copy(cases, events, links)
    assert fast[0] == ref[0] and fast[2] == ref[2]
    ref_ev, fast_ev = split(ref[1]), split(fast[1])
    assert len(ref_ev) == len(fast_ev) == len(events)
    for r, f in zip(ref_ev, fast_ev):
        assert json.loads(f.pop(data_col)) == json.loads(r.pop(data_col)) and f == r
    if connection.vendor == "sqlite":
        ref, fast = gen.rows_tuples(cases, events, links, connection), gen.fast_rows_tuples(cases, events, links, connection)
        assert fast[0] == ref[0] and fast[2] == ref[2]
        for r, f in zip(ref[1], fast[1]):
            r, f = list(r), list(f)
            assert json.loads(f.pop(data_col)) == json.loads(r.pop(data_col)) and f == r


def test_cli_generates_with_worker_processes_on_sqlite(tmp_path):
    """Chunks from two worker processes into a SQLite file (a migrated site's); the chains verify. 6,000 cases
    are two chunks (5,000 and a partial 1,000), one for each worker: the pool path is what this adds, the cases
    themselves are the in-process path's, checked over 20,000 above."""
    env, _drop = new_site(tmp_path, "unused", MIGRATED, vendor="sqlite")
    run = [sys.executable, "-m", "urbangrid.cli"]
    proc = subprocess.run([*run, "generate", "--cases", "6000", "--grids", "200", "--workers", "2"],
                          capture_output=True, text=True, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "cases: 6000" in proc.stdout
    proc = subprocess.run([*run, "audit", "verify"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
