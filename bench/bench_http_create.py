"""Case creation over real HTTP against a minimal JSON view on the same gunicorn, in the same run.

    .venv/bin/python bench/bench_http_create.py [--db sqlite|postgres] [--requests 400] [--concurrency 4] [--photo-size 64x48]

Builds the demo city on a scratch database (a temporary SQLite file, or the PostgreSQL database
``bench_urbangrid``, created and dropped here), creates the table of /bench/write, starts gunicorn (2 sync workers, 127.0.0.1, a free port,
URBANGRID_BENCH=1 so /bench/ping exists), takes a bearer token for the demo inspector from
POST /api/v1/auth/token, then sends N requests from C client threads (http.client, a new connection per
request as sync workers close it) to each of: GET /bench/ping (``JsonResponse({"ok": True})``, the
baseline), POST /bench/write (a bound, not a goal: a JSON view that commits one row through Django's cursor,
the least any view that stores something costs), POST /bench/upload (a bound: the create's own multipart body,
its photo checked, re-encoded and stored by the project's code, then one row: the least any report with a photo
costs) and POST /api/v1/cases (multipart: class local-demo 0401 at lon 117.2352 lat 31.8785 in grid
WG01, one JPEG of --photo-size, 64×48 by default; a phone's 4032x3024 shows the cost of re-encoding).
Reports requests/s, p50/p95 latency, the gunicorn processes' CPU time per request (robust against other load
on a shared machine; PostgreSQL's own processes are not counted) and the ratio create ÷ ping (goal ≥ 0.3).
Demo logins are hashed with MD5 in this process for setup speed; the inspector's password is then re-hashed
with Django's default hasher, because gunicorn runs with the project's settings.
"""
import argparse
import http.client
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

GOAL = 0.3
WARMUP = 20  # untimed requests per endpoint, so both workers have loaded code, grid index and calendar
REQUEST_TIMEOUT = 30  # seconds, per request
PHASE_DEADLINE = 300  # seconds: a measurement stops issuing requests after this and counts as failed


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--requests", type=int, default=400, help="timed requests per endpoint (default 400)")
    p.add_argument("--concurrency", type=int, default=4, help="client threads (default 4)")
    p.add_argument("--photo-size", default="64x48", help="width x height of the uploaded JPEG (default 64x48)")
    args = p.parse_args(argv)
    c.positive(p, args, "--requests", "--concurrency")
    try:
        args.photo_size = tuple(int(v) for v in args.photo_size.lower().split("x"))
        if len(args.photo_size) != 2 or not all(0 < v <= 8192 for v in args.photo_size):
            raise ValueError
    except ValueError:
        p.error(f"--photo-size must be WIDTHxHEIGHT, each 1 to 8192, got {args.photo_size}")
    if args.concurrency > 64:
        p.error("--concurrency at most 64")
    return args


def multipart(fields, files):
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()]
    parts += [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{name}"\r\n'
              f'Content-Type: {ctype}\r\n\r\n'.encode() + data + b"\r\n" for k, name, data, ctype in files]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def call(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def load(port, n, concurrency, expect, method, path, body=None, headers=None):
    """n requests from ``concurrency`` threads; returns (requests/s, sorted latencies in s, failures)."""
    latencies, failures, tickets = [], [], itertools.count()
    deadline = time.perf_counter() + PHASE_DEADLINE

    def worker():
        while next(tickets) < n:
            if time.perf_counter() > deadline:
                failures.append("phase deadline passed")
                return
            t = time.perf_counter()
            try:
                status, data = call(port, method, path, body, headers)
            except OSError as exc:
                failures.append(repr(exc))
                continue
            latencies.append(time.perf_counter() - t)
            if status != expect:
                failures.append(f"HTTP {status}: {data[:300].decode(errors='replace')}")

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return n / (time.perf_counter() - start), sorted(latencies), failures


def server_cpu(master_pid):
    """CPU seconds (user + system) used so far by gunicorn's master and workers, from /proc (Linux), or None.
    Per request it is the server's own cost, which other load on a shared machine does not inflate the way
    it inflates wall-clock rates."""
    tick, total, found = os.sysconf("SC_CLK_TCK"), 0, False
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(entry.name) == master_pid or int(fields[1]) == master_pid:  # fields[1] is the parent's pid
            total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
            found = True
    return total / tick if found else None


def pct(sorted_values, q):
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))] if sorted_values else float("nan")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(db, tmp, port):
    exe = Path(sys.executable).parent / "gunicorn"
    env = {**os.environ, "URBANGRID_BENCH": "1", "DATABASE_URL": c.database_url(db, tmp), "URBANGRID_VAR_DIR": str(tmp),
           "DJANGO_SETTINGS_MODULE": "urbangrid.settings"}
    cmd = [str(exe if exe.exists() else c.ROOT / ".venv/bin/gunicorn"), "urbangrid.wsgi:application",
           "-b", f"127.0.0.1:{port}", "--workers", "2", "--worker-class", "sync", "--timeout", "60",
           "--graceful-timeout", "5", "--log-level", "warning", "--pythonpath", str(c.ROOT / "src")]
    log = open(tmp / "gunicorn.log", "wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp)
    for _ in range(300):  # up to 30 s
        if proc.poll() is not None:
            break
        try:
            if call(port, "GET", "/bench/ping")[0] == 200:
                return proc, cmd
        except OSError:
            pass
        time.sleep(0.1)
    stop(proc)
    raise RuntimeError("gunicorn did not come up:\n" + (tmp / "gunicorn.log").read_text(errors="replace")[-3000:])


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def rehash_for_server(logins):
    """gunicorn uses the project's (default) hashers, which do not verify this process's MD5 hashes."""
    from django.conf import global_settings
    from django.contrib.auth import get_user_model
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=global_settings.PASSWORD_HASHERS):
        user = get_user_model().objects.get(username="inspector")
        user.set_password(logins["inspector"]["password"])
        user.save(update_fields=["password"])


def create_write_table():
    """The table of /bench/write (ops/baselines.py), on the benchmark's scratch database."""
    from django.db import connection

    key = "INTEGER PRIMARY KEY AUTOINCREMENT" if connection.vendor == "sqlite" else "BIGSERIAL PRIMARY KEY"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE bench_write (id {key}, note TEXT NOT NULL)")


def written():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM bench_write")
        return cursor.fetchone()[0]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.db == "postgres" and (problem := c.pg_missing()):
        print(f"Cannot run the PostgreSQL benchmark: {problem}", file=sys.stderr)
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="urbangrid-bench-http-"))
    proc = None
    try:
        if args.db == "postgres":
            c.pg_create(c.BENCH_DB)
        logins = c.setup_django(args.db, tmp)
        rehash_for_server(logins)
        create_write_table()
        from django.db import connections

        connections.close_all()
        port = free_port()
        c.log(f"starting gunicorn on 127.0.0.1:{port}")
        proc, cmd = start_gunicorn(args.db, tmp, port)
        status, data = call(port, "POST", "/api/v1/auth/token", json.dumps(
            {"username": "inspector", "password": logins["inspector"]["password"]}), {"Content-Type": "application/json"})
        if status != 200:
            raise RuntimeError(f"token request failed: HTTP {status} {data[:300]!r}")
        body, ctype = multipart(
            {"catalog_version": "local-demo", "class_code": "0401", "lon": c.INSIDE_WG01[0], "lat": c.INSIDE_WG01[1],
             "description": "路面出现塌陷，约一平方米", "source": "inspector"},
            [("photos", "photo.jpg", c.jpeg_bytes(size=args.photo_size), "image/jpeg")])
        create = (201, "POST", "/api/v1/cases", body, {"Content-Type": ctype, "Authorization": f"Bearer {json.loads(data)['token']}"})
        ping = (200, "GET", "/bench/ping")
        write = (201, "POST", "/bench/write", json.dumps({"note": "floor"}), {"Content-Type": "application/json"})
        upload = (201, "POST", "/bench/upload", body, {"Content-Type": ctype})
        c.log(f"warming up ({WARMUP} requests each), then {args.requests} requests each at concurrency {args.concurrency}")
        results, cpu = {}, {}
        for name, spec in (("ping", ping), ("write", write), ("upload", upload), ("create", create)):
            _rate, _lat, failures = load(port, WARMUP, args.concurrency, *spec)
            cpu_before = server_cpu(proc.pid)
            results[name] = load(port, args.requests, args.concurrency, *spec)
            cpu_after = server_cpu(proc.pid)
            cpu[name] = None if cpu_before is None or cpu_after is None else (cpu_after - cpu_before) / args.requests
            failures += results[name][2]
            if failures:
                raise RuntimeError(f"{len(failures)} failed {name} requests, first: {failures[0]}")
        from urbangrid.cases.models import Case

        created = Case.objects.count()
        assert created == WARMUP + args.requests, f"expected {WARMUP + args.requests} cases, found {created}"
        assert written() == 2 * (WARMUP + args.requests), f"expected {2 * (WARMUP + args.requests)} rows in bench_write"
    except (RuntimeError, AssertionError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if proc is not None:
            stop(proc)
        c.teardown(args.db, tmp)

    import gunicorn

    cmd[0] = os.path.relpath(cmd[0]) if not os.path.relpath(cmd[0]).startswith("..") else cmd[0]
    c.print_header("Case creation over HTTP", args.db, [
        f"Server: gunicorn {gunicorn.__version__}, `{' '.join(cmd[:4])} --workers 2 --worker-class sync` "
        "with URBANGRID_BENCH=1 and the demo city (seed 2024); DEBUG off",
        f"Client: {args.concurrency} threads in this process (http.client, new connection per request), "
        f"{args.requests} timed requests per endpoint after {WARMUP} untimed warm-up requests; client and server share the CPU",
        f"Create: POST /api/v1/cases multipart (local-demo 0401, lon 117.2352 lat 31.8785 in WG01, one "
        f"{args.photo_size[0]}×{args.photo_size[1]} JPEG), "
        "bearer token of the demo inspector from POST /api/v1/auth/token; every response 201",
        "PASSWORD_HASHERS = MD5 in the benchmark process for the demo build; the inspector re-hashed with the default "
        "hasher for the server's login"])
    print("| endpoint | requests | requests/s | p50 latency | p95 latency | server CPU per request | ratio to ping |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    base = results["ping"][0]
    for name, label in (("ping", "GET /bench/ping (baseline)"),
                        ("write", "POST /bench/write (bound: commits one row, nothing else)"),
                        ("upload", "POST /bench/upload (bound: the create's body, its photo checked and stored, one row)"),
                        ("create", "POST /api/v1/cases")):
        rate, lat, _ = results[name]
        ratio = f"**{rate / base:.2f}** (goal ≥ {GOAL})" if name == "create" else f"{rate / base:.2f}"
        server = "n/a" if cpu.get(name) is None else f"{1000 * cpu[name]:.2f} ms"
        print(f"| {label} | {args.requests:,} | {rate:,.1f} | {1000 * pct(lat, 0.5):.1f} ms | {1000 * pct(lat, 0.95):.1f} ms "
              f"| {server} | {ratio} |")
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
