"""Start the real thing for black-box tests: a fresh database (file SQLite, or PostgreSQL when DATABASE_URL
says so), migrated and loaded with the demo city, and gunicorn / huey subprocesses against it."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from ug_testing import site_database

BIN = Path(sys.executable).parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg(sql):
    import psycopg

    with psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True, connect_timeout=5) as c:
        c.execute(sql)


def wait_up(url, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not come up")


def database_env(var_dir, name, vendor=None):
    """Environment for subprocesses on a new database ``name``: PostgreSQL if ``vendor`` (or the test run's
    DATABASE_URL) says so, else a SQLite file in ``var_dir``. Returns (env, drop)."""
    vendor = vendor or ("postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite")
    env = dict(os.environ, URBANGRID_VAR_DIR=str(var_dir), URBANGRID_GRID_VERSION_TTL="0")
    for k in ("URBANGRID_HUEY_IMMEDIATE", "URBANGRID_REDIS_URL", "URBANGRID_TEST_SQLITE", "DATABASE_URL"):
        env.pop(k, None)
    if vendor == "postgresql":
        name = site_database(name)
        try:
            pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            pg(f'CREATE DATABASE "{name}"')
        except Exception as exc:  # PostgreSQL is part of the machine: its absence is a failure
            pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is needed: {exc}")
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"
        return env, lambda: pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return env, lambda: None


def urbangrid(env, *args, timeout=300):
    return subprocess.run([str(BIN / "urbangrid"), *args], env=env, check=True, capture_output=True, text=True, timeout=timeout)


def demo(env, var_dir):
    urbangrid(env, "migrate", "--noinput", "-v0")
    urbangrid(env, "demo", "--no-history", "--seed", "3")
    return json.loads((Path(var_dir) / "demo" / "logins.json").read_text(encoding="utf-8"))


def start_gunicorn(env, port, workers=2, extra=()):
    # gunicorn itself, as `urbangrid serve` runs it, without the request-line limit: a fuzzer's
    # multi-kilobyte query strings must reach the application, which is what is under test.
    return subprocess.Popen([str(BIN / "gunicorn"), "urbangrid.wsgi:application", "--bind", f"127.0.0.1:{port}",
                             "--workers", str(workers), "--worker-class", "sync", "--timeout", "60",
                             "--limit-request-line", "0", *extra],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def start_huey(env):
    return subprocess.Popen([str(BIN / "urbangrid"), "run_huey", "--workers", "1"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def stop(proc, sig=signal.SIGTERM):
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def token(base, login):
    req = urllib.request.Request(base + "/api/v1/auth/token", method="POST", headers={"Content-Type": "application/json"},
                                 data=json.dumps({"username": login["username"], "password": login["password"]}).encode())
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())["token"]
