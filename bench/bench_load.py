"""Load test that models people: staff sessions with think time at a set arrival rate, stepped up, against
``urbangrid serve`` on a generated megacity (PostgreSQL + Redis), driven by Locust.

    .venv/bin/python bench/bench_load.py [--cases 3000000] [--days 365] [--grids M] [--rates 10 20 30 …]
        [--think 10] [--step-seconds 30] [--warmup 10] [--people 5] [--workers N] [--redis-db 11]
        [--seed 2024] [--keep] [--reuse] [--db-name bench_load]

The database ``bench_load`` on 127.0.0.1 is created, migrated, filled by ``urbangrid generate`` (``--cases`` over
``--days`` days: 3,000,000 over 365 is a megacity's year; the same yearly density over fewer days is a shorter
history of the same city) and ANALYZEd, and dropped at the end unless ``--keep``; ``--reuse`` takes an existing
``bench_load`` as it is (migrated again, its size measured and reported). The server's var directory (audit key,
uploads) is ``var/bench/<db-name>`` in the checkout, kept with the database.

The workload (bench/locustfile.py, one Locust process per step, the ``bench`` extra): open sessions of
``--people`` generated people per role, logged in (Django sessions made for them, bearer tokens for the phone app,
an Open311 key): dispatchers (dispatch queue, case pages), intake operators (intake queue, case pages, accepting the
cases the inspectors report in the run), units (workbench, case pages), inspectors (reports with a photo inside
their grids, their task list), leaders (dashboard, data.json) and Open311 clients (services, a page of 100 requests,
one request, a new request), each person opening only cases they may see. Each session's requests arrive as a
Poisson process with mean think time ``--think`` s, so the mix is an open stream of sessions ÷ think requests/s: each
step runs ``rate × think`` sessions for ``--warmup`` + ``--step-seconds`` s and counts the last ``--step-seconds``.
The Locust process is niced (10) and, on machines with 4 or more CPUs, pinned to the last CPU with the server on
the others. Stepping goes on past the first rate where the mix misses p95 ≤ 200 ms with 0 errors (to find the rates at
which each page still holds) and stops when the mix's p95 passes ``--stop-ms``, any request fails, or the client
sends less than 0.9 of the rate. Reported: per step and page the requests, errors and p50/p95/p99, and per page and for the mix
the highest arrival rate that held the goal.
Goal (issue 18): the mix holds ≥ 50 requests/s on the 2-core machine.
"""
import argparse
import json
import math
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

DB_NAME = "bench_load"
GOAL_MS, GOAL_RATE = 200.0, 50.0
BIN = Path(sys.executable).parent
MAX_CASES = 10_000_000
ROLES = {"dispatcher": "dispatcher", "intake": "intake_operator", "unit": "unit_handler", "inspector": "inspector",
         "leader": "leader"}
POST_LIMIT = 10**9  # all simulated clients share 127.0.0.1: the per-address Open311 limit would stop them
CASES_PER_PERSON = 30
MIX = "mix (all requests)"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=3_000_000, help="generated cases (default 3,000,000)")
    p.add_argument("--days", type=int, default=365, help="days the cases are spread over (default 365, 7–3650)")
    p.add_argument("--grids", type=int, default=None, help="unit grids (default cases × 365 / days / 600, 50–10,000)")
    p.add_argument("--rates", type=float, nargs="+", default=[10, 20, 30, 40, 50, 60, 70, 80, 100],
                   help="arrival rates of the mix to step through, requests/s (default 10 20 … 100)")
    p.add_argument("--think", type=float, default=10.0, help="mean think time between a session's requests, s (default 10)")
    p.add_argument("--step-seconds", type=float, default=30.0, help="measured seconds per step (default 30)")
    p.add_argument("--warmup", type=float, default=10.0, help="unmeasured seconds at the start of each step (default 10)")
    p.add_argument("--alone", type=int, default=10, help="requests per page by one client before the steps (default 10)")
    p.add_argument("--stop-ms", type=float, default=1000.0,
                   help="stop stepping when the mix's p95 passes this (default 1000 ms), an error occurs or the client lags")
    p.add_argument("--people", type=int, default=5, help="logged-in people per role (default 5)")
    p.add_argument("--workers", type=int, default=None, help="gunicorn workers (default 2 × CPU + 1)")
    p.add_argument("--redis-db", type=int, default=11, help="Redis database (flushed) for the server (0-15, default 11)")
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument("--keep", action="store_true", help="keep the database and its var directory at the end")
    p.add_argument("--reuse", action="store_true", help="use an existing database with its generated cases")
    p.add_argument("--db-name", default=DB_NAME, help="the scratch database's name (default bench_load)")
    args = p.parse_args(argv)
    if not re.fullmatch(r"bench_[a-z0-9_]{1,57}", args.db_name):
        p.error(f"--db-name must be a plain lower-case name starting with bench_, got {args.db_name!r}")
    if not 1 <= args.cases <= MAX_CASES:
        p.error(f"--cases must be between 1 and {MAX_CASES:,}, got {args.cases}")
    if not 7 <= args.days <= 3650:
        p.error(f"--days must be between 7 and 3650, got {args.days}")
    if args.grids is None:
        args.grids = min(10_000, max(50, args.cases * 365 // args.days // 600))
    if not 1 <= args.grids <= args.cases:
        p.error(f"--grids must be between 1 and --cases ({args.cases}), got {args.grids}")
    if any(r <= 0 for r in args.rates) or sorted(args.rates) != args.rates:
        p.error("--rates must be positive and ascending")
    for name in ("think", "step_seconds"):
        if getattr(args, name) <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive")
    if args.warmup < 0:
        p.error("--warmup must not be negative")
    c.positive(p, args, "--people", "--alone")
    if not 0 <= args.redis_db <= 15:
        p.error(f"--redis-db must be between 0 and 15, got {args.redis_db}")
    if args.workers is not None and not 1 <= args.workers <= 64:
        p.error(f"--workers must be between 1 and 64, got {args.workers}")
    args.workers = args.workers or 2 * (os.cpu_count() or 1) + 1
    if args.seed < 0:
        p.error(f"--seed must not be negative, got {args.seed}")
    return args


# --- pure helpers (tests/test_bench_helpers.py) -----------------------------------------------------

def sessions_for(rate, think):
    """Sessions that, each a Poisson source with mean think time ``think``, together send ``rate`` requests/s."""
    return max(1, math.ceil(rate * think))


def summarize(records, start, end):
    """{name: {"requests", "errors", "p50", "p95", "p99", "rate"}} of the records (monotonic time, name, ms, failed)
    whose request started in [start, end), and the same for every request together under MIX."""
    by_name = {}
    for t, name, ms, failed in records:
        if start <= t < end:
            for key in (name, MIX):
                by_name.setdefault(key, ([], [0]))
                by_name[key][0].append(ms)
                by_name[key][1][0] += bool(failed)
    out = {}
    for name, (lat, errors) in by_name.items():
        lat.sort()
        out[name] = {"requests": len(lat), "errors": errors[0], "rate": len(lat) / (end - start),
                     **{f"p{q}": c.percentile(lat, q / 100) for q in (50, 95, 99)}}
    return out


def holds(stats):
    """The goal at one step for one page or the mix: p95 ≤ 200 ms and no error."""
    return stats["errors"] == 0 and stats["p95"] <= GOAL_MS


def kept_up(stats, rate, tolerance=0.9):
    """Whether the client sent at least ``tolerance`` of the step's rate in the measured window."""
    return stats.get(MIX, {}).get("rate", 0.0) >= tolerance * rate


def highest(steps):
    """{name: (mix rate, that name's own requests/s)}: per page and for the mix, the highest step's arrival rate up to
    which it held the goal at every step (a page or the mix counts no higher than below its first miss; for the
    mix a step also fails when the client did not send the rate)."""
    best, missed = {}, set()
    for rate, stats, ok in steps:
        for name, s in stats.items():
            if name in missed:
                continue
            if holds(s) and (name != MIX or ok):
                best[name] = (rate, s["rate"])
            else:
                missed.add(name)
        if not ok:
            missed.add(MIX)
    return best


def go_on(stats, rate, stop_ms):
    """Whether to try the next rate: the server still answers (mix p95 within ``stop_ms``, no error) and the client
    sent the rate; past the mix's goal the steps go on to measure the pages that still hold."""
    mix = stats.get(MIX)
    return mix is not None and mix["errors"] == 0 and mix["p95"] <= stop_ms and kept_up(stats, rate)


# --- the database and the people ---------------------------------------------------------------------

def db_exists(name):
    import psycopg

    with psycopg.connect(**c.PG, dbname="postgres", autocommit=True, connect_timeout=5) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def server_env(args, var):
    return dict(os.environ, DATABASE_URL=f"postgres://{c.PG['user']}@{c.PG['host']}:{c.PG['port']}/{args.db_name}",
                URBANGRID_REDIS_URL=f"redis://127.0.0.1:6379/{args.redis_db}", URBANGRID_VAR_DIR=str(var),
                URBANGRID_SECRET_KEY=args.secret, URBANGRID_OPEN311_POSTS_PER_HOUR=str(POST_LIMIT),
                DJANGO_SETTINGS_MODULE="urbangrid.settings")


def prepare(args, env):
    """Create, migrate, generate and ANALYZE (or, with --reuse, migrate the existing database); generation seconds."""
    def run(*a, timeout=None):
        subprocess.run([str(BIN / "urbangrid"), *a], env=env, check=True, timeout=timeout)

    if args.reuse and db_exists(args.db_name):
        c.log(f"reusing database {args.db_name}; migrating it")
        run("migrate", "--noinput", "-v0", timeout=3600)
        return None
    c.pg_admin(f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)', f'CREATE DATABASE "{args.db_name}"')
    c.log(f"migrating {args.db_name}")
    run("migrate", "--noinput", "-v0", timeout=600)
    c.log(f"generating {args.cases:,} cases over {args.days} days on {args.grids} grids (the long part)")
    t0 = time.perf_counter()
    run("generate", "--cases", str(args.cases), "--grids", str(args.grids), "--days", str(args.days),
        "--seed", str(args.seed))
    return time.perf_counter() - t0


def django_setup(env):
    for key in ("DATABASE_URL", "URBANGRID_REDIS_URL", "URBANGRID_VAR_DIR", "URBANGRID_SECRET_KEY",
                "DJANGO_SETTINGS_MODULE"):
        os.environ[key] = env[key]
    sys.path.insert(0, str(c.ROOT / "src"))
    import django

    django.setup()
    from django.db import connection

    c.log("ANALYZE (what autovacuum does shortly after a bulk load)")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def size():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), min(created_at), max(created_at) FROM cases_case")
        cases, first, last = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM cases_caseevent")
        events = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM grids_unitgrid")
        grids = cursor.fetchone()[0]
    return {"cases": cases, "events": events, "grids": grids, "first": first, "last": last}


def sample_visible(actor, n, rng, lo, hi):
    """Up to ``n`` case numbers ``actor`` may open, spread over the history (by primary key, no full scan)."""
    from urbangrid.cases.services import visible_cases

    visible, numbers = visible_cases(actor), []
    for _ in range(n * 2):
        number = visible.filter(pk__gte=rng.randint(lo, hi)).order_by("pk").values_list("number", flat=True).first()
        if number and number not in numbers:
            numbers.append(number)
        if len(numbers) == n:
            break
    return numbers


def people(args):
    """The sessions' configuration: per role ``--people`` generated people with a login made for them (a Django
    session cookie, and a bearer token where the role uses the API), the cases each may open, and points inside the
    inspectors' grids; one Open311 key."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db.models import Max, Min
    from django.test import Client

    from urbangrid.cases.models import Case
    from urbangrid.core.models import ApiToken
    from urbangrid.grids.models import UnitGrid
    from urbangrid.org.models import Person, RoleAssignment
    from urbangrid.org.scope import actor_for
    from urbangrid.public.models import Open311Key
    from urbangrid.public.open311 import keys

    User, rng = get_user_model(), random.Random(args.seed)
    bounds = Case.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    unusable = make_password(None)
    out = {}
    for key, role in ROLES.items():
        person_ids = list(RoleAssignment.objects.filter(role=role, person__active=True)
                          .order_by("person__employee_no").values_list("person_id", flat=True).distinct()[:args.people * 4])
        if not person_ids:
            raise SystemExit(f"the generated city has no person with role {role}")
        out[key] = []
        for i, person in enumerate(Person.objects.filter(pk__in=person_ids).order_by("employee_no")):
            if len(out[key]) == args.people:
                break
            user, _ = User.objects.update_or_create(username=f"bench_{key}_{i}",
                                                    defaults={"password": unusable, "is_active": True})
            Person.objects.filter(user=user).exclude(pk=person.pk).update(user=None)
            if person.user_id and person.user_id != user.pk:
                continue  # a person who already has another login: take the next
            person.user = user
            person.save(update_fields=["user"])
            user = User.objects.get(pk=user.pk)
            entry = {"username": user.username, "cases": sample_visible(actor_for(user), CASES_PER_PERSON, rng,
                                                                        bounds["lo"], bounds["hi"])}
            if not entry["cases"] and key != "inspector":
                continue  # nobody's cases to open (a unit without any): take the next
            client = Client()
            client.force_login(user)
            entry["cookie"] = f"sessionid={client.cookies['sessionid'].value}"
            if key in ("intake", "inspector"):
                entry["token"] = ApiToken.issue(user, name="bench_load")[1]
            if key == "inspector":
                grids = RoleAssignment.objects.filter(person=person, role=role).values_list("grid_id", flat=True)
                shapes = [g.shape.representative_point() for g in
                          UnitGrid.objects.filter(responsibility_grid__in=grids).exclude(geometry=None)[:20]]
                entry["points"] = [(f"{p.x:.6f}", f"{p.y:.6f}") for p in shapes]
                if not entry["points"]:
                    continue
            out[key].append(entry)
        if not out[key]:
            raise SystemExit(f"no usable person with role {role}")
    key, raw = keys.issue("压力测试 bench_load")
    Open311Key.objects.filter(pk=key.pk).update(posts_per_hour=POST_LIMIT)
    grids = list(UnitGrid.objects.exclude(geometry=None).order_by("pk")[:2000])
    points = [g.shape.representative_point() for g in rng.sample(grids, min(200, len(grids)))]
    numbers = list(Case.objects.filter(pk__in=[rng.randint(bounds["lo"], bounds["hi"]) for _ in range(400)])
                   .values_list("number", flat=True)[:200])
    out["open311"] = [{"api_key": raw, "cases": numbers, "points": [(f"{p.x:.6f}", f"{p.y:.6f}") for p in points]}]
    return out


# --- the steps ---------------------------------------------------------------------------------------

def alone_requests(config):
    """(name, method, path, headers, body, expected status) of one request of each page, as the sessions send it."""
    p = config["people"]
    cookie = lambda key: {"Cookie": p[key][0]["cookie"]}  # noqa: E731
    bearer = lambda key: {"Authorization": f"Bearer {p[key][0]['token']}"}  # noqa: E731
    o311 = p["open311"][0]
    return [
        ("dispatch queue /command/", "GET", "/command/", cookie("dispatcher"), None, 200),
        ("intake queue /centre/", "GET", "/centre/", cookie("intake"), None, 200),
        ("unit workbench /unit/", "GET", "/unit/", cookie("unit"), None, 200),
        ("case page /cases/<number>/", "GET", f"/cases/{p['dispatcher'][0]['cases'][0]}/", cookie("dispatcher"), None, 200),
        ("dashboard /dashboard/", "GET", "/dashboard/", cookie("leader"), None, 200),
        ("dashboard data.json", "GET", "/dashboard/data.json", cookie("leader"), None, 200),
        ("inspector tasks GET /api/v1/cases/todo", "GET", "/api/v1/cases/todo?limit=20", bearer("inspector"), None, 200),
        ("Open311 GET services.json", "GET", "/open311/v2/services.json", {}, None, 200),
        ("Open311 GET requests.json (page of 100)", "GET", "/open311/v2/requests.json?page_size=100&page=1", {}, None, 200),
        ("Open311 GET requests/{id}.json", "GET", f"/open311/v2/requests/{o311['cases'][0]}.json", {}, None, 200),
    ]


def alone(port, config, n):
    """Each page ``n`` times by one client, one after another (no queueing: the page's own time; also the server's
    warm-up); {name: (first ms, p50 ms, p95 ms)} of the requests after the first."""
    out = {}
    for name, method, path, headers, body, expect in alone_requests(config):
        times = []
        for _ in range(n + 1):
            t0 = time.perf_counter()
            status, _h, data = c.http(port, method, path, body, headers, timeout=120)
            times.append((time.perf_counter() - t0) * 1000)
            if status != expect:
                raise SystemExit(f"{method} {path} answered {status} alone: {data[:300]!r}")
        rest = sorted(times[1:])
        out[name] = (times[0], c.percentile(rest, 0.5), c.percentile(rest, 0.95))
    return out


def client_placement():
    """How the client is kept off the server's cores: (preexec for the server, preexec for Locust, words)."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cpus) >= 4:
        server, client = set(cpus[:-1]), {cpus[-1]}
        return (lambda: os.sched_setaffinity(0, server),
                lambda: (os.sched_setaffinity(0, client), os.nice(10)),
                f"Locust pinned to CPU {cpus[-1]} and niced 10; the server on CPUs {cpus[0]}–{cpus[-2]}")
    return None, (lambda: os.nice(10)), f"Locust niced 10 ({len(cpus) or os.cpu_count()} CPUs: too few to pin apart)"


def step(args, port, rate, config_path, tmp, preexec):
    """One Locust run at ``rate``; (stats of the measured window, late starts)."""
    users = sessions_for(rate, args.think)
    out = tmp / f"step-{rate:g}.json"
    env = dict(os.environ, BENCH_LOAD_CONFIG=str(config_path), BENCH_LOAD_OUT=str(out))
    run_time = args.warmup + args.step_seconds
    cmd = [sys.executable, "-m", "locust", "-f", str(Path(__file__).with_name("locustfile.py")), "--headless",
           "--host", f"http://127.0.0.1:{port}", "-u", str(users), "-r", str(max(1, users / max(1.0, args.warmup / 2))),
           "--run-time", f"{run_time:.0f}s", "--stop-timeout", "30", "--only-summary", "--loglevel", "WARNING"]
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, preexec_fn=preexec, capture_output=True, text=True, timeout=run_time + 180)
    if not out.exists():
        raise SystemExit(f"Locust wrote no results (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    data = json.loads(out.read_text())
    records = data["records"]
    # The window: the last --step-seconds of the run, in Locust's own clock (its first record marks the start).
    first = min((r[0] for r in records), default=started)
    begin = first + args.warmup
    return summarize(records, begin, begin + args.step_seconds), data["late"]


def main(argv=None):
    args = parse_args(argv)
    args.secret = secrets.token_urlsafe(60)
    problem = c.pg_missing() or c.redis_missing(args.redis_db)
    try:
        import locust  # noqa: F401
    except ImportError:
        problem = problem or "Locust is not installed: pip install -e '.[bench]'"
    if problem:
        print(problem, file=sys.stderr)
        return 1
    if args.reuse and not db_exists(args.db_name):
        c.log(f"--reuse: there is no database {args.db_name} yet; building it")
    var = c.ROOT / "var" / "bench" / args.db_name
    var.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="ug-bench-load-"))
    env = server_env(args, var)
    proc, steps = None, []
    try:
        gen_seconds = prepare(args, env)
        django_setup(env)
        data = size()
        c.log("making the sessions' logins")
        config = {"think": args.think, "people": people(args), "jpeg_hex": c.jpeg_bytes().hex()}
        config_path = tmp / "config.json"
        config_path.write_text(json.dumps(config))
        from django.db import connections

        connections.close_all()
        c.redis_flush(args.redis_db)
        server_pre, client_pre, placement = client_placement()
        port = c.free_port()
        c.log(f"starting `urbangrid serve --workers {args.workers}` on 127.0.0.1:{port}")
        proc = c.serve(env, port, args.workers, tmp / "server.log", preexec=server_pre)
        c.log(f"each page alone, {args.alone} + 1 times, one client")
        solo = alone(port, config, args.alone)
        for rate in args.rates:
            c.log(f"step {rate:g} requests/s: {sessions_for(rate, args.think)} sessions, "
                  f"{args.warmup:g} + {args.step_seconds:g} s")
            load_before = os.getloadavg()[0]
            stats, late = step(args, port, rate, config_path, tmp, client_pre)
            late = (late, load_before, os.getloadavg()[0])
            ok = MIX in stats and holds(stats[MIX]) and kept_up(stats, rate)
            steps.append((rate, stats, ok, late))
            mix = stats.get(MIX, {"requests": 0, "errors": 0, "p95": float("nan"), "rate": 0})
            c.log(f"  sent {mix['rate']:.1f}/s, p95 {mix['p95']:.0f} ms, errors {mix['errors']}, late {late[0]}: "
                  + ("held" if ok else "missed"))
            if not go_on(stats, rate, args.stop_ms):
                break
    finally:
        if proc is not None:
            c.stop_server(proc)
        from django.conf import settings

        if settings.configured:
            from django.db import connections

            connections.close_all()
        if not args.keep:
            c.pg_drop(args.db_name)
            shutil.rmtree(var, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    report(args, data, gen_seconds, placement, steps, solo)
    return 0


def report(args, data, gen_seconds, placement, steps, solo):
    per_year = data["cases"] * 365 / max(1, (data["last"] - data["first"]).days + 1)
    c.print_header("Staff sessions at a stepped arrival rate (PostgreSQL + Redis, Locust)", "postgres", db_name=args.db_name, extra=[
        f"Data: {data['cases']:,} cases with {data['events']:,} events on {data['grids']:,} unit grids, created "
        f"{data['first']:%Y-%m-%d} – {data['last']:%Y-%m-%d} (≈ {per_year:,.0f} a year)"
        + (f", generated in {gen_seconds:.0f} s" if gen_seconds else ", database reused from an earlier run"),
        f"Server: `urbangrid serve --workers {args.workers}` (gunicorn sync workers, access log), Redis db "
        f"{args.redis_db}; Open311 POSTs per address raised to {POST_LIMIT:,} (every simulated client is 127.0.0.1)",
        f"Client: Locust {_locust_version()} (bench/locustfile.py), FastHttpUser; {placement}",
        f"Sessions: {args.people} people per role (dispatcher, intake, unit, inspector, leader) and one Open311 key; "
        f"each session a Poisson source with mean think time {args.think:g} s (sessions = rate × think); per step "
        f"{args.warmup:g} s unmeasured, then {args.step_seconds:g} s measured"])
    names = sorted({n for _r, stats, _ok, _l in steps for n in stats if n != MIX}) + [MIX]
    print("| arrival rate (requests/s) | sessions | sent requests/s | late starts | mix p50 ms | mix p95 ms | mix p99 ms "
          "| errors | load average (1 min) before → after | goal p95 ≤ 200 ms, 0 errors |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for rate, stats, ok, (late, load_before, load_after) in steps:
        m = stats.get(MIX, {"requests": 0, "errors": 0, "p50": float("nan"), "p95": float("nan"), "p99": float("nan"),
                            "rate": 0})
        print(f"| {rate:g} | {sessions_for(rate, args.think)} | {m['rate']:.1f} | {late} | {m['p50']:.0f} | "
              f"{m['p95']:.0f} | {m['p99']:.0f} | {m['errors']} | {load_before:.1f} → {load_after:.1f} | "
              f"{'held' if ok else '**missed**'} |")
    print()
    print("Per page, at each step: requests/s · p95 ms (errors when any)\n")
    print("| page | " + " | ".join(f"{r:g}/s" for r, *_ in steps) + " |")
    print("|---|" + "---:|" * len(steps))
    for name in names:
        cells = []
        for _rate, stats, _ok, _late in steps:
            s = stats.get(name)
            cells.append("–" if s is None else f"{s['rate']:.1f} · {s['p95']:.0f}" + (f" ({s['errors']} err)" if s["errors"] else "")
                         + ("" if holds(s) else " ✗"))
        print(f"| {name} | " + " | ".join(cells) + " |")
    print()
    print(f"Each page alone ({args.alone} requests by one client after a first one, before the steps; no queueing):\n")
    print("| page | first ms | p50 ms | p95 ms |\n|---|---:|---:|---:|")
    for name, (first, p50, p95) in solo.items():
        print(f"| {name} | {first:.0f} | {p50:.0f} | {p95:.0f} |")
    print()
    best = highest([(r, s, ok) for r, s, ok, _l in steps])
    mix_best = best.get(MIX, (0, 0))[0]
    print(f"Highest arrival rate of the mix with p95 ≤ {GOAL_MS:.0f} ms and 0 errors: **{mix_best:g} requests/s** "
          f"(goal ≥ {GOAL_RATE:g}: {'met' if mix_best >= GOAL_RATE else '**missed**'})"
          + ("; the last step tried still held" if steps and steps[-1][2] else "") + ". The load average counts every "
          "process on the machine (the server, PostgreSQL, Redis, Locust and whatever else runs), on "
          f"{os.cpu_count()} CPUs.\n")
    print("| page | highest mix rate held | the page's own requests/s then |")
    print("|---|---:|---:|")
    for name in names[:-1]:
        r, own = best.get(name, (0, 0))
        print(f"| {name} | {r:g} | {own:.1f} |")
    print()


def _locust_version():
    import locust

    return locust.__version__


if __name__ == "__main__":
    sys.exit(main())
