"""Open311 endpoints side by side with a baseline on the same server, in the same run.

    .venv/bin/python bench/bench_open311.py [--db sqlite|postgres] [--seconds 5] [--rounds 3] [--concurrency 8]
                                            [--workers 5] [--history N] [--redis-db N] [--profile 40]

Builds the demo city with its case history on a scratch database (a temporary SQLite file, or the PostgreSQL
database ``bench_urbangrid``, created and dropped here), issues an Open311 API key and starts ``urbangrid serve``
(gunicorn, sync workers, access log: the production command, less its recycling of workers every ~2,000 requests,
whose new worker's start would land in one side or the other) with URBANGRID_BENCH=1, which mounts the baseline
``/bench/doc/<name>``: a minimal Django view answering, from its process's memory, a JSON document the benchmark
saved beforehand. Each endpoint is requested once and its answer saved as the baseline's document, so both sides
send the very same bytes and the client does the same work for both; the ratio is what our endpoint costs over
Django and gunicorn alone, and is a ratio on any machine:

- GET services.json (goal ≥ 0.8);
- GET requests/{id}.json, 20 cases spread over the history in turn (goal ≥ 0.6);
- GET requests.json?page_size=100, pages 1–5 of the last 90 days in turn (goal ≥ 0.15);
- POST requests.json (form: api_key, service_code local-demo:event:0401 or the current class replacing it, lat/long inside a unit grid taken in turn
  from 200, description): a new case each (goal ≥ 0.2); the baseline is POSTed the same bodies.

Each pair runs ``--rounds`` rounds of ``--seconds`` seconds per side, the side that goes first alternating, after
one untimed second per side; ``--concurrency`` client threads in this process (closed loop, a new connection per
request). Two ratios are printed: requests/s (ours ÷ baseline) and server CPU per request (baseline ÷ ours: gunicorn's
processes and, on PostgreSQL, the database's backends for this database, read from /proc, which other load on a
shared machine does not inflate). The goal is judged on the CPU ratio, which a client sharing the cores cannot
flatter (the requests/s ratio is shown beside it). Any answer other than 200, or a POST that left no case, fails the
run. ``--profile N`` then profiles N requests of each endpoint in this process (cProfile, Django's test client on the
same database) and prints the top functions by own time.
"""
import argparse
import cProfile
import io
import itertools
import json
import os
import pstats
import random
import secrets
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

BASE = "/open311/v2/"
GOALS = {"services": 0.8, "request": 0.6, "requests": 0.15, "create": 0.2}
LABELS = {"services": "GET services.json", "request": "GET requests/{id}.json",
          "requests": "GET requests.json (page of 100)", "create": "POST requests.json (a new case)"}
CASES_ROTATED, PAGES_ROTATED, POINTS_ROTATED = 20, 5, 200
SERVICE = "local-demo:event:0401"  # 井盖缺失; in the 2026 catalogue of the demo, the class that replaced it
POST_LIMIT = 10**9  # the benchmark's own server may take every POST it sends


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--seconds", type=float, default=5.0, help="timed seconds per side and round (default 5)")
    p.add_argument("--rounds", type=int, default=3, help="rounds per endpoint (default 3)")
    p.add_argument("--concurrency", type=int, default=8, help="client threads (default 8)")
    p.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1,
                   help="gunicorn workers (default 2 × CPU + 1, as `urbangrid serve`)")
    p.add_argument("--history", type=int, default=None, help="cases in the demo history (default: the demo's own)")
    p.add_argument("--redis-db", type=int, default=None, help="Redis database (flushed) for the server's cache and "
                   "counters, as in production; default none (local memory and database counters)")
    p.add_argument("--profile", type=int, default=0, help="profile N requests per endpoint afterwards (default 0: no)")
    p.add_argument("--only", choices=sorted(GOALS), nargs="+", help="measure only these endpoints")
    p.add_argument("--reuse", type=Path, metavar="DIR", help="keep the demo city built here (the var directory and "
                   "SQLite file in DIR; on PostgreSQL the database bench_urbangrid) and reuse it in later runs given "
                   "the same DIR (migrated again; the cases earlier runs POSTed stay)")
    args = p.parse_args(argv)
    c.positive(p, args, "--rounds", "--concurrency", "--workers")
    if not 0.5 <= args.seconds <= 120:
        p.error(f"--seconds must be between 0.5 and 120, got {args.seconds}")
    if args.concurrency > 64:
        p.error("--concurrency at most 64")
    if args.history is not None and not 500 <= args.history <= 200_000:
        p.error(f"--history must be between 500 and 200000 cases, got {args.history}")
    if args.redis_db is not None and not 0 <= args.redis_db <= 15:
        p.error(f"--redis-db must be between 0 and 15, got {args.redis_db}")
    if args.profile < 0:
        p.error("--profile must be 0 or positive")
    return args


# --- the workload ----------------------------------------------------------------------------------

def prepare():
    """The API key, the rotated case numbers and request bodies; {name: [(method, path, body, headers)]} for
    our endpoints (the baseline's are derived from them)."""
    from django.db.models import Max, Min

    from urbangrid.cases.models import Case
    from urbangrid.grids.models import UnitGrid
    from urbangrid.public.models import Open311Key
    from urbangrid.public.open311 import keys
    from urbangrid.public.open311 import serializers as ser

    key, raw = keys.issue("基准测试 benchmark")
    Open311Key.objects.filter(pk=key.pk).update(posts_per_hour=POST_LIMIT)
    rng = random.Random(2024)
    bounds = Case.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    step = max(1, (bounds["hi"] - bounds["lo"]) // CASES_ROTATED)
    numbers = [Case.objects.filter(pk__gte=pk).order_by("pk").values_list("number", flat=True).first()
               for pk in range(bounds["lo"], bounds["hi"] + 1, step)][:CASES_ROTATED]
    grids = list(UnitGrid.objects.exclude(geometry=None).order_by("pk"))
    points = [g.shape.representative_point() for g in rng.sample(grids, min(POINTS_ROTATED, len(grids)))]
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    service = SERVICE
    if ser.find_service(service) is None:  # the demo's catalogue has moved on: the class that replaced it
        service = ser.successors(ser.find_replaced(service))[0]
    creates = [("POST", BASE + "requests.json", urllib.parse.urlencode({
        "api_key": raw, "service_code": service, "lat": f"{pt.y:.6f}", "long": f"{pt.x:.6f}",
        "description": f"井盖缺失，基准测试 {i}"}).encode(), form) for i, pt in enumerate(points)]
    return {
        "services": [("GET", BASE + "services.json", None, {})],
        "request": [("GET", f"{BASE}requests/{n}.json", None, {}) for n in numbers],
        "requests": [("GET", f"{BASE}requests.json?page_size=100&page={p}", None, {}) for p in range(1, PAGES_ROTATED + 1)],
        "create": creates,
    }


def baseline_of(name, specs):
    """The baseline's requests: the same methods and bodies to /bench/doc/<name>-<i> (one document per distinct
    answer; every POST answers the document of the first)."""
    if name == "create":
        return [(m, f"/bench/doc/{name}-0", body, h) for m, _path, body, h in specs]
    return [(m, f"/bench/doc/{name}-{i}", body, h) for i, (m, _path, body, h) in enumerate(specs)]


def save_documents(port, tmp, name, specs):
    """Each distinct answer of our endpoint, saved where /bench/doc/ reads it (one POST: its answer)."""
    folder = tmp / "bench"
    folder.mkdir(exist_ok=True)
    sample = specs[:1] if name == "create" else specs
    for i, (method, path, body, headers) in enumerate(sample):
        status, _h, data = c.http(port, method, path, body, headers)
        if status != 200:
            raise RuntimeError(f"{method} {path} answered {status}: {data[:300]!r}")
        (folder / f"{name}-{i}.json").write_bytes(data)
    return len(sample)


def closed_loop(port, specs, seconds, concurrency):
    """``concurrency`` threads send ``specs`` in turn for ``seconds``; returns (requests, elapsed s, sorted
    latencies in s, failures)."""
    tickets, lock = itertools.count(), threading.Lock()
    latencies, failures = [], []
    stop_at = time.perf_counter() + seconds

    def worker():
        while time.perf_counter() < stop_at:
            method, path, body, headers = specs[next(tickets) % len(specs)]
            t0 = time.perf_counter()
            try:
                status, _h, data = c.http(port, method, path, body, headers, timeout=30)
            except OSError as exc:
                with lock:
                    failures.append(f"{path}: {exc!r}")
                continue
            spent = time.perf_counter() - t0
            with lock:
                latencies.append(spent)
                if status != 200:
                    failures.append(f"{method} {path}: HTTP {status} {data[:200]!r}")

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies), time.perf_counter() - start, sorted(latencies), failures


class Side:
    """Totals of one side (ours or the baseline) over the rounds."""

    def __init__(self):
        self.requests, self.seconds, self.cpu, self.latencies, self.failures = 0, 0.0, 0.0, [], []

    def add(self, run, cpu):
        n, elapsed, lat, failures = run
        self.requests += n
        self.seconds += elapsed
        self.cpu += cpu or 0.0
        self.latencies += lat
        self.failures += failures

    @property
    def rate(self):
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_request(self):
        return self.cpu / self.requests if self.requests else float("nan")


def measure(port, master, dbname, ours, theirs, args):
    def select(pid, ppid, cmd):
        return c.server_processes(master)(pid, ppid, cmd) or (dbname and c.postgres_backends(dbname)(pid, ppid, cmd))

    sides = {"ours": Side(), "baseline": Side()}
    for specs in (theirs, ours):  # warm-up: every worker has loaded the code and caches
        closed_loop(port, specs, 1.0, args.concurrency)
    for r in range(args.rounds):
        order = [("baseline", theirs), ("ours", ours)]
        for side, specs in order if r % 2 == 0 else order[::-1]:
            before = c.cpu_snapshot(select)
            run = closed_loop(port, specs, args.seconds, args.concurrency)
            sides[side].add(run, c.cpu_between(before, c.cpu_snapshot(select)))
    return sides


# --- the profile -----------------------------------------------------------------------------------

def profile(workload, n, top=8):
    """{name: (ms per request in the profiler, queries per request, [(share, calls, function)])}: cProfile over
    n requests of each endpoint through Django's test client in this process (same database, warm caches)."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    settings.URBANGRID_OPEN311_POSTS_PER_HOUR = POST_LIMIT
    client, out = Client(), {}

    def send(method, path, body, headers):
        if method == "GET":
            return client.get(path)
        return client.post(path, data=body, content_type=headers["Content-Type"])

    for name, specs in workload.items():
        for spec in specs[:3]:
            assert send(*spec).status_code == 200, (name, spec[1])
        queries = []
        with connection.execute_wrapper(lambda execute, sql, params, many, context: (queries.append(sql),
                                                                                       execute(sql, params, many, context))[1]):
            send(*specs[3 % len(specs)])
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        for i in range(n):
            send(*specs[(i + 4) % len(specs)])
        prof.disable()
        ms = (time.perf_counter() - t0) * 1000 / n
        stats = pstats.Stats(prof, stream=io.StringIO())
        total = stats.total_tt or 1.0
        rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:top]
        out[name] = (ms, len(queries), [(tt / total, nc, _where(func)) for func, (_cc, nc, tt, _ct, _callers) in rows])
    return out


def _where(func):
    path, line, name = func
    if path == "~":
        return name
    parts = Path(path).parts
    for anchor in ("urbangrid", "django", "psycopg", "site-packages", "python3.11"):
        if anchor in parts:
            parts = parts[parts.index(anchor) + (anchor in ("site-packages", "python3.11")):]
            break
    return f"{'/'.join(parts[-3:])}:{line} {name}"


# --- run -------------------------------------------------------------------------------------------

def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    problem = (c.pg_missing() if args.db == "postgres" else None) or (
        c.redis_missing(args.redis_db) if args.redis_db is not None else None)
    if problem:
        print(f"Cannot run the benchmark: {problem}", file=sys.stderr)
        return 1
    if args.reuse:
        tmp = args.reuse.resolve()
        tmp.mkdir(parents=True, exist_ok=True)
        built = tmp / f"built-{args.db}.json"  # written once the demo is in: what the first run took
    else:
        tmp, built = Path(tempfile.mkdtemp(prefix="urbangrid-bench-open311-")), None
    proc, results, profiles = None, {}, {}
    try:
        reusing = built is not None and built.exists()
        if args.db == "postgres" and not reusing:
            c.pg_create(c.BENCH_DB)
        if args.redis_db is not None:
            c.redis_flush(args.redis_db)
        t0 = time.perf_counter()
        c.setup_django(args.db, tmp, history=True, cases=args.history, build=not reusing)
        from urbangrid.cases.models import Case
        from urbangrid.public.models import Open311Request

        history = Case.objects.count()
        setup_s = time.perf_counter() - t0
        if built is not None:
            if reusing:
                setup_s = json.loads(built.read_text())["setup_s"]
                c.log(f"reusing the demo city of {built.parent} ({history:,} cases)")
            else:
                built.write_text(json.dumps({"setup_s": setup_s, "cases": history}))
        records_before = Open311Request.objects.count()
        workload = prepare()
        if args.only:
            workload = {k: v for k, v in workload.items() if k in args.only}
        from django.db import connections

        connections.close_all()
        env = {**os.environ, "URBANGRID_BENCH": "1", "DATABASE_URL": c.database_url(args.db, tmp),
               "URBANGRID_VAR_DIR": str(tmp), "URBANGRID_SECRET_KEY": secrets.token_urlsafe(60),
               "URBANGRID_OPEN311_POSTS_PER_HOUR": str(POST_LIMIT), "DJANGO_SETTINGS_MODULE": "urbangrid.settings"}
        env.pop("URBANGRID_REDIS_URL", None)
        if args.redis_db is not None:
            env["URBANGRID_REDIS_URL"] = f"redis://127.0.0.1:6379/{args.redis_db}"
        port = c.free_port()
        c.log(f"starting `urbangrid serve` with {args.workers} workers on 127.0.0.1:{port}")
        proc = c.serve(env, port, args.workers, tmp / "server.log", recycle=False)
        posted = 0
        for name, ours in workload.items():
            saved = save_documents(port, tmp, name, ours)
            posted += saved if name == "create" else 0
            theirs = baseline_of(name, ours)
            c.log(f"{LABELS[name]}: {args.rounds} rounds × {args.seconds:g} s per side, {args.concurrency} clients")
            results[name] = measure(port, proc.pid, c.BENCH_DB if args.db == "postgres" else None, ours, theirs, args)
            for side in results[name].values():
                if side.failures:
                    raise RuntimeError(f"{len(side.failures)} failed requests ({name}), first: {side.failures[0]}")
        c.stop_server(proc)
        proc = None
        if "create" in workload:
            # every POST answered 200 made exactly one case (the warm-up's and the saved answer's too)
            made = Open311Request.objects.count() - records_before
            answered = posted + results["create"]["ours"].requests
            if made < answered:
                raise RuntimeError(f"{answered} POSTs answered 200 but only {made} cases were made")
        if args.profile:
            c.log(f"profiling {args.profile} requests per endpoint in this process")
            profiles = profile(workload, args.profile)
    except RuntimeError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if proc is not None:
            c.stop_server(proc)
        c.teardown(args.db, tmp, keep=built is not None)
    report(args, history, setup_s, results, profiles)
    return 0


def rows(results):
    """(name, ours, baseline, requests/s ratio, CPU ratio) per endpoint."""
    for name, sides in results.items():
        ours, base = sides["ours"], sides["baseline"]
        yield name, ours, base, c.ratio(ours.rate, base.rate), c.ratio(base.cpu_per_request, ours.cpu_per_request)


def report(args, history, setup_s, results, profiles):
    server = (f"Server: the gunicorn command of `urbangrid serve --workers {args.workers}` (sync workers, access log) "
              "without its worker recycling (`--max-requests`), with "
              "URBANGRID_BENCH=1 and the demo city (seed 2024); DEBUG off; "
              + (f"Redis db {args.redis_db} for cache and counters" if args.redis_db is not None
                 else "local-memory cache, counters in the database"))
    c.print_header("Open311 endpoints against the same document from memory", args.db, [
        f"Demo city with {history:,} cases (built in {setup_s:.0f} s incl. migrations)", server,
        f"Client: {args.concurrency} threads in this process (closed loop, new connection per request); per endpoint "
        f"{args.rounds} rounds × {args.seconds:g} s per side, the first side alternating; client and server share the CPU",
        "Baseline: `/bench/doc/<name>`, a minimal Django view answering the endpoint's own saved JSON from memory"])
    print("| endpoint | requests | requests/s | p50 ms | p95 ms | server CPU ms/request | baseline requests/s | "
          "baseline CPU ms/request | ratio requests/s | **ratio CPU** | goal |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for name, ours, base, by_rate, by_cpu in rows(results):
        lat = ours.latencies
        print(f"| {LABELS[name]} | {ours.requests:,} | {ours.rate:,.1f} | {1000 * c.percentile(lat, .5):.1f} | "
              f"{1000 * c.percentile(lat, .95):.1f} | {1000 * ours.cpu_per_request:.2f} | {base.rate:,.1f} | "
              f"{1000 * base.cpu_per_request:.2f} | {by_rate:.2f} | **{by_cpu:.2f}** | ≥ {GOALS[name]}: "
              f"{c.verdict(by_cpu, GOALS[name])} |")
    print()
    if profiles:
        print(f"Profile: {args.profile} requests per endpoint, cProfile, Django's test client in process (no network, "
              "no gunicorn), top functions by own time:\n")
        for name, (ms, queries, top) in profiles.items():
            print(f"- **{LABELS[name]}**: {ms:.1f} ms per request under the profiler, {queries} queries; "
                  + "; ".join(f"{share:.0%} {where} (×{calls / args.profile:g})" for share, calls, where in top))
        print()


if __name__ == "__main__":
    sys.exit(main())
