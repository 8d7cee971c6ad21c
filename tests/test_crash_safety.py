"""Crash safety: the app server (gunicorn, master and workers), an import and the task consumer (huey)
are killed with SIGKILL at random moments while work goes on, restarted, and then the data must hold:
no half-written case (every case has its report event, its state is its last event's, every hash chain
verifies with `urbangrid audit verify`), every acknowledged creation exists exactly once, the import is
all or nothing, and every notification reaches the receiver (which drops repeats by their
Idempotency-Key, as the notification module's contract says). On a SQLite file and on PostgreSQL."""
import http.client
import io
import json
import os
import random
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


from fuzz.servers import BIN, free_port, logins, start_gunicorn, start_huey, stop, token, urbangrid, wait_up
from ug_testing import DEMO, new_site

KILLS = 3          # app-server kills
SHORT_KILLS = 2    # import and consumer kills


class Receiver:
    """A notification endpoint on loopback: records every POST, slowly, so that kills land mid-delivery."""

    def __init__(self):
        self.posts = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(0.05)
                with outer.lock:
                    outer.posts.append((self.headers.get("Idempotency-Key"), json.loads(body)["id"]))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def ids(self):
        with self.lock:
            return [i for _, i in self.posts]


def _jpeg():
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 20, 20)).save(buf, "JPEG")
    return buf.getvalue()


JPEG = _jpeg()


def _call(base, tok, method, path, fields=None, photo=False):
    headers = {"Authorization": f"Bearer {tok}"}
    data = None
    if fields is not None:
        b = uuid.uuid4().hex
        data = b"".join(f'--{b}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items())
        if photo:
            data += (f'--{b}\r\nContent-Disposition: form-data; name="photos"; filename="p.jpg"\r\n'
                     f"Content-Type: image/jpeg\r\n\r\n").encode() + JPEG + b"\r\n"
        data += f"--{b}--\r\n".encode()
        headers["Content-Type"] = f"multipart/form-data; boundary={b}"
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None
    except (OSError, http.client.HTTPException):  # the server was killed under us (perhaps mid-answer): not acknowledged
        return None, None


class Driver:
    """Reports cases and walks them to dispatch through the API, as mobile clients do: an unanswered
    request is retried with the same idempotency key; what was answered 2xx is acknowledged."""

    def __init__(self, base, tokens, stop_event, worker):
        self.base, self.tok, self.stop, self.worker = base, tokens, stop_event, worker
        self.acked = {}      # idempotency key -> case number
        self.errors = []     # 5xx answers (never acceptable)

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            key = f"crash-{self.worker}-{n}"
            number = None
            while number is None and not self.stop.is_set():
                status, body = _call(self.base, self.tok["inspector"], "POST", "/api/v1/cases", {
                    "catalog_version": "local-demo", "class_code": "0401", "lon": "117.2352", "lat": "31.8785",
                    "description": f"井盖缺失 {key}", "idempotency_key": key}, photo=True)
                if status in (200, 201):
                    number = body["number"]
                    self.acked[key] = number
                elif status is not None and status != 429:  # 4xx/5xx to a valid report is a bug
                    self.errors.append((key, status))
                    break
                else:
                    time.sleep(0.2)
            if number is None:
                continue
            for role, action, fields in [("intake_operator", "accept", {}), ("shift_lead", "file", {}),
                                         ("dispatcher", "dispatch", {"unit": "CGJ-SZ", "opinion": "速办"})]:
                for _attempt in range(30):
                    if self.stop.is_set():
                        return
                    status, _ = _call(self.base, self.tok[role], "POST", f"/api/v1/cases/{number}/actions/{action}", fields)
                    if status == 200:
                        break
                    if status is not None and status >= 500:
                        self.errors.append((number, action, status))
                        break
                    if status in (400, 409):  # the unanswered attempt did commit: the case moved on already
                        break
                    time.sleep(0.2)


def _state_report(env):
    script = (
        "import json\n"
        "from urbangrid.cases.models import Case, CaseEvent, Notification, Delivery\n"
        "from urbangrid.grids.models import ResponsibilityGrid, UnitGrid\n"
        "out = {'cases': [], 'keys': {}}\n"
        "for c in Case.objects.order_by('pk'):\n"
        "    ev = list(CaseEvent.objects.filter(case=c).order_by('seq').values('seq', 'action', 'to_state'))\n"
        "    out['cases'].append({'number': c.number, 'state': c.state, 'version': c.version, 'events': ev})\n"
        "    out['keys'].setdefault(c.idempotency_key or '', []).append(c.number)\n"
        "out['notifications'] = list(Notification.objects.values_list('pk', flat=True))\n"
        "out['unsent'] = Notification.objects.exclude(deliveries__sent_at__isnull=False).count()\n"
        "out['grid_names'] = list(ResponsibilityGrid.objects.values_list('name', flat=True))\n"
        "out['land_use'] = list(UnitGrid.objects.values_list('land_use', flat=True))\n"
        "print('JSON' + json.dumps(out))\n")
    out = urbangrid(env, "shell", "-c", script).stdout
    return json.loads(out.split("JSON", 1)[1])


def _wait_delivered(env, seconds):
    """Until every notification has a sent delivery (or ``seconds`` pass), polled inside one ``urbangrid shell``:
    a shell a poll cost a Django start (≈ 1.5 s CPU) each second."""
    script = ("import time\n"
              "from urbangrid.cases.models import Notification\n"
              f"deadline = time.monotonic() + {seconds}\n"
              "while time.monotonic() < deadline and Notification.objects.exclude(deliveries__sent_at__isnull=False).exists():\n"
              "    time.sleep(0.5)\n")
    urbangrid(env, "shell", "-c", script, timeout=seconds + 60)


def test_sigkill_leaves_no_half_written_work(tmp_path):
    # The run's own database: `make test` runs once on SQLite and once on PostgreSQL (.ci/run), so each is
    # crashed once, the PostgreSQL one with Redis as production runs it.
    vendor = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    rng = random.Random(f"h4-{vendor}")
    receiver = Receiver()
    env, drop = new_site(tmp_path, f"h4_crash_{vendor}", DEMO, vendor)
    env["URBANGRID_NOTIFY_CHANNELS"] = json.dumps([{"name": "hook", "type": "webhook", "url": receiver.url, "format": "json"}])
    if vendor == "postgresql":
        import redis

        env["URBANGRID_REDIS_URL"] = "redis://127.0.0.1:6379/12"
        redis.Redis.from_url(env["URBANGRID_REDIS_URL"]).flushdb()  # no counters or tasks of an earlier run
    procs = []
    try:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_gunicorn(env, port)
        procs.append(server)
        wait_up(base + "/healthz")
        accounts = logins(tmp_path)
        tokens = {r: token(base, accounts[r]) for r in ("inspector", "intake_operator", "shift_lead", "dispatcher")}

        # 1. Clients report and dispatch while the whole app server is SIGKILLed and restarted.
        stop_event = threading.Event()
        drivers = [Driver(base, tokens, stop_event, w) for w in range(3)]
        threads = [threading.Thread(target=d.run) for d in drivers]
        for t in threads:
            t.start()
        for _ in range(KILLS):
            time.sleep(rng.uniform(1.0, 2.5))
            stop(server, signal.SIGKILL)
            server = start_gunicorn(env, port)
            procs.append(server)
            wait_up(base + "/healthz")
        time.sleep(rng.uniform(1.0, 2.0))
        stop_event.set()
        for t in threads:
            t.join(60)

        # 2. A grid import SIGKILLed at random moments: all or nothing, then complete when re-run.
        city = tmp_path / "city.geojson"
        urbangrid(env, "grids", "export", "-o", str(city))
        doc = json.loads(city.read_text(encoding="utf-8"))
        for f in doc["features"]:
            if f["properties"]["layer"] == "responsibility_grid":
                f["properties"]["name"] += "·新"
            if f["properties"]["layer"] == "unit_grid":
                f["properties"]["land_use"] = "mixed"
        city.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        for _ in range(SHORT_KILLS):
            imp = subprocess.Popen([str(BIN / "urbangrid"), "grids", "import", str(city)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            time.sleep(rng.uniform(1.0, 2.5))
            stop(imp, signal.SIGKILL)
            seen = _state_report(env)
            renamed = sum(n.endswith("·新") for n in seen["grid_names"])
            mixed = sum(v == "mixed" for v in seen["land_use"])
            if renamed:  # the kill came after the commit: all of it is there
                assert renamed == len(seen["grid_names"]) and mixed == len(seen["land_use"])
                break
            assert mixed == 0, "half an import is visible"
        urbangrid(env, "grids", "import", str(city))

        # 3. The task consumer delivers the outbox and is SIGKILLed mid-delivery, then restarted.
        enqueue = ("from urbangrid.cases.tasks import deliver_notifications\n"
                   "for _ in range(40): deliver_notifications()\n")
        consumer = None
        for _ in range(SHORT_KILLS):
            urbangrid(env, "shell", "-c", enqueue)
            consumer = start_huey(env)
            procs.append(consumer)
            time.sleep(rng.uniform(1.5, 3.0))
            stop(consumer, signal.SIGKILL)
        urbangrid(env, "shell", "-c", enqueue)
        consumer = start_huey(env)
        procs.append(consumer)
        _wait_delivered(env, seconds=90)
        stop(consumer)
        stop(server)

        # The data after all that.
        seen = _state_report(env)
        acked = {k: n for d in drivers for k, n in d.acked.items()}
        assert not [e for d in drivers for e in d.errors], "a 5xx while the server was up"
        assert len(acked) >= 3, "the drivers got too little done to prove anything"
        by_key = {k.split(":", 1)[1]: numbers for k, numbers in seen["keys"].items() if k}
        for key, number in acked.items():
            assert by_key.get(key) == [number], f"acknowledged {key} → {number} is not there exactly once"
        for c in seen["cases"]:
            ev = c["events"]
            assert ev and ev[0]["action"] == "report" and ev[0]["seq"] == 1, c
            assert [e["seq"] for e in ev] == list(range(1, len(ev) + 1)), c
            assert c["state"] == ev[-1]["to_state"], c
        urbangrid(env, "audit", "verify")
        assert all(n.endswith("·新") for n in seen["grid_names"]) and set(seen["land_use"]) == {"mixed"}
        assert seen["notifications"], "no dispatch got through, so no notification was tested"
        assert seen["unsent"] == 0
        got = receiver.ids()
        assert set(got) == set(seen["notifications"]), "a notification was lost"
        # Repeats happen only when a consumer died between sending and recording, and carry the same key.
        assert len(got) - len(set(got)) <= SHORT_KILLS
        keys = {k for k, _ in receiver.posts}
        assert keys == {f"notification-{i}" for i in seen["notifications"]}
    finally:
        for p in procs:
            stop(p, signal.SIGKILL)
        receiver.server.shutdown()
        drop()
