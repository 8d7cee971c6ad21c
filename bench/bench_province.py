"""The province's pages (省级驾驶舱, 城市综合评价排名, drill-down) with 20 cities' data, beside a trivial page of the same
server, in the same run.

    .venv/bin/python bench/bench_province.py [--cities 20] [--days 365] [--scale 0.05] [--repeat 5] [--rounds 3]

Fills the scratch PostgreSQL database ``bench_province`` (created and dropped here), migrated, directly with COPY:
for ``--cities`` cities, ``--days`` days up to today at a province's density of 15 M cases a year (750,000 a city)
times ``--scale`` (the machine's limit: the default 0.05 is 103 cases a city and day, 750,000 summaries for the
year), ProvinceCase rows (states, times, counts and 8 steps each, shaped like a generated city's), one
ProvinceTallyDay a city and day with ``round(1000 × scale)`` ProvinceRegionDay and 20 ProvinceUnitDay rows, and 100
batches a city; then ANALYZE (the shared server runs without autovacuum).

Timed through Django's test client (the whole request: middleware, session of a superuser, view, template), each
``--repeat`` times in ``--rounds`` rounds after one untimed request, the baseline first in each round:

- baseline: ``GET /healthz`` (the same server's trivial page);
- ``GET /province/`` (the dashboard, the running month), ``GET /province/evaluation.json`` for the last whole month,
  the last whole quarter and the running year, ``GET /province/cities/{code}/cases/`` (page 1, and page 1 of the
  overdue filter).

Printed: median and best milliseconds, the ratio median ÷ the baseline's median, the queries per request and the
slowest query of each page (the SQL's start and its time, from one extra captured request).
"""
import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

DB = "bench_province"
PROVINCE_CASES_PER_YEAR = c.PROVINCE_CASES_PER_YEAR
STATES = [("closed", 0.82), ("handling", 0.05), ("fed_back", 0.02), ("checking", 0.02), ("pending_close", 0.01),
          ("pending_dispatch", 0.01), ("not_filed", 0.04), ("voided", 0.03)]
ACTIONS = ["report", "accept", "file", "dispatch", "feed_back", "send_check", "check_pass", "close"]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cities", type=int, default=20, help="cities (default 20)")
    p.add_argument("--days", type=int, default=365, help="days of data up to today (default 365)")
    p.add_argument("--scale", type=float, default=0.05, help="share of 15 M cases a year filled (default 0.05)")
    p.add_argument("--repeat", type=int, default=5, help="timed requests per page and round (default 5)")
    p.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    p.add_argument("--keep", action="store_true", help="keep the database bench_province afterwards (to EXPLAIN)")
    args = p.parse_args(argv)
    c.positive(p, args, "--cities", "--days", "--repeat", "--rounds")
    if not 0 < args.scale <= 1:
        p.error(f"--scale must be in (0, 1], got {args.scale}")
    return args


def cases_per_city_day(cities, scale):
    return PROVINCE_CASES_PER_YEAR * scale / 365 / cities


def pick(rng, weighted):
    x, acc = rng.random(), 0.0
    for value, w in weighted:
        acc += w
        if x < acc:
            return value
    return weighted[-1][0]


def case_row(rng, city_id, n, code, reported, now):
    """One ProvinceCase row (COPY order of CASE_COLUMNS) reported at ``reported``; the case's later times are
    those of a generated city's (minutes to file and dispatch, a 2-day handling clock, rework 1 in 20)."""
    state = pick(rng, STATES)
    filed = dispatched = fed = closed = deadline = None
    if state not in ("not_filed", "voided"):
        filed = reported + timedelta(minutes=rng.uniform(5, 60))
    if filed and state != "pending_dispatch":
        dispatched = filed + timedelta(minutes=rng.uniform(5, 60))
        deadline = dispatched + timedelta(days=2)
    if dispatched and state not in ("handling",):
        fed = dispatched + timedelta(hours=rng.expovariate(1 / 30))
    if state == "closed":
        closed = fed + timedelta(hours=rng.uniform(1, 8))
    if state not in ("closed", "not_filed", "voided") and dispatched and reported < now - timedelta(days=10):
        # an old case is closed by now (a generated city's are within days), leaving the recent ones open
        fed = fed or dispatched + timedelta(hours=rng.expovariate(1 / 30))
        state, closed = "closed", fed + timedelta(hours=4)
    # a case of the last hours has not got that far yet
    if filed is not None and filed > now:
        state, filed, dispatched, deadline, fed, closed = "pending_filing", None, None, None, None, None
    elif dispatched is not None and dispatched > now:
        state, dispatched, deadline, fed, closed = "pending_dispatch", None, None, None, None
    elif any(t is not None and t > now for t in (fed, closed)):
        state, fed, closed = "handling", None, None
    late = deadline is not None and (fed or now) > deadline
    archive = ("overdue" if late else "normal") if state == "closed" else ""
    satisfaction = pick(rng, [("satisfied", 0.3), ("basic", 0.08), ("dissatisfied", 0.02), ("", 0.6)]) \
        if state == "closed" else ""
    rework = 1 if rng.random() < 0.05 else 0
    steps, at = [], reported
    for seq, action in enumerate(ACTIONS[:3 + (dispatched is not None) + (fed is not None) * 2 + (closed is not None) * 2], 1):
        at = at + timedelta(minutes=seq * 7)
        steps.append([1000 * n + seq, seq, action, "", "", at.isoformat(), "handle", None, None])
    district = f"4101{(n % 5) + 2:02d}"
    grid = f"{district}{n % 997:03d}{n % 113:03d}{n % 7:03d}"
    return (city_id, f"{code}{reported:%Y%m%d}{n:06d}", len(steps), pick(rng, [("inspector", 0.6), ("hotline_12345", 0.3),
            ("public_app", 0.1)]), "gbt47678.5-2026", f"0{rng.randint(1, 6)}0{rng.randint(1, 9)}",
            pick(rng, [("event", 0.7), ("component", 0.3)]), "normal", state, archive, satisfaction, grid,
            grid[:12], grid[:12], grid[:9], district, f"U{n % 60:03d}", rng.random() < 0.1, rng.random() < 0.02,
            reported, filed, dispatched, fed, closed, deadline, closed or fed or dispatched or reported,
            json.dumps({"rework": rework, "return": 0, "extension": 0, "suspension": 0, "supervision": 0, "reopen": 0}),
            json.dumps(steps), now)


CASE_COLUMNS = ("city_id", "number", "version", "source", "catalog_version", "class_code", "kind", "urgency", "state",
                "archive_type", "satisfaction", "unit_grid", "responsibility_grid", "community", "street", "district",
                "current_unit", "self_handled", "is_supervised", "reported_at", "filed_at", "dispatched_at",
                "fed_back_at", "closed_at", "handle_deadline", "updated_at", "counts", "steps", "received_at")


def fill_province(args, log=c.log):
    """The cities' data by COPY, then ANALYZE; {table: rows}."""
    # Django's modules only once main() has set the environment up (the settings read the database from it)
    from django.db import connection
    from django.utils import timezone

    from urbangrid.province.evaluation import TZ
    from urbangrid.province.models import (ProvinceBatch, ProvinceCase, ProvinceCity, ProvinceRegionDay,
                                           ProvinceTallyDay, ProvinceUnitDay)
    from urbangrid.province.wire import REGION_COUNTS, UNIT_COUNTS

    rng = random.Random(2024)
    now = timezone.now()
    today = timezone.localtime(now, TZ).date()
    per_day = cases_per_city_day(args.cities, args.scale)
    cities = [ProvinceCity.objects.create(code=f"41{i + 1:02d}00", name=f"城市{i + 1:02d}", key="k" * 40,
                                          lon=112.0 + i * 0.3, lat=33.0 + (i % 5) * 0.5, last_sequence=100,
                                          last_cursor=10**6, last_received_at=now - timedelta(minutes=i * 5),
                                          events_received=10**6) for i in range(args.cities)]
    counts = dict.fromkeys(("cases", "tally days", "region days", "unit days", "batches"), 0)
    region_rows = max(1, round(1000 * args.scale))
    with connection.cursor() as cur:
        raw = cur.cursor
        table = ProvinceCase._meta.db_table
        # day by day, the cities in turn: the order a province receives its cities' batches in (a table filled
        # city after city would sit in city order, which the planner's (city, time) choices would not meet)
        numbers = dict.fromkeys((city.pk for city in cities), 0)
        with raw.copy(f'COPY "{table}" ({", ".join(CASE_COLUMNS)}) FROM STDIN') as cp:
            for d in range(args.days, -1, -1):
                day = today - timedelta(days=d)
                start = datetime.combine(day, datetime.min.time(), TZ)
                for city in cities:
                    k = int(per_day) + (1 if rng.random() < per_day - int(per_day) else 0)
                    for _ in range(k):
                        reported = start + timedelta(seconds=rng.uniform(8 * 3600, 18 * 3600))
                        if reported > now:
                            continue
                        numbers[city.pk] += 1
                        cp.write_row(case_row(rng, city.pk, numbers[city.pk], city.code, reported, now))
        counts["cases"] = sum(numbers.values())
        log(f"  {counts['cases']:,} case summaries")
        rcols = ["city_id", "day", "unit_grid", "responsibility_grid", "community", "street", "district", "self_handled",
                 *REGION_COUNTS]
        ucols = ["city_id", "day", "unit", *UNIT_COUNTS]
        tcols = ["city_id", "day", "computed_at", "events", "grace_minutes", "received_at"]
        with raw.copy(f'COPY "{ProvinceTallyDay._meta.db_table}" ({", ".join(tcols)}) FROM STDIN') as cp:
            for city in cities:
                for d in range(args.days, 0, -1):
                    cp.write_row((city.pk, today - timedelta(days=d), now, int(per_day * 8.3), 0, now))
                    counts["tally days"] += 1
        with raw.copy(f'COPY "{ProvinceRegionDay._meta.db_table}" ({", ".join(rcols)}) FROM STDIN') as cp:
            for city in cities:
                for d in range(args.days, 0, -1):
                    for g in range(region_rows):
                        grid = f"410102{g:09d}"
                        cp.write_row((city.pk, today - timedelta(days=d), grid, grid[:12], grid[:12], grid[:9], grid[:6],
                                      False, *(rng.randint(0, 3) for _ in REGION_COUNTS)))
                        counts["region days"] += 1
        with raw.copy(f'COPY "{ProvinceUnitDay._meta.db_table}" ({", ".join(ucols)}) FROM STDIN') as cp:
            for city in cities:
                for d in range(args.days, 0, -1):
                    for u in range(20):
                        cp.write_row((city.pk, today - timedelta(days=d), f"U{u:03d}",
                                      *(rng.randint(0, 10) for _ in UNIT_COUNTS)))
                        counts["unit days"] += 1
        bcols = ["city_id", "sequence", "cursor_from", "cursor_to", "payload_version", "digest", "cases", "steps",
                 "tallies", "built_at", "received_at"]
        with raw.copy(f'COPY "{ProvinceBatch._meta.db_table}" ({", ".join(bcols)}) FROM STDIN') as cp:
            for city in cities:
                for s in range(1, 101):
                    at = now - timedelta(minutes=101 - s)
                    cp.write_row((city.pk, s, (s - 1) * 10_000, s * 10_000, 1, "0" * 64, 300, 2000, 0, at, at))
                    counts["batches"] += 1
        cur.execute("ANALYZE")
    return counts, cities


def periods(today):
    """The timed evaluation periods: the last whole month, the last whole quarter, the running year."""
    first = today.replace(day=1)
    last_month = first - timedelta(days=1)
    q_first = today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1)
    return [("month", last_month), ("quarter", q_first - timedelta(days=1)), ("year", today)]


def time_pages(client, pages, repeat, rounds):
    """{label: [ms]} over ``rounds`` rounds, each page ``repeat`` times after one untimed request; and
    {label: (queries, slowest query's ms, its SQL start)} from one captured request each."""
    # imported here, after django.setup() in main()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = {label: [] for label, _url in pages}
    loads = []
    for label, url in pages:
        resp = client.get(url)
        assert resp.status_code == 200, (url, resp.status_code)
    for _r in range(rounds):
        loads.append(os.getloadavg()[0])
        for label, url in pages:
            for _i in range(repeat):
                t = time.perf_counter()
                resp = client.get(url)
                times[label].append(1000 * (time.perf_counter() - t))
                assert resp.status_code == 200, (url, resp.status_code)
    loads.append(os.getloadavg()[0])
    queries = {}
    for label, url in pages:
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        slow = max(ctx.captured_queries, key=lambda q: float(q["time"]), default={"time": "0", "sql": ""})
        queries[label] = (len(ctx.captured_queries), 1000 * float(slow["time"]), slow["sql"][:160])
    return times, queries, loads


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    problem = c.pg_missing()
    if problem:
        print(f"Cannot run the province benchmark: {problem}", file=sys.stderr)
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="urbangrid-bench-province-"))
    c.point_django_at(tmp, c.pg_url(DB))
    os.environ.pop("URBANGRID_REDIS_URL", None)
    try:
        c.pg_create(DB)
        import django  # only now: the settings read the database and var directory from the environment above

        django.setup()
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.test import Client
        from django.utils import timezone

        from urbangrid.province.evaluation import TZ

        settings.ALLOWED_HOSTS = ["*"]
        settings.PASSWORD_HASHERS = c.MD5
        call_command("migrate", verbosity=0)
        c.log(f"filling {args.cities} cities over {args.days} days at {args.scale:g} × 15 M cases a year")
        load0 = os.getloadavg()[0]
        t = time.perf_counter()
        counts, cities = fill_province(args)
        fill_s, fill_load = time.perf_counter() - t, (load0, os.getloadavg()[0])
        user = get_user_model().objects.create_superuser("province", "p@example.org", "x")
        client = Client()
        client.force_login(user)
        today = timezone.localtime(timezone.now(), TZ).date()
        code = cities[0].code
        pages = [("baseline: GET /healthz", "/healthz"),
                 ("GET /province/ (dashboard, running month)", "/province/"),
                 *[(f"GET /province/evaluation.json?period={k}&date={d}", f"/province/evaluation.json?period={k}&date={d}")
                   for k, d in periods(today)],
                 (f"GET /province/cities/{code}/cases/ (page 1)", f"/province/cities/{code}/cases/"),
                 (f"GET /province/cities/{code}/cases/?overdue=1", f"/province/cities/{code}/cases/?overdue=1")]
        c.log("timing the pages")
        times, queries, loads = time_pages(client, pages, args.repeat, args.rounds)
    finally:
        from django.conf import settings as s  # here: Django may not have been set up when setup failed

        if s.configured:
            from django.db import connections

            connections.close_all()
        if not args.keep:
            c.pg_drop(DB)
        shutil.rmtree(tmp, ignore_errors=True)

    per_day = cases_per_city_day(args.cities, args.scale)
    c.print_header(f"Province pages with {args.cities} cities' data", "postgres", [
        f"Data (COPY, then ANALYZE, in {fill_s:.0f} s; load average {fill_load[0]:.2f} → {fill_load[1]:.2f}): "
        f"{args.cities} cities × {args.days + 1} days up to today at {args.scale:g} × {PROVINCE_CASES_PER_YEAR:,} cases a "
        f"year ({per_day:,.0f} a city and day; full density is {cases_per_city_day(args.cities, 1):,.0f}): "
        + ", ".join(f"{n:,} {what}" for what, n in counts.items()),
        f"Django test client, a superuser's session; {args.rounds} rounds × {args.repeat} requests a page after one "
        f"untimed request; load average (1 min) at each round's start and the end: "
        + " → ".join(f"{x:.2f}" for x in loads)], db_name=DB)
    base = statistics.median(times[pages[0][0]])
    print("| request | median ms | best ms | ratio to the baseline (median) | queries | slowest query (ms) |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, _url in pages:
        med = statistics.median(times[label])
        nq, slow_ms, _sql = queries[label]
        print(f"| {label} | {med:,.1f} | {min(times[label]):,.1f} | {med / base:,.0f} | {nq} | {slow_ms:,.1f} |")
    print("\nThe slowest query of each page:\n")
    for label, _url in pages[1:]:
        print(f"- {label}: `{queries[label][2]}…`")
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
