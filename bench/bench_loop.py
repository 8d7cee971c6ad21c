"""Full-loop throughput of the case service layer against the Django ORM floor, in the same run.

    .venv/bin/python bench/bench_loop.py [--db sqlite|postgres] [--cases 300] [--no-photos] [--raw] [--profile]

Builds the demo city on a scratch database (a temporary SQLite file, or the PostgreSQL database
``bench_urbangrid``, created and dropped here), then runs N cases through the whole loop with
``services.report`` / ``services.transition`` and the demo logins' real actors (``actor_for``):
report → accept → file → dispatch → feed_back → send_check → check_pass → close, 8 transitions a case,
with a small in-memory JPEG on report, feed_back and check_pass (``--no-photos``: none, and
``require_photos=False``). Baseline (goal, issue 18: transitions/s ≥ 0.5 of it): the Django ORM floor,
``transaction.atomic()`` around one ORM create (an event) and one ORM update (a case) on the same database and
settings, what any Django service pays at least per transaction; measured for 10 s in ``--rounds`` parts, each
before one part of the loop, so that a shared machine's changing load falls on both alike (every part's rate is
printed, so drift shows).
``--raw`` also measures the database's own floor, as before 2026-12-04 (goal then ≥ 0.3 of it): pgbench's
TPC-B-like TPS (``pgbench -i -s 1``, then ``pgbench -c 1 -j 1 -T 10`` on the scratch database
``bench_pgbench``) for PostgreSQL; for SQLite, commits per second of Python's sqlite3 doing one INSERT + one
UPDATE per transaction (WAL, synchronous=FULL, BEGIN IMMEDIATE like the application), and the loop and that
baseline again with synchronous=NORMAL. ``--profile`` runs the loop once more under cProfile and prints the
top functions by own time and the project's functions by cumulative time.
Demo logins are hashed with MD5 in this process (setup speed only; no login is timed).
"""
import argparse
import cProfile
import io
import pstats
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

GOAL, RAW_GOAL = 0.5, 0.3
FLOOR_SECONDS = 10.0
WARMUP_CASES = 3
ACTIONS = ["report", "accept", "file", "dispatch", "feed_back", "send_check", "check_pass", "close"]
PGBENCH_DB = "bench_pgbench"


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--cases", type=int, default=300, help="cases run through the whole loop (default 300)")
    p.add_argument("--no-photos", action="store_true", help="no photos (require_photos=False)")
    p.add_argument("--rounds", type=int, default=5, help="parts the loop and the floor are interleaved in (default 5)")
    p.add_argument("--raw", action="store_true", help="also the raw database baseline (pgbench or sqlite3)")
    p.add_argument("--profile", action="store_true", help="also profile the loop (cProfile) and print the top functions")
    args = p.parse_args(argv)
    c.positive(p, args, "--cases", "--rounds")
    if args.rounds > args.cases:
        p.error("--rounds must not exceed --cases")
    return args


def run_loop(n, photos):
    """Run n cases through the loop; returns (seconds, {action: seconds})."""
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile

    from urbangrid.cases import services
    from urbangrid.cases.states import Source
    from urbangrid.catalog.models import CatalogClass
    from urbangrid.org.scope import actor_for

    User = get_user_model()
    who = {login: actor_for(User.objects.get(username=login))
           for login in ("inspector", "intake_operator", "shift_lead", "dispatcher", "unit_handler")}
    cls = CatalogClass.objects.select_related("version").get(version__code="local-demo", code="0401", active=True)
    unit = c.handler_unit()
    image = c.jpeg_bytes()

    def pics():
        return [SimpleUploadedFile("photo.jpg", image, "image/jpeg")] if photos else []

    steps = [  # (action, login, inputs, with photo)
        ("accept", "intake_operator", {}, False), ("file", "shift_lead", {}, False),
        ("dispatch", "dispatcher", {"unit": unit, "opinion": "请速处置"}, False),
        ("feed_back", "unit_handler", {"opinion": "已回填修复"}, True), ("send_check", "intake_operator", {}, False),
        ("check_pass", "inspector", {"opinion": "已修复"}, True), ("close", "shift_lead", {}, False),
    ]
    spent = dict.fromkeys(ACTIONS, 0.0)
    clock = time.perf_counter
    started = clock()
    for _ in range(n):
        t = clock()
        case, _created = services.report(
            who["inspector"], catalog_class=cls, lon=c.INSIDE_WG01[0], lat=c.INSIDE_WG01[1],
            description="路面出现塌陷，约一平方米", source=Source.INSPECTOR, photos=pics(), require_photos=photos)
        spent["report"] += clock() - t
        for action, login, inputs, photo in steps:
            t = clock()
            services.transition(who[login], case.number, action, inputs, photos=pics() if photo else (),
                                require_photos=photos)
            spent[action] += clock() - t
    return clock() - started, spent


def check_closed(n):
    from urbangrid.cases.models import Case, CaseEvent

    closed, events = Case.objects.filter(state="closed").count(), CaseEvent.objects.count()
    assert closed == n and events == 8 * n, f"expected {n} closed cases and {8 * n} events, got {closed} and {events}"


def sqlite_baseline(path, seconds=5.0, synchronous="FULL"):
    """Commits per second: BEGIN IMMEDIATE; INSERT; UPDATE; COMMIT (WAL, synchronous=FULL like the server)."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(f"PRAGMA synchronous={synchronous}")
    con.execute("CREATE TABLE event (id INTEGER PRIMARY KEY, case_id INTEGER, note TEXT)")
    con.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)")
    con.execute("INSERT INTO counter VALUES (1, 0)")
    commits, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO event (case_id, note) VALUES (?, ?)", (commits, "baseline"))
        con.execute("UPDATE counter SET n = n + 1 WHERE id = 1")
        con.execute("COMMIT")
        commits += 1
    con.close()
    return commits / elapsed, f"Python sqlite3: BEGIN IMMEDIATE; INSERT; UPDATE; COMMIT for {seconds:g} s"


_FLOOR_MODELS = []


def floor_models():
    """Two scratch models (declared once per process): an event row and a counter row."""
    if not _FLOOR_MODELS:
        from django.db import models

        class FloorEvent(models.Model):
            case_id = models.IntegerField()
            note = models.TextField()

            class Meta:
                app_label = "core"
                db_table = "bench_floor_event"

        class FloorCounter(models.Model):
            n = models.IntegerField()

            class Meta:
                app_label = "core"
                db_table = "bench_floor_counter"

        _FLOOR_MODELS.extend([FloorEvent, FloorCounter])
    return _FLOOR_MODELS


def orm_floor(seconds=FLOOR_SECONDS):
    """The least any Django service can do per transaction on the benchmark's own database and settings:
    ``transaction.atomic()`` around one ORM ``create`` (an event) and one ORM ``update`` (a case), on two scratch
    tables. The goal's baseline: a transition reads the case and writes more."""
    from django.db import connection, transaction
    from django.db.models import F

    FloorEvent, FloorCounter = floor_models()
    with connection.schema_editor() as editor:
        editor.create_model(FloorEvent)
        editor.create_model(FloorCounter)
    try:
        FloorCounter.objects.create(pk=1, n=0)
        commits, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            with transaction.atomic():
                FloorEvent.objects.create(case_id=commits, note="floor")
                FloorCounter.objects.filter(pk=1).update(n=F("n") + 1)
            commits += 1
        assert FloorCounter.objects.get(pk=1).n == commits
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(FloorEvent)
            editor.delete_model(FloorCounter)
    return commits / elapsed


def pgbench_baseline(pgbench):
    conn = ["-h", c.PG["host"], "-p", str(c.PG["port"]), "-U", c.PG["user"]]
    c.pg_create(PGBENCH_DB)
    try:
        subprocess.run([pgbench, *conn, "-i", "-s", "1", "-q", PGBENCH_DB], check=True, capture_output=True, timeout=300)
        out = subprocess.run([pgbench, *conn, "-c", "1", "-j", "1", "-T", "10", PGBENCH_DB], check=True,
                             capture_output=True, text=True, timeout=120).stdout
    finally:
        c.pg_drop(PGBENCH_DB)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    if tps is None:
        raise RuntimeError(f"no TPS in pgbench's output:\n{out}")
    return float(tps.group(1)), "pgbench TPC-B-like: `pgbench -i -s 1`, then `pgbench -c 1 -j 1 -T 10`"


def profile_loop(n, photos, top=15):
    """The loop of ``n`` cases under cProfile: (top functions by own time, the project's functions by cumulative
    time), each a list of (share of the profiled time, calls per transition, function)."""
    prof = cProfile.Profile()
    prof.enable()
    run_loop(n, photos)
    prof.disable()
    stats = pstats.Stats(prof, stream=io.StringIO())
    total = max(v[3] for v in stats.stats.values()) or 1.0  # the outermost call's cumulative time
    transitions = 8 * n
    own = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:top]
    ours = sorted(((f, v) for f, v in stats.stats.items() if "/urbangrid/" in f[0] and "/bench/" not in f[0]),
                  key=lambda kv: -kv[1][3])[:top]
    return ([(v[2] / total, v[1] / transitions, where(f)) for f, v in own],
            [(v[3] / total, v[1] / transitions, where(f)) for f, v in ours])


def where(func):
    path, line, name = func
    if path == "~":
        return name
    parts = Path(path).parts
    for anchor in ("urbangrid", "django", "psycopg", "PIL"):
        if anchor in parts:
            parts = parts[parts.index(anchor):]
            break
    return f"{'/'.join(parts[-3:])}:{line} {name}"


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    pgbench = None
    if args.db == "postgres":
        pgbench = c.pgbench_path() if args.raw else None
        problem = c.pg_missing() or (None if pgbench or not args.raw else
                                     "pgbench not found (PATH or /usr/lib/postgresql/*/bin) for --raw")
        if problem:
            print(f"Cannot run the PostgreSQL benchmark: {problem}", file=sys.stderr)
            return 1
    tmp = Path(tempfile.mkdtemp(prefix="urbangrid-bench-loop-"))
    raw = relaxed = profiled = None
    photos = not args.no_photos
    try:
        if args.db == "postgres":
            c.pg_create(c.BENCH_DB)
        t = time.perf_counter()
        c.setup_django(args.db, tmp)
        setup_s = time.perf_counter() - t
        c.log(f"warming up with {WARMUP_CASES} cases, then {args.rounds} rounds of the ORM floor for "
              f"{FLOOR_SECONDS / args.rounds:g} s and {args.cases // args.rounds} cases")
        run_loop(WARMUP_CASES, photos)
        floors, parts, seconds, spent = [], [], 0.0, dict.fromkeys(ACTIONS, 0.0)
        for r in range(args.rounds):  # interleaved, so a shared machine's changing load falls on both alike
            floors.append(orm_floor(FLOOR_SECONDS / args.rounds))
            n = args.cases // args.rounds + (1 if r < args.cases % args.rounds else 0)
            s, part = run_loop(n, photos)
            parts.append(8 * n / s)
            seconds += s
            spent = {a: spent[a] + part[a] for a in ACTIONS}
        check_closed(WARMUP_CASES + args.cases)
        if args.raw:
            c.log("measuring the raw database baseline")
            raw = sqlite_baseline(tmp / "baseline.sqlite3") if args.db == "sqlite" else pgbench_baseline(pgbench)
            if args.db == "sqlite":  # what synchronous=FULL costs: the same loop and baseline with NORMAL, same run
                from urbangrid.core.bulk import relaxed_durability

                c.log("the loop and the baseline again with synchronous=NORMAL")
                with relaxed_durability():
                    normal_s, _spent = run_loop(args.cases, photos)
                relaxed = (normal_s, sqlite_baseline(tmp / "baseline-normal.sqlite3", synchronous="NORMAL")[0])
        if args.profile:
            c.log(f"profiling the loop ({min(args.cases, 100)} cases)")
            profiled = profile_loop(min(args.cases, 100), photos)
    finally:
        c.teardown(args.db, tmp)

    transitions = 8 * args.cases
    rate = transitions / seconds
    floor = statistics.mean(floors)
    photo_words = "a 64×48 JPEG (Pillow, in memory) on report, feed_back and check_pass" if photos else \
        "none (`require_photos=False`)"
    c.print_header("Case loop through the service layer", args.db, [
        f"Demo city (seed 2024) built in {setup_s:.0f} s incl. migrations; PASSWORD_HASHERS = MD5 in the benchmark "
        "process (setup speed; no login is timed)",
        f"Loop: report → accept → file → dispatch → feed_back → send_check → check_pass → close, one case at a time, "
        f"{WARMUP_CASES} untimed warm-up cases; actors from `actor_for`, built once per login; photos: {photo_words}",
        f"Baseline: the Django ORM floor, `atomic()` around one `create` + one `update`, measured in {args.rounds} parts "
        f"of {FLOOR_SECONDS / args.rounds:g} s, each before one part of the loop ({args.rounds} parts; floor per part: "
        + ", ".join(f"{f:,.0f}" for f in floors) + " TPS; their mean below); the loop per part: "
        + ", ".join(f"{p:,.0f}" for p in parts) + " transitions/s; the ratio per part: "
        + ", ".join(f"{p / f:.2f}" for p, f in zip(parts, floors))])
    print("| measurement | cases | transitions | seconds | rate | ratio to the ORM floor |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| UrbanGrid `services.report` + `services.transition` | {args.cases:,} | {transitions:,} | {seconds:.2f} | "
          f"{rate:,.1f} transitions/s | **{c.ratio(rate, floor):.2f}** (goal ≥ {GOAL}: {c.verdict(c.ratio(rate, floor), GOAL)}) |")
    print(f"| Django ORM floor: `atomic()` around one `create` + one `update` (no case logic) | | | | "
          f"{floor:,.1f} TPS | 1.00 |")
    if raw:
        base_tps, base_what = raw
        print(f"| raw database: {base_what} | | | | {base_tps:,.1f} TPS | {c.ratio(base_tps, floor):.2f} (the loop: "
              f"{c.ratio(rate, base_tps):.2f} of it, old goal ≥ {RAW_GOAL}) |")
    if relaxed:
        normal_rate = transitions / relaxed[0]
        print(f"| the same loop with synchronous=NORMAL (bulk loads only; not the server) | {args.cases:,} | "
              f"{transitions:,} | {relaxed[0]:.2f} | {normal_rate:,.1f} transitions/s | FULL/NORMAL "
              f"{rate / normal_rate:.2f} |")
        print(f"| raw baseline with synchronous=NORMAL | | | | {relaxed[1]:,.1f} TPS | FULL/NORMAL {raw[0] / relaxed[1]:.2f} |")
    print("\n| action | ms per call (mean) | share of loop time |")
    print("|---|---:|---:|")
    for action in ACTIONS:
        print(f"| {action} | {1000 * spent[action] / args.cases:.2f} | {spent[action] / seconds:.0%} |")
    print()
    if profiled:
        own, ours = profiled
        print("Profile of the loop (cProfile; shares of the profiled time, calls per transition):\n")
        print("| top functions by own time | share | calls/transition |\n|---|---:|---:|")
        for share, calls, func in own:
            print(f"| `{func}` | {share:.1%} | {calls:.2f} |")
        print("\n| the project's functions by cumulative time | share | calls/transition |\n|---|---:|---:|")
        for share, calls, func in ours:
            print(f"| `{func}` | {share:.1%} | {calls:.2f} |")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
