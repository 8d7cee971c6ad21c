"""Start the real thing for black-box tests: gunicorn / huey subprocesses against a site of their own
(``ug_testing.new_site``: file SQLite, or PostgreSQL when the run's DATABASE_URL says so, e.g. the demo city)."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


BIN = Path(sys.executable).parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def urbangrid(env, *args, timeout=300):
    return subprocess.run([str(BIN / "urbangrid"), *args], env=env, check=True, capture_output=True, text=True, timeout=timeout)


def logins(var_dir):
    """The demo logins a DEMO or HISTORY site's build wrote (``urbangrid demo``)."""
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
