"""Monthly and yearly standard evaluation (综合评价) on PostgreSQL against DuckDB on the same data, same run.

    .venv/bin/python bench/bench_evaluation.py [--sizes 3000000] [--days 365] [--grids 10000] [--workers N]
                                               [--repeat 2] [--sqlite-cases 20000] [--raw]

For each size (cases per year) the PostgreSQL database ``bench_eval`` is created (dropped first if a
previous run left it), migrated and filled by ``urbangrid generate`` at that yearly density over ``--days``
days (365: a full year; fewer: the same density over a shorter window, the year figure then extrapolated
linearly from the whole window and marked as such). Then:

- ours: the daily tallies (日统计, ``assessment/evaluation/tallies.py``) are built once after generation (timed:
  that is the nightly job's cost), then ``TallyEvaluation(start, end)`` with ``units()``, ``positions()``
  and ``regions()`` for all five levels, for a calendar month inside the window and for the year (the
  whole window); with ``--raw`` also ``EventEvaluation`` straight from the event log (checked equal);
- baseline: the case events joined with their case's source and regions exported from PostgreSQL
  (COPY … CSV), written to Parquet by DuckDB, then the same aggregation as SQL in DuckDB over the Parquet
  file: per-unit, per-post and per-region counts with the engine's on-time flags read from the JSON, the
  overdue handling clocks, on-time closures and handling times (calendar hours, where ours counts
  working hours). A cross-check compares the counts both sides must agree on.

Reported: best of ``--repeat`` runs, ratio ours ÷ DuckDB (goal ≤ 5) and the month's time (goal < 2 s at
3,000,000 cases a year), and generation speed (cases/s, events/s) on PostgreSQL and, with
``--sqlite-cases``, on a temporary SQLite file. Exits non-zero without PostgreSQL or DuckDB.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

DB = "bench_eval"
GOAL_RATIO, GOAL_MONTH_S = 5.0, 2.0
LEVELS = ("grid", "responsibility_grid", "community", "street", "district")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[3_000_000], help="cases per year (default 3000000)")
    p.add_argument("--days", type=int, default=365, help="days of data at that density (default 365, at least 62)")
    p.add_argument("--grids", type=int, default=10_000, help="unit grids (default 10000)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="generator processes")
    p.add_argument("--repeat", type=int, default=2, help="timed runs of each evaluation (best kept)")
    p.add_argument("--raw", action="store_true", help="also time the evaluation straight from the event log")
    p.add_argument("--sqlite-cases", type=int, default=20_000, help="cases for the SQLite generation speed (0: skip)")
    args = p.parse_args(argv)
    c.positive(p, args, "--grids", "--workers", "--repeat")
    for size in args.sizes:
        if size <= 0:
            p.error(f"--sizes must be positive whole numbers, got {size}")
    if not 62 <= args.days <= 365:
        p.error(f"--days must be between 62 (two months: one whole month inside) and 365, got {args.days}")
    if args.sqlite_cases < 0:
        p.error("--sqlite-cases must be 0 (skip) or positive")
    return args


def missing_baseline():
    problem = c.pg_missing()
    if problem:
        return problem
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return "DuckDB is not installed: pip install duckdb (the project's `bench` extra)"
    return None


# --- ours -------------------------------------------------------------------------------------------

def run_ours(start, end, raw=False):
    """Our evaluation of the period: from the daily tallies (the default), or ``raw`` from the event log."""
    from urbangrid.assessment.evaluation.rules import EventEvaluation
    from urbangrid.assessment.evaluation.tallies import TallyEvaluation
    from urbangrid.cases.models import CaseEvent

    t = time.perf_counter()
    ev = (EventEvaluation if raw else TallyEvaluation)(start, end)
    units, positions = ev.units(), ev.positions()
    regions = {level: ev.regions(level) for level in LEVELS}
    secs = time.perf_counter() - t
    events = CaseEvent.objects.filter(at__gte=start, at__lt=min(end, ev.eff_end)).count()
    return secs, {"units": units, "positions": positions, "regions": regions, "events": events}


# --- DuckDB -----------------------------------------------------------------------------------------

EXPORT = """COPY (SELECT e.case_id, e.seq, e.action, e.at AT TIME ZONE 'UTC' AS ts, e.actor_person_id AS person_id, e.role,
  e.unit_id, e.from_state, e.to_state, e.stage, e.deadline AT TIME ZONE 'UTC' AS deadline, e.data::text AS data,
  c.source, c.unit_grid_id, c.responsibility_grid_id, c.community_id, c.street_id, c.district_id,
  c.self_handled::int AS self_handled
  FROM cases_caseevent e JOIN cases_case c ON c.id = e.case_id) TO STDOUT WITH (FORMAT csv, HEADER)"""
COLUMNS = {"case_id": "BIGINT", "seq": "INTEGER", "action": "VARCHAR", "ts": "TIMESTAMP", "person_id": "BIGINT",
           "role": "VARCHAR", "unit_id": "BIGINT", "from_state": "VARCHAR", "to_state": "VARCHAR", "stage": "VARCHAR",
           "deadline": "TIMESTAMP", "data": "VARCHAR", "source": "VARCHAR", "unit_grid_id": "BIGINT",
           "responsibility_grid_id": "BIGINT", "community_id": "BIGINT", "street_id": "BIGINT", "district_id": "BIGINT",
           "self_handled": "INTEGER"}


def export_parquet(tmp):
    """PostgreSQL → CSV (COPY) → Parquet (DuckDB); returns (path, seconds, bytes)."""
    import duckdb
    import psycopg

    t = time.perf_counter()
    csv = tmp / "events.csv"
    with psycopg.connect(**c.PG, dbname=DB) as conn, conn.cursor() as cur, open(csv, "wb") as out:
        with cur.copy(EXPORT) as copy:
            for chunk in copy:
                out.write(chunk)
    parquet = tmp / "events.parquet"
    cols = ", ".join(f"'{k}': '{v}'" for k, v in COLUMNS.items())
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{csv}', header=true, columns={{{cols}}})) TO '{parquet}' (FORMAT parquet)")
    csv.unlink()
    return parquet, time.perf_counter() - t, parquet.stat().st_size


def _on_time(stage):
    """The engine's on-time flag for ``stage`` from the event's JSON (true/false, or NULL when not stopped)."""
    return (f"list_bool_or(list_transform(list_filter(CAST(json_extract(data, '$.stopped') AS JSON[]), "
            f"lambda x: json_extract_string(x, '$.stage') = '{stage}'), lambda x: CAST(json_extract(x, '$.on_time') AS BOOLEAN)))")


def duck_queries(parquet, start, end, lookback_days):
    """The evaluation's aggregation in SQL; returns {name: sql}."""
    s, e = start.astimezone(_utc()).replace(tzinfo=None), end.astimezone(_utc()).replace(tzinfo=None)
    lb = s - timedelta(days=lookback_days)
    src = f"read_parquet('{parquet}')"
    counted = ("'report','send_verify','verify','accept','file','dispatch','dispatch_second','approve_return',"
               "'feed_back','send_check','check_pass','check_fail','close','void'")
    w = f"(SELECT * FROM {src} WHERE ts >= TIMESTAMP '{s}' AND ts < TIMESTAMP '{e}' AND action IN ({counted}))"
    q = {}
    q["units"] = f"""SELECT unit_id,
        count(DISTINCT case_id) FILTER (WHERE action IN ('dispatch','dispatch_second')) AS filed,
        count(*) FILTER (WHERE action = 'feed_back') AS handled,
        count(*) FILTER (WHERE action = 'feed_back' AND {_on_time('handle')}) AS ontime_handled,
        count(DISTINCT case_id) FILTER (WHERE action = 'feed_back') AS closed,
        count(*) FILTER (WHERE action = 'check_fail') AS rework
      FROM {w} WHERE unit_id IS NOT NULL GROUP BY unit_id"""
    q["positions"] = f"""SELECT person_id, action, count(*) AS n,
        count(*) FILTER (WHERE coalesce(CASE action WHEN 'verify' THEN {_on_time('verify')}
          WHEN 'check_pass' THEN {_on_time('check')} WHEN 'check_fail' THEN {_on_time('check')}
          WHEN 'send_verify' THEN {_on_time('accept')} WHEN 'send_check' THEN {_on_time('send_check')}
          WHEN 'file' THEN {_on_time('file')} WHEN 'close' THEN {_on_time('close')}
          WHEN 'dispatch' THEN {_on_time('dispatch')} WHEN 'dispatch_second' THEN {_on_time('second_dispatch')} END, false)) AS ontime
      FROM {w} WHERE person_id IS NOT NULL AND (action <> 'report' OR source = 'inspector') GROUP BY person_id, action"""
    q["valid_reports"] = f"""SELECT r.person_id, count(*) FROM {w} r
      WHERE r.action = 'report' AND r.source = 'inspector' AND EXISTS (SELECT 1 FROM {src} f WHERE f.case_id = r.case_id
        AND (f.action = 'file' OR (f.action = 'accept' AND f.to_state <> 'pending_filing'))) GROUP BY r.person_id"""
    q["voided_after_filing"] = f"""SELECT f.person_id, count(*) FROM {w} f WHERE f.action = 'file' AND EXISTS
      (SELECT 1 FROM {src} v WHERE v.case_id = f.case_id AND v.action = 'void'
       AND v.from_state NOT IN ('reported','verifying','pending_filing')) GROUP BY f.person_id"""
    q["returned_after_dispatch"] = f"""SELECT d.person_id, count(*) FROM {src} r JOIN {w} d ON d.case_id = r.case_id
      AND d.action IN ('dispatch','dispatch_second') AND d.seq = (SELECT max(d2.seq) FROM {w} d2 WHERE d2.case_id = r.case_id
        AND d2.action IN ('dispatch','dispatch_second') AND d2.seq < r.seq)
      WHERE r.action = 'approve_return' AND r.ts >= TIMESTAMP '{s}' GROUP BY d.person_id"""
    # handling clocks whose deadline passed before the period's end (in it or earlier: overdue in every period it
    # stays so) and that were not stopped (nor paused) by its end
    q["overdue_clocks"] = f"""WITH cand AS (SELECT DISTINCT case_id FROM {src} WHERE action IN
        ('dispatch','dispatch_second','check_fail','approve_extension','resume') AND ts >= TIMESTAMP '{lb}'
        AND ts < TIMESTAMP '{e}' AND stage = 'handle' AND deadline < TIMESTAMP '{e}'),
      evs AS (SELECT x.* FROM {src} x SEMI JOIN cand USING (case_id) WHERE x.ts < TIMESTAMP '{e}' AND x.action IN
        ('dispatch','dispatch_second','check_fail','approve_extension','resume','approve_suspension','feed_back',
         'approve_return','void')),
      last AS (SELECT case_id, arg_max(action, seq) AS action, arg_max(deadline, seq) FILTER (WHERE action IN
        ('dispatch','dispatch_second','check_fail','approve_extension','resume')) AS deadline,
        arg_max(unit_id, seq) FILTER (WHERE action IN ('dispatch','dispatch_second','check_fail')) AS unit_id
        FROM evs GROUP BY case_id)
      SELECT l.case_id, l.unit_id, c.district_id, c.street_id, c.community_id, c.responsibility_grid_id, c.unit_grid_id
      FROM last l JOIN (SELECT DISTINCT case_id, district_id, street_id, community_id, responsibility_grid_id, unit_grid_id
                        FROM {src} SEMI JOIN cand USING (case_id)) c USING (case_id)
      WHERE l.action NOT IN ('feed_back','approve_return','void','approve_suspension')
        AND l.deadline < TIMESTAMP '{e}'"""
    # cases closed in the period (自行处置 cases apart, as the default scheme counts them): on time when no clock
    # up to the close was late; handling hours
    q["closed"] = f"""WITH closing AS (SELECT case_id, max(seq) AS close_seq FROM {w} WHERE action = 'close'
        AND self_handled = 0 GROUP BY case_id),
      evs AS (SELECT x.*, closing.close_seq FROM {src} x JOIN closing USING (case_id) WHERE x.seq <= closing.close_seq),
      marked AS (SELECT *, last_value(CASE WHEN action IN ('dispatch','dispatch_second','check_fail') AND stage = 'handle'
          THEN ts END IGNORE NULLS) OVER (PARTITION BY case_id ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
          AS clock_start FROM evs)
      SELECT case_id, any_value(district_id) AS district_id, any_value(street_id) AS street_id,
        any_value(community_id) AS community_id, any_value(responsibility_grid_id) AS responsibility_grid_id,
        any_value(unit_grid_id) AS unit_grid_id,
        NOT bool_or(coalesce(list_bool_or(list_transform(CAST(json_extract(data, '$.stopped') AS JSON[]),
          lambda x: NOT CAST(json_extract(x, '$.on_time') AS BOOLEAN))), false)) AS ontime,
        sum(epoch(ts) - epoch(clock_start)) FILTER (WHERE action IN ('feed_back','approve_return','void')) AS handle_seconds
      FROM marked GROUP BY case_id"""
    for level in LEVELS:
        col = {"grid": "unit_grid_id"}.get(level, f"{level}_id")
        q[f"regions_{level}"] = f"""SELECT {col},
            count(*) FILTER (WHERE action = 'verify' AND CAST(json_extract(data, '$.confirmed') AS BOOLEAN)) AS verified,
            count(*) FILTER (WHERE action = 'file') AS filed,
            count(DISTINCT case_id) FILTER (WHERE action = 'close' AND self_handled = 0) AS closed
          FROM {w} GROUP BY {col}"""
    return q


def _utc():
    from datetime import timezone

    return timezone.utc


def run_duck(con, queries):
    """Run every query (the closed/overdue results are grouped by each region level as ours does); returns (s, results)."""
    t = time.perf_counter()
    out = {name: con.sql(sql).fetchall() for name, sql in queries.items()}
    # per-level rollups of the closed and overdue case lists, as ours does in Python after its queries
    for level, idx in (("district", 1), ("street", 2), ("community", 3), ("responsibility_grid", 4), ("grid", 5)):
        roll = {}
        for row in out["closed"]:
            r = roll.setdefault(row[idx], [0, 0, 0.0])
            r[0] += 1
            r[1] += bool(row[6])
            r[2] += row[7] or 0
        out[f"closed_{level}"] = roll
    return time.perf_counter() - t, out


def cross_check(ours, duck):
    """Counts both must agree on: filed per district, handled/filed/rework per unit, closed per district."""
    from urbangrid.grids.models import Region
    from urbangrid.org.models import Unit

    problems = []
    code_of_region = dict(Region.objects.values_list("pk", "code"))
    duck_filed = {code_of_region.get(k): n for k, _v, n, _c in duck["regions_district"]}
    for row in ours["regions"]["district"]:
        if row["filed"] != duck_filed.get(row["code"], 0):
            problems.append(f"filed in {row['code']}: {row['filed']} vs {duck_filed.get(row['code'], 0)}")
        if row["closed"] != duck["closed_district"].get(next(k for k, v in code_of_region.items() if v == row["code"]), [0])[0]:
            problems.append(f"closed in {row['code']}")
    code_of_unit = dict(Unit.objects.values_list("pk", "code"))
    duck_units = {code_of_unit.get(r[0]): r for r in duck["units"]}
    for row in ours["units"]:
        d = duck_units.get(row["unit_code"], (None, 0, 0, 0, 0, 0))
        if (row["filed"], row["handled"], row["ontime_handled"], row["closed"], row["rework"]) != tuple(d[1:]):
            problems.append(f"unit {row['unit_code']}: {row['filed'], row['handled'], row['ontime_handled'], row['closed'], row['rework']} vs {tuple(d[1:])}")
    overdue_ours = sum(r["overdue_unhandled"] for r in ours["units"])
    # the SQL baseline skips clocks that went overdue and were paused later: a few percent fewer
    if abs(overdue_ours - len(duck["overdue_clocks"])) > max(2, overdue_ours // 10):
        problems.append(f"overdue clocks: {overdue_ours} vs {len(duck['overdue_clocks'])}")
    return problems


# --- the run ----------------------------------------------------------------------------------------

def sqlite_generation(n, grids):
    """Generation speed on a temporary SQLite file, through the command line."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/gen.sqlite3", "URBANGRID_VAR_DIR": tmp}
        urbangrid = [sys.executable, "-m", "urbangrid.cli"]
        subprocess.run([*urbangrid, "migrate", "-v0"], env=env, check=True, cwd=c.ROOT)
        t = time.perf_counter()
        out = subprocess.run([*urbangrid, "generate", "--cases", str(n), "--grids", str(min(grids, n)), "--years", "1"],
                             env=env, check=True, cwd=c.ROOT, capture_output=True, text=True).stdout
        wall = time.perf_counter() - t
    fields = dict(line.strip().split(": ", 1) for line in out.splitlines() if line.startswith("  ") and ": " in line)
    return {"cases": int(fields["cases"]), "events": int(fields["events"]), "history_seconds": float(fields["history_seconds"]),
            "cases_per_second": int(fields["cases_per_second"]), "events_per_second": int(fields["events_per_second"]),
            "wall": wall}


def main(argv=None):
    args = parse_args(argv)
    problem = missing_baseline()
    if problem:
        print(f"bench_evaluation: cannot measure against the baseline: {problem}", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="bench_eval_"))
    c.point_django_at(tmp, c.pg_url(DB))
    import django
    import duckdb

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    from urbangrid.assessment.periods import period_of
    from urbangrid.fabricate.generate.build import Params, generate
    from urbangrid.worktime import clock as wt

    results, sqlite_speed = [], None
    try:
        if args.sqlite_cases:
            c.log(f"SQLite generation speed: {args.sqlite_cases} cases")
            sqlite_speed = sqlite_generation(args.sqlite_cases, args.grids)
        for size in args.sizes:
            n = round(size * args.days / 365)
            connections.close_all()
            c.pg_create(DB)
            call_command("migrate", verbosity=0)
            c.log(f"generating {n} cases ({size}/year over {args.days} days), {args.grids} grids, {args.workers} workers")
            t = time.perf_counter()
            summary = generate(Params(cases=n, grids=args.grids, years=1, days=args.days, workers=args.workers),
                               log=c.log)
            gen_wall = time.perf_counter() - t
            with connection.cursor() as cur:
                cur.execute("SELECT pg_total_relation_size('cases_caseevent'), pg_total_relation_size('cases_case')")
                ev_bytes, case_bytes = cur.fetchone()
                cur.execute("SELECT min(created_at), max(created_at) FROM cases_case")
                first, last = cur.fetchone()
            # a month wholly inside the window, and the year (or the whole shorter window)
            end_day = last.astimezone(wt.TZ).date()
            month = period_of("month", end_day.replace(day=1) - timedelta(days=1))  # the last whole month
            from datetime import datetime

            w_start = datetime.combine(first.astimezone(wt.TZ).date(), datetime.min.time(), wt.TZ)
            w_end = datetime.combine(end_day + timedelta(days=1), datetime.min.time(), wt.TZ)
            periods = {"month": (month.start, month.end), "year" if args.days >= 365 else f"window ({args.days} d)": (w_start, w_end)}
            from urbangrid.assessment.evaluation import tallies

            c.log("building the daily tallies (日统计)")
            t = time.perf_counter()
            tally_events = tallies.rebuild()
            tally_s = time.perf_counter() - t
            c.log(f"  {tally_events:,} events tallied in {tally_s:.1f} s")
            c.log("exporting to Parquet")
            parquet, export_s, parquet_bytes = export_parquet(tmp)
            con = duckdb.connect()
            from urbangrid.assessment.models import EvaluationScheme

            lookback = int(EvaluationScheme.current().deadline_lookback_days)
            row = {"size": size, "cases": summary["cases"], "events": summary["events"], "gen_wall": gen_wall,
                   "gen": summary, "event_bytes": ev_bytes, "case_bytes": case_bytes, "export_s": export_s,
                   "parquet_bytes": parquet_bytes, "tally_s": tally_s, "tally_events": tally_events, "periods": {}}
            for name, (s, e) in periods.items():
                c.log(f"evaluating {name}: {s:%Y-%m-%d} – {e:%Y-%m-%d}")
                ours_t, ours = [], None
                for _ in range(args.repeat):
                    secs, ours = run_ours(s, e)
                    ours_t.append(secs)
                queries = duck_queries(parquet, s, e, lookback)
                duck_t, duck = [], None
                for _ in range(args.repeat):
                    secs, duck = run_duck(con, queries)
                    duck_t.append(secs)
                problems = cross_check(ours, duck)
                raw_s = None
                if args.raw:
                    raw_s, raw = run_ours(s, e, raw=True)
                    for key in ("units", "positions", "regions"):
                        if raw[key] != ours[key]:
                            problems.append(f"tallies differ from the raw events in {key}")
                row["periods"][name] = {"start": s, "end": e, "events": ours["events"], "ours": min(ours_t),
                                        "duck": min(duck_t), "raw": raw_s, "problems": problems}
                c.log(f"  ours {min(ours_t):.2f} s, DuckDB {min(duck_t):.2f} s, cross-check: {problems[:3] or 'ok'}")
            con.close()
            parquet.unlink()
            results.append(row)
    finally:
        connections.close_all()
        c.pg_drop(DB)
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    report(args, results, sqlite_speed)
    return 0


def report(args, results, sqlite_speed):
    print("## Standard evaluation at megacity scale (postgres)\n")
    print(f"- Command: `{c.command()}`")
    for line in c.machine("postgres"):
        print(f"- {line.replace(c.BENCH_DB, DB)}")
    import duckdb

    print(f"- DuckDB {duckdb.__version__} (in process, default threads) over Parquet exported from the same database in the same run")
    print(f"- Data: `urbangrid generate` with {args.grids} unit grids, {args.workers} generator processes; "
          f"{args.days} days at each yearly density\n")
    print("| cases/year | period | events in period | ours (s) | DuckDB (s) | ratio ours ÷ DuckDB | goal | raw events (s) | cross-check |")
    print("|---:|---|---:|---:|---:|---:|---|---:|---|")
    for r in results:
        for name, p in r["periods"].items():
            ratio = p["ours"] / p["duck"] if p["duck"] else float("inf")
            goal = f"≤ {GOAL_RATIO:g}×" + (f", < {GOAL_MONTH_S:g} s" if name == "month" else "")
            met = ratio <= GOAL_RATIO and (name != "month" or r["size"] < 3_000_000 or p["ours"] < GOAL_MONTH_S)
            print(f"| {r['size']:,} | {name} {p['start']:%Y-%m-%d}–{(p['end'] - timedelta(days=1)):%Y-%m-%d} | {p['events']:,} | "
                  f"{p['ours']:.2f} | {p['duck']:.2f} | **{ratio:.2f}** | {goal}: {'met' if met else 'not met'} | "
                  f"{'-' if p['raw'] is None else format(p['raw'], '.1f')} | "
                  f"{'ok' if not p['problems'] else '; '.join(p['problems'][:2])} |")
    print("\n| cases/year | cases generated | events | generation (s) | cases/s | events/s | event table + indexes | case table + indexes | Parquet export (s) | tally build (s) | tallied events/s |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        g = r["gen"]
        print(f"| {r['size']:,} | {r['cases']:,} | {r['events']:,} | {r['gen_wall']:.0f} | {g['cases_per_second']:,} | "
              f"{g['events_per_second']:,} | {r['event_bytes'] / 2**20:,.0f} MiB | {r['case_bytes'] / 2**20:,.0f} MiB | "
              f"{r['export_s']:.0f} | {r['tally_s']:.0f} | {r['tally_events'] / max(r['tally_s'], 1e-9):,.0f} |")
    if sqlite_speed:
        s = sqlite_speed
        print(f"\nSQLite generation (temporary file, one process): {s['cases']:,} cases, {s['events']:,} events in "
              f"{s['history_seconds']:.1f} s: **{s['cases_per_second']:,} cases/s, {s['events_per_second']:,} events/s**.")
    print("\n```json")
    print(json.dumps([{k: v for k, v in r.items() if k != "periods"} | {"periods": {n: {k: (str(v) if k in ("start", "end") else v)
                     for k, v in p.items()} for n, p in r["periods"].items()}} for r in results], default=str, indent=1))
    print("```")


if __name__ == "__main__":
    sys.exit(main())
