"""Pages under load at megacity scale: the leaders' dashboard (and its data.json), the dispatch queue, the
intake queue, the case list and case pages, each requested by 50 concurrent clients through real HTTP against
``urbangrid serve`` (gunicorn, sync workers = 2 × CPU + 1) on PostgreSQL and Redis, with N generated cases
loaded (default 3,000,000 over one year). Per page: requests, errors, median, p95 and p99 latency, and p95 as a
ratio to /healthz driven the same way in the same run (the baseline: what the server, the network stack and
the client cost with no page work at all). Also, per page, the latency of a single client alone (no queueing)
and the number of SQL queries, which say whether a slow page is slow for its own work or for waiting in line.

    .venv/bin/python bench/bench_load.py [--cases 3000000] [--grids M] [--years 1] [--clients 50]
        [--requests 500] [--seed 2024] [--redis-db 11] [--keep] [--reuse]

The database ``bench_load`` on 127.0.0.1 is created, migrated, filled by ``urbangrid generate`` and ANALYZEd,
and dropped at the end unless ``--keep``. ``--reuse`` keeps an existing ``bench_load`` that already holds the
generated cases (a second run of the same size need not regenerate an hour of data); it is migrated again
(new indexes) and the case count is reported as measured. Logins (a leader, a dispatcher, an intake operator)
are made for generated people through the Django ORM and used through the real login form. Each client opens a
new connection per request (sync workers: no keep-alive).
Goal (issue 7): p95 ≤ 200 ms with zero errors.
"""
import argparse
import http.client
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PG, ROOT, command, log, machine, pg_admin, pg_drop, pg_missing  # noqa: E402

DB_NAME = "bench_load"
GOAL_MS = 200.0
BIN = Path(sys.executable).parent
PASSWORD = "bench-load-Pass-1"
ROLES = {"leader": "leader", "dispatcher": "dispatcher", "intake": "intake_operator"}
MAX_CASES = 10_000_000


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=3_000_000, help="generated cases (default 3,000,000)")
    parser.add_argument("--grids", type=int, default=None, help="unit grids (default cases / 500, at least 50)")
    parser.add_argument("--years", type=int, default=1, help="years the cases are spread over (1-10)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50)")
    parser.add_argument("--requests", type=int, default=500, help="timed requests per page (default 500)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests per page first (default 20)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--redis-db", type=int, default=11, help="Redis database number for the server's cache (0-15)")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default 2 × CPU + 1)")
    parser.add_argument("--keep", action="store_true", help="keep the database bench_load at the end")
    parser.add_argument("--reuse", action="store_true", help="use an existing bench_load with its generated cases")
    parser.add_argument("--db-name", default=DB_NAME, help="the scratch database's name (default bench_load)")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", args.db_name) or args.db_name in ("postgres", "test", "test_test"):
        parser.error(f"--db-name must be a plain lower-case name of a scratch database, got {args.db_name!r}")
    if not 1 <= args.cases <= MAX_CASES:
        parser.error(f"--cases must be between 1 and {MAX_CASES:,}, got {args.cases}")
    if args.grids is None:
        args.grids = max(50, args.cases // 500)
    if args.grids <= 0 or args.grids > args.cases:
        parser.error(f"--grids must be between 1 and --cases ({args.cases}), got {args.grids}")
    if not 1 <= args.years <= 10:
        parser.error(f"--years must be between 1 and 10, got {args.years}")
    if not 1 <= args.clients <= 500:
        parser.error(f"--clients must be between 1 and 500, got {args.clients}")
    if args.requests < args.clients:
        parser.error(f"--requests ({args.requests}) must be at least --clients ({args.clients}) so that every client works")
    if args.warmup < 0:
        parser.error(f"--warmup must not be negative, got {args.warmup}")
    if args.seed < 0:
        parser.error(f"--seed must not be negative, got {args.seed}")
    if not 0 <= args.redis_db <= 15:
        parser.error(f"--redis-db must be between 0 and 15, got {args.redis_db}")
    if args.workers is not None and not 1 <= args.workers <= 64:
        parser.error(f"--workers must be between 1 and 64, got {args.workers}")
    args.workers = args.workers or 2 * (os.cpu_count() or 1) + 1
    return args


def redis_missing(db):
    """Why Redis on 127.0.0.1:6379 cannot be used, or None (a raw PING: no client library needed)."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=3) as s:
            s.sendall(f"*2\r\n$6\r\nSELECT\r\n${len(str(db))}\r\n{db}\r\n*1\r\n$4\r\nPING\r\n".encode())
            data = b""
            while data.count(b"\r\n") < 2:
                chunk = s.recv(100)
                if not chunk:
                    break
                data += chunk
        if b"+PONG" not in data:
            return f"Redis at 127.0.0.1:6379 did not answer PING on database {db}: {data!r}"
    except OSError as exc:
        return f"Redis is not reachable at 127.0.0.1:6379: {exc}"
    return None


def db_exists(name):
    import psycopg

    with psycopg.connect(**PG, dbname="postgres", autocommit=True, connect_timeout=5) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def server_env(args, tmp):
    return dict(os.environ, DATABASE_URL=f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{DB_NAME}",
                URBANGRID_REDIS_URL=f"redis://127.0.0.1:6379/{args.redis_db}", URBANGRID_VAR_DIR=str(tmp),
                DJANGO_SETTINGS_MODULE="urbangrid.settings")


def prepare(args, env):
    """Create, migrate, generate and ANALYZE (or, with --reuse, migrate the existing database)."""
    run = lambda *a, timeout=None: subprocess.run([str(BIN / "urbangrid"), *a], env=env, check=True, timeout=timeout)
    if args.reuse and db_exists(DB_NAME):
        log(f"reusing database {DB_NAME}; migrating it")
        run("migrate", "--noinput", "-v0", timeout=3600)
        return None
    pg_admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)', f'CREATE DATABASE "{DB_NAME}"')
    log(f"migrating {DB_NAME}")
    run("migrate", "--noinput", "-v0", timeout=600)
    log(f"generating {args.cases:,} cases over {args.years} year(s) on {args.grids} grids (this is the long part)")
    t0 = time.perf_counter()
    run("generate", "--cases", str(args.cases), "--grids", str(args.grids), "--years", str(args.years),
        "--seed", str(args.seed))
    seconds = time.perf_counter() - t0
    log(f"generated in {seconds:.0f} s")
    return seconds


def django_setup(env):
    for key in ("DATABASE_URL", "URBANGRID_REDIS_URL", "URBANGRID_VAR_DIR", "DJANGO_SETTINGS_MODULE"):
        os.environ[key] = env[key]
    sys.path.insert(0, str(ROOT / "src"))
    import django
    django.setup()


def analyze():
    from django.db import connection

    log("ANALYZE (what autovacuum does shortly after a bulk load)")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def make_logins():
    """A login for one generated person of each role (the generator makes people without logins), hashed with
    the server's own default hasher so that the real login form accepts it."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from urbangrid.org.models import Person, RoleAssignment

    User = get_user_model()
    out = {}
    hashed = make_password(PASSWORD)
    for key, role in ROLES.items():
        ra = (RoleAssignment.objects.filter(role=role, person__active=True).select_related("person")
              .order_by("person__employee_no").first())
        if ra is None:
            raise SystemExit(f"the generated city has no person with role {role}")
        username = f"bench_{key}"
        user, _ = User.objects.update_or_create(username=username, defaults={"password": hashed, "is_active": True})
        Person.objects.filter(user=user).exclude(pk=ra.person_id).update(user=None)
        person = ra.person
        person.user = user
        person.save(update_fields=["user"])
        out[key] = username
    return out


def sample_cases(n, seed):
    """``n`` case numbers spread over the whole history (random ids by primary key, no full scan)."""
    from django.db.models import Max, Min

    from urbangrid.cases.models import Case

    bounds = Case.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    rng = random.Random(seed)
    ids = {rng.randint(bounds["lo"], bounds["hi"]) for _ in range(n * 2)}
    numbers = list(Case.objects.filter(pk__in=ids).values_list("number", flat=True)[:n])
    if not numbers:
        raise SystemExit("no cases in the database")
    return numbers


def case_count():
    """The loaded size: exact count (once, outside the timed part)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cases_case")
        cases = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM cases_caseevent")
        events = cursor.fetchone()[0]
        cursor.execute("SELECT min(created_at), max(created_at) FROM cases_case")
        first, last = cursor.fetchone()
    return cases, events, first, last


# --- the HTTP side ----------------------------------------------------------------------------------

def request(port, path, cookie=None, method="GET", body=None, headers=None, timeout=120):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        h = {"Host": "127.0.0.1", "Connection": "close", **(headers or {})}
        if cookie:
            h["Cookie"] = cookie
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, resp.getheaders(), data
    finally:
        conn.close()


def _cookies(headers, jar):
    for name, value in headers:
        if name.lower() == "set-cookie":
            k, _, v = value.split(";", 1)[0].partition("=")
            jar[k.strip()] = v.strip()
    return jar


def login(port, username):
    """The real login form: GET for the CSRF cookie and token, POST the credentials, keep the session cookie."""
    status, headers, body = request(port, "/accounts/login/")
    if status != 200:
        raise SystemExit(f"GET /accounts/login/ answered {status}")
    jar = _cookies(headers, {})
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    form = urllib.parse.urlencode({"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token})
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    status, headers, _ = request(port, "/accounts/login/", cookie, "POST", form, {
        "Content-Type": "application/x-www-form-urlencoded", "Referer": f"http://127.0.0.1:{port}/accounts/login/"})
    _cookies(headers, jar)
    if status != 302 or "sessionid" not in jar:
        raise SystemExit(f"login as {username} failed (HTTP {status})")
    return f"sessionid={jar['sessionid']}"


def drive(port, paths, cookie, clients, total):
    """``clients`` threads share ``total`` requests (paths taken in turn); returns sorted latencies in ms and
    the errors (anything but 200, or a connection failure)."""
    lock = threading.Lock()
    counter = iter(range(total))
    latencies, errors = [], []

    def worker():
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            path = paths[i % len(paths)]
            t0 = time.perf_counter()
            try:
                status, _h, _b = request(port, path, cookie)
            except OSError as exc:
                status = f"{type(exc).__name__}: {exc}"
            ms = (time.perf_counter() - t0) * 1000
            with lock:
                latencies.append(ms)
                if status != 200:
                    errors.append((path, status))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    latencies.sort()
    return latencies, errors, wall


def pct(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, max(0, int(round(p * len(sorted_values))) - 1))]


def count_queries(paths, username):
    """SQL queries of one request to each page, in this process (Django test client on the same database)."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    c = Client()
    c.force_login(get_user_model().objects.get(username=username))
    c.get(paths[0])  # per-process caches (catalogue, grid versions) filled, as in a warm server
    with CaptureQueriesContext(connection) as ctx:
        r = c.get(paths[0])
    return len(ctx) if r.status_code == 200 else f"HTTP {r.status_code}"


def start_server(args, env, tmp):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    logf = open(tmp / "gunicorn.log", "w")
    proc = subprocess.Popen([str(BIN / "urbangrid"), "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)],
                            env=env, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}; see {tmp / 'gunicorn.log'}")
        try:
            if request(port, "/healthz", timeout=5)[0] == 200:
                return proc, port
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("the server did not answer /healthz within 90 s")


def stop_server(proc):
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def main(argv=None):
    global DB_NAME
    args = parse_args(argv)
    DB_NAME = args.db_name
    why = pg_missing() or redis_missing(args.redis_db)
    if why:
        print(why, file=sys.stderr)
        return 1
    if args.reuse and not db_exists(DB_NAME):
        log(f"--reuse: there is no database {DB_NAME} yet; building it")
    tmp = Path(tempfile.mkdtemp(prefix="ug-bench-load-"))
    env = server_env(args, tmp)
    proc = None
    try:
        gen_seconds = prepare(args, env)
        django_setup(env)
        analyze()
        users = make_logins()
        size = case_count()
        numbers = sample_cases(200, args.seed)
        proc, port = start_server(args, env, tmp)
        return run(args, port, users, size, numbers, gen_seconds, tmp)
    finally:
        if proc is not None:
            stop_server(proc)
        from django.conf import settings

        if settings.configured:
            from django.db import connections

            connections.close_all()
        if not args.keep:
            pg_drop(DB_NAME)
        shutil.rmtree(tmp, ignore_errors=True)


def run(args, port, users, size, numbers, gen_seconds, tmp):
    cookies = {key: login(port, username) for key, username in users.items()}
    pages = [
        ("/healthz (baseline)", None, ["/healthz"]),
        ("dashboard /dashboard/", "leader", ["/dashboard/"]),
        ("dashboard data.json", "leader", ["/dashboard/data.json"]),
        ("dispatch queue /command/", "dispatcher", ["/command/"]),
        ("intake queue /centre/", "intake", ["/centre/"]),
        ("case list /cases/", "leader", ["/cases/"]),
        (f"case page /cases/<number>/ ({len(numbers)} cases)", "leader", [f"/cases/{n}/" for n in numbers]),
    ]
    rows = []
    for name, who, paths in pages:
        cookie = cookies.get(who)
        log(f"{name}: warm-up, alone, then {args.clients} clients × {args.requests} requests")
        first, first_errors, _ = drive(port, paths, cookie, 1, 1)  # cold: nothing of this page cached yet
        if args.warmup:
            drive(port, paths, cookie, min(args.clients, args.warmup), args.warmup)
        alone, alone_errors, _ = drive(port, paths, cookie, 1, min(40, args.requests))
        lat, errors, wall = drive(port, paths, cookie, args.clients, args.requests)
        errors += alone_errors + first_errors
        nq = count_queries(paths, users[who]) if who else 0
        rows.append((name, lat, errors, wall, alone, nq, first[0]))
        if errors:
            log(f"  errors: {errors[:5]}")
    base_p95 = pct(rows[0][1], 0.95)
    cases, events, first, last = size
    print(f"## Pages under {args.clients} concurrent clients at scale (PostgreSQL, gunicorn)\n")
    print(f"- Command: `{command()}`")
    for line in machine("postgres"):
        print(f"- {line.replace('urbangrid_bench', DB_NAME)}")
    print(f"- Server: `urbangrid serve`, {args.workers} sync gunicorn workers, Redis cache db {args.redis_db}; client threads "
          f"in the same machine, new connection per request")
    print(f"- Data: {cases:,} cases with {events:,} events, created {first:%Y-%m-%d} – {last:%Y-%m-%d}"
          + (f" (generated in {gen_seconds:.0f} s)" if gen_seconds else " (database reused from an earlier run)"))
    print(f"- Per page: {args.warmup} warm-up requests, {min(40, args.requests)} requests by one client alone, then "
          f"{args.requests} timed requests by {args.clients} concurrent clients")
    print()
    print(f"| page | requests | errors | median ms | p95 ms | p99 ms | req/s | p95 × /healthz | alone p95 ms | first ms | queries | goal p95 ≤ {GOAL_MS:.0f} ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    failed = 0
    for name, lat, errors, wall, alone, nq, first in rows:
        p95 = pct(lat, 0.95)
        ok = p95 <= GOAL_MS and not errors
        failed += 0 if ok or name.startswith("/healthz") else 1
        print(f"| {name} | {len(lat)} | {len(errors)} | {statistics.median(lat):.0f} | {p95:.0f} | {pct(lat, 0.99):.0f} | "
              f"{len(lat) / wall:.0f} | {p95 / base_p95:.1f} | {pct(alone, 0.95):.0f} | {first:.0f} | {nq} | "
              f"{'met' if ok else '**missed**'} |")
    print()
    print("- *alone p95*: one client, no queueing (the page's own server time plus the network stack); *first*: the "
          "page's first request, before anything of it is cached; *queries*: SQL queries of one warm request.")
    print(f"- Pages missing the goal: {failed}; errors: {sum(len(r[2]) for r in rows)}.")
    return 1 if any(r[2] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
