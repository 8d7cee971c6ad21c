"""Shared by the loop and HTTP benchmarks: a scratch database, Django on it with the demo city, the
machine description and the baseline helpers. Everything runs on 127.0.0.1 and in a temporary directory.
"""
import os
import platform
import shlex
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
BENCH_DB = "bench_urbangrid"  # created and dropped by the benchmarks, never any other database
MD5 = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# docs/scaling.md §1: a megacity's and a province's cases a year
MEGACITY_CASES_PER_YEAR = 3_000_000
PROVINCE_CASES_PER_YEAR = 15_000_000
INSIDE_WG01 = (117.2352, 31.8785)  # inside WG01 (中山区), patrolled by the demo inspector


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def positive(parser, args, *names):
    """Refuse non-positive counts: argparse's error prints the message and exits with code 2."""
    for name in names:
        value = getattr(args, name.lstrip("-").replace("-", "_"))
        if value <= 0:
            parser.error(f"{name} must be a positive whole number, got {value}")


# --- PostgreSQL scratch databases ------------------------------------------------------------------

def pg_admin(*statements):
    import psycopg

    with psycopg.connect(**PG, dbname="postgres", autocommit=True, connect_timeout=5) as conn:
        for sql in statements:
            conn.execute(sql)


def pg_create(name):
    # A leftover of an interrupted run of this benchmark is ours to drop.
    pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')


def pg_drop(name):
    try:
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception as exc:  # noqa: BLE001 - report, but do not hide the benchmark's own error
        log(f"could not drop database {name}: {exc}")


def pg_missing():
    """Why PostgreSQL cannot be used for the benchmark, or None."""
    try:
        pg_admin("SELECT 1")
    except Exception as exc:  # noqa: BLE001
        return f"PostgreSQL is not reachable at {PG['host']}:{PG['port']} as {PG['user']}: {exc}"
    return None


def pgbench_path():
    return shutil.which("pgbench") or next(
        (str(p) for p in sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"), reverse=True)), None)


# --- Django on a scratch database ------------------------------------------------------------------

def database_url(db, tmp):
    if db == "sqlite":
        return f"sqlite:///{tmp / 'bench.sqlite3'}"
    return pg_url(BENCH_DB)


def point_django_at(var_dir, database_url=None):
    """Before django.setup(): the settings read the var directory and the database from the environment (no
    ``database_url``: the SQLite file of the var directory); the checkout's src first on the path."""
    os.environ["URBANGRID_VAR_DIR"] = str(var_dir)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "urbangrid.settings"
    sys.path.insert(0, str(ROOT / "src"))


def pg_url(name):
    """The URL of the scratch PostgreSQL database ``name``."""
    return f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{name}"


def setup_django(db, tmp, history=False, cases=None, build=True):
    """Django on a fresh database (SQLite file in ``tmp`` or ``bench_urbangrid``), migrated, with the demo
    city (and its case history with ``history``: ``cases`` received, the demo's own story by default); returns
    the demo logins. MD5 password hashing makes the demo's logins fast to create. ``build=False``: the database
    holds the demo already (a run kept it): only migrated; returns None."""
    point_django_at(tmp, database_url(db, tmp))
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    settings.PASSWORD_HASHERS = MD5
    log(f"migrating the {db} database")
    call_command("migrate", verbosity=0)
    if not build:
        return None
    from urbangrid.fabricate.demo.build import build_demo

    log("building the demo city" + (" with its case history" if history else ""))
    _summary, logins, _path = build_demo(seed=2024, log=lambda m: None, history=history, cases=cases)
    return logins


def teardown(db, tmp, keep=False):
    """Close Django's connections, drop ``bench_urbangrid`` (PostgreSQL) and remove the temporary directory
    (``keep``: leave both for a later run)."""
    from django.conf import settings

    if settings.configured:
        from django.db import connections

        connections.close_all()
    if keep:
        return
    if db == "postgres":
        pg_drop(BENCH_DB)
    shutil.rmtree(tmp, ignore_errors=True)


def handler_unit():
    """The unit the demo's unit_handler login works for (as in tests/cases/test_loop_api.py)."""
    from urbangrid.org.models import RoleAssignment

    return RoleAssignment.objects.get(person__user__username="unit_handler", role="unit_handler").unit.code


def jpeg_bytes(color=(200, 30, 30), size=(64, 48)):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG")
    return buf.getvalue()


# --- the report ------------------------------------------------------------------------------------

def machine(db):
    import django

    cpu = "unknown"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    if db == "sqlite":
        import sqlite3

        database = f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=FULL, temporary file)"
    else:
        import psycopg

        with psycopg.connect(**PG, dbname="postgres", connect_timeout=5) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
            sync = conn.execute("SHOW synchronous_commit").fetchone()[0]
        database = f"PostgreSQL {version} on {PG['host']}:{PG['port']} (synchronous_commit={sync}, database {BENCH_DB})"
    return [f"CPU: {cpu}, {os.cpu_count()} logical cores",
            f"Python {platform.python_version()}, Django {django.get_version()}", f"Database: {database}"]


def command():
    exe = os.path.relpath(sys.executable)
    # An interpreter outside the checkout is named by the project's own path, never by this machine's.
    return shlex.join([exe if not exe.startswith("..") else ".venv/bin/python", *sys.argv])


def print_header(title, db, extra=(), db_name=None):
    print(f"## {title} ({db})\n")
    print(f"- Command: `{command()}`")
    for line in [*machine(db), *extra]:
        line = line.replace(f"database {BENCH_DB}", f"database {db_name}") if db_name else line
        print(f"- {line}")
    print()


# --- a baseline checkout ----------------------------------------------------------------------------

class baseline_tree:
    """``with baseline_tree(ref) as src:`` the ``src`` folder of git revision ``ref`` in a temporary work tree
    (None when ``ref`` is None), to put first on PYTHONPATH: the same command run with yesterday's code."""

    def __init__(self, ref):
        self.ref, self.tree = ref, None

    def __enter__(self):
        if not self.ref:
            return None
        import subprocess
        import tempfile

        self.tree = Path(tempfile.mkdtemp(prefix="ug-bench-base-"))
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(self.tree), self.ref], check=True,
                       capture_output=True)
        return self.tree / "src"

    def __exit__(self, *exc):
        if self.tree is not None:
            import subprocess

            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(self.tree)], check=False)
        return False


# --- measuring: percentiles, ratios, CPU of other processes, one HTTP request ------------------------

def percentile(sorted_values, q):
    """Nearest-rank percentile of an ascending list (``q`` in 0–1): the smallest value with at least q of the
    values at or below it; NaN for no values."""
    if not sorted_values:
        return float("nan")
    import math

    return sorted_values[min(len(sorted_values), max(1, math.ceil(q * len(sorted_values)))) - 1]


def ratio(ours, baseline):
    """ours ÷ baseline (both rates: higher is better), or NaN without a baseline."""
    return ours / baseline if baseline else float("nan")


def verdict(value, goal):
    """'met' or '**missed**' for a ratio that must reach ``goal`` (NaN: missed)."""
    return "met" if value >= goal else "**missed**"


def cpu_snapshot(select):
    """{pid: (ppid, own CPU ticks, reaped children's CPU ticks)} of the processes ``select(pid, ppid, cmdline)`` picks,
    from /proc (Linux); None when /proc cannot be read."""
    try:
        entries = [e for e in Path("/proc").iterdir() if e.name.isdigit()]
    except OSError:
        return None
    out = {}
    for entry in entries:
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # the process ended meanwhile
            continue
        pid, ppid = int(entry.name), int(fields[1])
        if select(pid, ppid, cmdline):  # utime + stime, cutime + cstime in clock ticks
            out[pid] = (ppid, int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14]))
    return out


def cpu_between(before, after):
    """CPU seconds the selected processes used between two snapshots. Per request, a server's own CPU time is its
    cost whatever else runs on a shared machine. A process that ended in between (a gunicorn worker recycled after
    --max-requests) counts through its parent's reaped children's time when the parent is selected too (less what
    it had used before), else not at all (a PostgreSQL backend: a small undercount)."""
    if before is None or after is None:
        return None
    ticks = 0
    for pid, (_ppid, own, reaped) in after.items():
        old = before.get(pid)
        ticks += own + reaped - (old[1] + old[2] if old else 0)
    for pid, (ppid, own, _reaped) in before.items():
        if pid not in after and ppid in after:
            ticks -= own
    return ticks / os.sysconf("SC_CLK_TCK")


def server_processes(master_pid):
    """gunicorn's master and its workers."""
    return lambda pid, ppid, _cmd: master_pid in (pid, ppid)


def postgres_backends(dbname):
    """The PostgreSQL backends serving ``dbname`` ("postgres: user dbname host(port) state")."""
    return lambda _pid, _ppid, cmd: cmd.startswith("postgres: ") and f" {dbname} " in cmd


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(port, method, path, body=None, headers=None, timeout=60):
    """One request on a new connection (sync gunicorn workers close it); (status, headers, body)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"Connection": "close", **(headers or {})})
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read()
    finally:
        conn.close()


def serve_argv(dry_run_output, recycle=True):
    """The gunicorn command ``urbangrid serve --dry-run`` printed, without its worker recycling options
    (``--max-requests``, ``--max-requests-jitter``) unless ``recycle``."""
    argv, out = dry_run_output.split(), []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif not recycle and arg in ("--max-requests", "--max-requests-jitter"):
            skip = True
        else:
            out.append(arg)
    return out


def serve(env, port, workers, log_path, ready="/healthz", preexec=None, recycle=True):
    """``urbangrid serve`` (the production command: gunicorn, sync workers, access log) on 127.0.0.1:port, in a
    session of its own; returns the process once ``ready`` answers 200 (the master's pid is the process's).
    ``recycle=False`` runs the same gunicorn command without recycling workers every ~2,000 requests: a side by side
    measurement at hundreds of requests/s would otherwise find a new worker's start (about a second of CPU) in
    one side or the other."""
    import subprocess
    import time

    exe = Path(sys.executable).parent / "urbangrid"
    command = [str(exe), "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    if not recycle:
        printed = subprocess.run([*command, "--dry-run"], env=env, check=True, capture_output=True, text=True).stdout
        command = serve_argv(printed.strip().splitlines()[-1], recycle=False)
    logf = open(log_path, "wb")
    proc = subprocess.Popen(command, env=env, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=preexec)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if http(port, "GET", ready, timeout=5)[0] == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.2)
    stop_server(proc)
    raise RuntimeError("the server did not come up:\n" + Path(log_path).read_text(errors="replace")[-3000:])


def stop_server(proc):
    import signal
    import subprocess

    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


# --- Redis (raw protocol: no client library needed) ---------------------------------------------------

def _redis(db, *command):
    import socket

    parts = [b"SELECT", str(db).encode()], [c.encode() for c in command]
    payload = b"".join(b"*%d\r\n" % len(p) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in p) for p in parts)
    with socket.create_connection(("127.0.0.1", 6379), timeout=5) as s:
        s.sendall(payload)
        data = b""
        while data.count(b"\r\n") < 2:
            chunk = s.recv(1000)
            if not chunk:
                break
            data += chunk
    return data


def redis_missing(db):
    """Why Redis on 127.0.0.1:6379 cannot be used with database ``db``, or None."""
    try:
        data = _redis(db, "PING")
    except OSError as exc:
        return f"Redis is not reachable at 127.0.0.1:6379: {exc}"
    return None if b"+PONG" in data else f"Redis at 127.0.0.1:6379 did not answer PING on database {db}: {data!r}"


def redis_flush(db):
    """Empty Redis database ``db`` (the benchmark's own, given on its command line)."""
    if b"+OK\r\n+OK" not in _redis(db, "FLUSHDB"):
        raise RuntimeError(f"Redis FLUSHDB on database {db} failed")
