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
BENCH_DB = "urbangrid_bench"  # created and dropped by the benchmarks, never any other database
MD5 = ["django.contrib.auth.hashers.MD5PasswordHasher"]
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
    return f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{BENCH_DB}"


def setup_django(db, tmp):
    """Django on a fresh database (SQLite file in ``tmp`` or ``urbangrid_bench``), migrated, with the demo
    city; returns the demo logins. MD5 password hashing makes the demo's logins fast to create."""
    # Before django.setup(): the settings read the database and var directory from the environment.
    os.environ["URBANGRID_VAR_DIR"] = str(tmp)
    os.environ["DATABASE_URL"] = database_url(db, tmp)
    os.environ["DJANGO_SETTINGS_MODULE"] = "urbangrid.settings"
    sys.path.insert(0, str(ROOT / "src"))
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    settings.PASSWORD_HASHERS = MD5
    log(f"migrating the {db} database")
    call_command("migrate", verbosity=0)
    from urbangrid.fabricate.demo.build import build_demo

    log("building the demo city")
    _summary, logins, _path = build_demo(seed=2024, log=lambda m: None)
    return logins


def teardown(db, tmp):
    """Close Django's connections, drop ``urbangrid_bench`` (PostgreSQL) and remove the temporary directory."""
    from django.conf import settings

    if settings.configured:
        from django.db import connections

        connections.close_all()
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


def print_header(title, db, extra=()):
    print(f"## {title} ({db})\n")
    print(f"- Command: `{command()}`")
    for line in [*machine(db), *extra]:
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
