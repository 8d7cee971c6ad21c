"""Two app server processes (gunicorn) and one task consumer (huey) against PostgreSQL and Redis, driving
a full loop through both servers: what the platform looks like in production, on one machine."""
import json
import os
import signal
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from fuzz.servers import BIN
from fuzz.servers import free_port as _free_port
from fuzz.servers import wait_up as _wait
from ug_testing import DEMO, new_site, suite_vendor

# Production's shape is PostgreSQL + Redis whatever the run's database: the PostgreSQL run (.ci/run runs the
# suite once per database, side by side) covers it; a second copy in the SQLite run would prove nothing new and
# would share this database and Redis database with the first.
pytestmark = pytest.mark.skipif(suite_vendor() != "postgresql", reason="runs in the PostgreSQL run of the suite")


class Api:
    def __init__(self, base, token=None):
        self.base, self.token = base, token

    def call(self, method, path, fields=None):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        data = None
        if fields is not None:
            boundary = uuid.uuid4().hex
            parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()]
            data = ("".join(parts) + f"--{boundary}--\r\n").encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")


def _token(base, login):
    req = urllib.request.Request(base + "/api/v1/auth/token", data=json.dumps(login).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())["token"]


@pytest.fixture
def cluster(tmp_path):
    import redis

    # This Redis database is the cluster's own: counters (login failures, rate limits) and queued tasks of an
    # earlier run must not carry over.
    redis.Redis.from_url("redis://127.0.0.1:6379/7").flushdb()
    env, drop = new_site(tmp_path, "urbangrid_multiproc", DEMO, URBANGRID_REDIS_URL="redis://127.0.0.1:6379/7",
                         URBANGRID_SWEEP_MINUTES="1")
    logins = json.loads((tmp_path / "demo" / "logins.json").read_text(encoding="utf-8"))
    ports = [_free_port(), _free_port()]
    procs = [subprocess.Popen([str(BIN / "urbangrid"), "serve", "--bind", f"127.0.0.1:{p}", "--workers", "2"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True) for p in ports]
    procs.append(subprocess.Popen([str(BIN / "urbangrid"), "run_huey", "--workers", "1"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
    try:
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        for b in bases:
            _wait(b + "/healthz")
        yield bases, logins, env
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        drop()


def test_full_loop_across_two_app_servers_and_a_task_consumer(cluster):
    (a, b), logins, env = cluster
    tok = {r: _token(a if i % 2 else b, {"username": logins[r]["username"], "password": logins[r]["password"]})
           for i, r in enumerate(["inspector", "intake_operator", "shift_lead", "dispatcher", "unit_handler"])}
    api = {r: Api(a if i % 2 else b, t) for i, (r, t) in enumerate(tok.items())}
    status, case = api["inspector"].call("POST", "/api/v1/cases", {
        "catalog_version": "local-demo", "class_code": "0401", "lon": "117.2352", "lat": "31.8785",
        "description": "路面塌陷", "idempotency_key": "multi-1"})
    # Inspector reports need a photo; the multipart above has none, so the API refuses with a field message.
    assert status == 422 and "photos" in case["fields"]
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (120, 0, 0)).save(buf, "JPEG")
    number = _post_with_photo(api["inspector"], "/api/v1/cases", {
        "catalog_version": "local-demo", "class_code": "0401", "lon": "117.2352", "lat": "31.8785",
        "description": "路面塌陷", "idempotency_key": "multi-2"}, buf.getvalue())["number"]
    unit = _unit_of_handler(env)
    for role, action, fields in [("intake_operator", "accept", {}), ("shift_lead", "file", {}),
                                 ("dispatcher", "dispatch", {"unit": unit})]:
        status, body = api[role].call("POST", f"/api/v1/cases/{number}/actions/{action}", fields)
        assert status == 200, body
    # The other server sees the same state at once.
    other = Api(b if api["dispatcher"].base == a else a, tok["dispatcher"])
    assert other.call("GET", f"/api/v1/cases/{number}")[1]["state"] == "handling"
    fb = _post_with_photo(api["unit_handler"], f"/api/v1/cases/{number}/actions/feed_back", {"opinion": "已修复"}, buf.getvalue())
    assert fb["state"] == "fed_back"
    # The task consumer takes work from Redis: a deadline sweep enqueued here comes back with its result.
    out = subprocess.run([str(BIN / "urbangrid"), "shell", "-c",
                          "from urbangrid.cases.tasks import sweep_now; print(sweep_now().get(blocking=True, timeout=60))"],
                         env=env, capture_output=True, text=True, check=True, timeout=120)
    result = out.stdout.strip().splitlines()[-1]
    assert "overdue" in result and "approaching" in result, out.stdout + out.stderr


def _post_with_photo(api, path, fields, jpeg):
    boundary = uuid.uuid4().hex
    body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items())
    body += (f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="p.jpg"\r\n'
             f"Content-Type: image/jpeg\r\n\r\n").encode() + jpeg + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(api.base + path, data=body, method="POST", headers={
        "Authorization": f"Bearer {api.token}", "Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status in (200, 201)
        return json.loads(r.read())


def _unit_of_handler(env):
    out = subprocess.run([str(BIN / "urbangrid"), "shell", "-c",
                          "from urbangrid.org.models import RoleAssignment as R;"
                          "print(R.objects.get(person__user__username='unit_handler', role='unit_handler').unit.code)"],
                         env=env, capture_output=True, text=True, check=True, timeout=60)
    return out.stdout.strip().splitlines()[-1]


def test_login_failures_count_across_servers_and_workers(cluster):
    """Five wrong passwords spread over two servers of two workers each lock the account everywhere: the
    count is shared (Redis here), not kept per process (where 4 processes × 5 would be let through)."""
    (a, b), logins, _env = cluster
    login = {"username": logins["leader"]["username"], "password": logins["leader"]["password"]}

    def status(base, body):
        try:
            _token(base, body)
            return 200
        except urllib.error.HTTPError as exc:
            return exc.code

    assert [status(a if i % 2 else b, {**login, "password": f"wrong-{i}"}) for i in range(5)] == [401] * 5
    assert status(a, login) == 429 and status(b, login) == 429
