"""Soak: a bounded run at ten times a megacity's peak rate, mixed reads and writes through the API.

    .venv/bin/python bench/bench_soak.py [--minutes 10] [--rate 5.5] [--reads 6] [--workers 3] [--clients 32]

The rate: a megacity (超大城市) takes about 3,000,000 cases a year, 8,219 a day on average. The busiest
day carries about twice the average and its busiest hour about 12 % of that day: 8,219 × 2 × 0.12 ≈ 1,973
cases/hour ≈ 0.55 cases/s at peak. Ten times that is 5.5 new cases per second (--rate). Every new case
is a flow of requests: POST /api/v1/cases (multipart with a JPEG, inspector), then accept (intake
operator), file (shift lead) and dispatch (dispatcher) through POST /actions/, and --reads reads spread
over GET /cases/{number}, GET /cases?limit=20 and GET /cases/todo (dispatcher): at the defaults 4 writes
and 6 reads per case, 55 requests/s.

Builds the demo city on a scratch PostgreSQL database (``urbangrid_soak``, created and dropped here),
starts `urbangrid serve` (gunicorn sync workers) with Redis as cache on 127.0.0.1, and sends the flows
open-loop: a new flow starts every 1/rate seconds whatever the server's speed, on a pool of client
threads. Over the run it samples the resident memory (RSS) of the gunicorn master and workers every
10 s. At the end it checks that every acknowledged case exists exactly once in its expected state.
The baseline measured in the same run is GET /healthz, sent once per flow: latencies are also given as a
ratio to its p50. Exit status 1 if any request failed or a created case is unaccounted for.
"""
import argparse
import http.client
import json
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

DB = "urbangrid_soak"
BIN = Path(sys.executable).parent
MEGACITY_CASES_PER_YEAR = 3_000_000
PEAK_DAY_FACTOR = 2.0
PEAK_HOUR_SHARE = 0.12
PEAK_PER_S = MEGACITY_CASES_PER_YEAR / 365 * PEAK_DAY_FACTOR * PEAK_HOUR_SHARE / 3600
DEFAULT_RATE = round(10 * PEAK_PER_S, 1)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=10.0, help="length of the run (default 10)")
    p.add_argument("--rate", type=float, default=DEFAULT_RATE, help=f"new cases per second (default {DEFAULT_RATE})")
    p.add_argument("--reads", type=int, default=6, help="reads per case (default 6)")
    p.add_argument("--workers", type=int, default=3, help="gunicorn workers (default 3)")
    p.add_argument("--clients", type=int, default=32, help="client threads (default 32)")
    args = p.parse_args(argv)
    if args.minutes <= 0 or args.rate <= 0:
        p.error("--minutes and --rate must be positive")
    c.positive(p, args, "--workers", "--clients")
    if args.reads < 0:
        p.error("--reads must be 0 or more")
    return args


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _jpeg():
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


JPEG = _jpeg()


def _multipart(fields, photo=False):
    b = uuid.uuid4().hex
    data = b"".join(f'--{b}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items())
    if photo:
        data += (f'--{b}\r\nContent-Disposition: form-data; name="photos"; filename="p.jpg"\r\n'
                 "Content-Type: image/jpeg\r\n\r\n").encode() + JPEG + b"\r\n"
    return data + f"--{b}--\r\n".encode(), f"multipart/form-data; boundary={b}"


class Client:
    def __init__(self, port, tokens):
        self.port, self.tokens = port, tokens
        self.lock = threading.Lock()
        self.latency = {}   # kind -> [seconds]
        self.errors = []    # (kind, status or exception)

    def call(self, kind, method, path, role=None, fields=None, photo=False):
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        body = None
        if fields is not None:
            body, headers["Content-Type"] = _multipart(fields, photo)
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            status = resp.status
        except OSError as exc:
            with self.lock:
                self.errors.append((kind, repr(exc)))
            return None
        finally:
            conn.close()
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latency.setdefault(kind, []).append(elapsed)
            if not 200 <= status < 300:
                self.errors.append((kind, status, data[:200]))
                return None
        return json.loads(data) if data else None


def flow(client, n, reads, created, unit):
    client.call("baseline healthz", "GET", "/healthz")
    key = f"soak-{n}"
    case = client.call("create", "POST", "/api/v1/cases", "inspector", {
        "catalog_version": "local-demo", "class_code": "0401", "lon": "117.2352", "lat": "31.8785",
        "description": f"井盖缺失 {n}", "idempotency_key": key}, photo=True)
    if case is None:
        return
    number = case["number"]
    steps = 0
    for role, action, fields in (("intake_operator", "accept", {}), ("shift_lead", "file", {}),
                                 ("dispatcher", "dispatch", {"unit": unit, "opinion": "速办"})):
        if client.call("transition", "POST", f"/api/v1/cases/{number}/actions/{action}", role, fields) is None:
            break
        steps += 1
    created.append((key, number, steps))
    paths = [f"/api/v1/cases/{number}", "/api/v1/cases?limit=20", "/api/v1/cases/todo?limit=20"]
    for i in range(reads):
        client.call("read", "GET", paths[i % len(paths)], "dispatcher")


def _rss_kb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _children(pid):
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return sorted(out)


def _pctl(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def main(argv=None):
    args = parse_args(argv or sys.argv[1:])
    missing = c.pg_missing()
    if missing:
        c.log(missing)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="ug-soak-"))
    env = dict(os.environ, URBANGRID_VAR_DIR=str(tmp), DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DB}",
               URBANGRID_REDIS_URL="redis://127.0.0.1:6379/13")
    env.pop("URBANGRID_HUEY_IMMEDIATE", None)
    c.pg_create(DB)
    server = None
    try:
        run = lambda *a: subprocess.run([str(BIN / "urbangrid"), *a], env=env, check=True, capture_output=True, text=True)
        c.log("building the demo city ...")
        run("migrate", "--noinput", "-v0")
        run("demo", "--no-history", "--seed", "3")
        logins = json.loads((tmp / "demo" / "logins.json").read_text(encoding="utf-8"))
        unit = run("shell", "-c", "from urbangrid.org.models import RoleAssignment as R;"
                   "print(R.objects.get(person__user__username='unit_handler', role='unit_handler').unit.code)").stdout.split()[-1]
        port = _free_port()
        server = subprocess.Popen([str(BIN / "urbangrid"), "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 60
        while True:
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/healthz")
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.3)
        tokens = {}
        for role in ("inspector", "intake_operator", "shift_lead", "dispatcher"):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("POST", "/api/v1/auth/token", body=json.dumps({k: logins[role][k] for k in ("username", "password")}),
                         headers={"Content-Type": "application/json"})
            tokens[role] = json.loads(conn.getresponse().read())["token"]
            conn.close()
        client = Client(port, tokens)
        warm = []
        for n in range(5):  # warm-up: every worker has loaded code, grid index and calendar
            flow(client, f"warm{n}", args.reads, warm, unit)
        client.latency, client.errors = {}, []

        created, jobs, samples = [], queue.Queue(), []
        stop = threading.Event()

        def worker():
            while True:
                n = jobs.get()
                if n is None:
                    return
                flow(client, n, args.reads, created, unit)

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.clients)]
        for t in threads:
            t.start()

        def sampler():
            while not stop.is_set():
                workers = _children(server.pid)
                # `urbangrid serve` execs gunicorn: server.pid is the master.
                samples.append((time.time() - t0, _rss_kb(server.pid), {p: _rss_kb(p) for p in workers}))
                stop.wait(10)

        t0 = time.time()
        threading.Thread(target=sampler, daemon=True).start()
        total = int(args.minutes * 60 * args.rate)
        c.log(f"soak: {total} flows at {args.rate}/s for {args.minutes} min ...")
        backlog_max = 0
        for n in range(total):
            target = t0 + n / args.rate
            delay = target - time.time()
            if delay > 0:
                time.sleep(delay)
            jobs.put(n)
            backlog_max = max(backlog_max, jobs.qsize())
        for _ in threads:
            jobs.put(None)
        for t in threads:
            t.join()
        elapsed = time.time() - t0
        stop.set()
        samples.append((elapsed, _rss_kb(server.pid), {p: _rss_kb(p) for p in _children(server.pid)}))

        # Every acknowledged case exactly once, in the state its acknowledged steps put it in.
        check = run("shell", "-c", (
            "import json\nfrom urbangrid.cases.models import Case\n"
            "rows = Case.objects.filter(idempotency_key__contains=':soak-').values('idempotency_key', 'number', 'state')\n"
            "print('JSON' + json.dumps(list(rows)))")).stdout
        rows = json.loads(check.split("JSON", 1)[1])
        by_key = {}
        for r in rows:
            by_key.setdefault(r["idempotency_key"].split(":", 1)[1], []).append(r)
        expected_state = {0: "reported", 1: "pending_filing", 2: "pending_dispatch", 3: "handling"}
        created_all = warm + created
        unaccounted = [k for k, number, steps in created_all
                       if [r["number"] for r in by_key.get(k, [])] != [number] or by_key[k][0]["state"] != expected_state[steps]]
        extra = set(by_key) - {k for k, _, _ in created_all}
    finally:
        if server is not None:
            try:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(server.pid, signal.SIGKILL)
        c.pg_drop(DB)

    lat = client.latency
    requests = sum(len(v) for v in lat.values())
    base_p50 = statistics.median(lat.get("baseline healthz", [float("nan")]))
    c.BENCH_DB = DB  # the header names the scratch database
    c.print_header("Soak: ten times a megacity's peak, mixed reads and writes", "postgres", extra=[
        f"`urbangrid serve --workers {args.workers}` (gunicorn sync), Redis cache, {args.clients} client threads, "
        f"loopback; scratch database {DB}"])
    print(f"target: {args.rate} new cases/s = {args.rate / PEAK_PER_S:.1f} × a megacity's peak ({PEAK_PER_S:.2f}/s), "
          f"{args.rate * (4 + args.reads + 1):.0f} requests/s with the baseline\n")
    print(f"run: {elapsed:.0f} s, {len(created)} cases created ({len(created) / elapsed:.2f}/s, "
          f"{len(created) / elapsed / args.rate:.2f} of the target), {requests} requests ({requests / elapsed:.1f}/s), "
          f"largest client backlog {backlog_max} flows\n")
    print("| request | count | p50 ms | p95 ms | p99 ms | p50 ÷ baseline p50 |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind in ("baseline healthz", "create", "transition", "read"):
        v = lat.get(kind, [])
        print(f"| {kind} | {len(v)} | {_pctl(v, .5) * 1000:.0f} | {_pctl(v, .95) * 1000:.0f} | {_pctl(v, .99) * 1000:.0f} | "
              f"{_pctl(v, .5) / base_p50:.1f} |")
    print(f"\nerrors: {len(client.errors)}" + (f" (first: {client.errors[:3]})" if client.errors else ""))
    print(f"cases unaccounted for: {len(unaccounted)}; unexpected extra cases: {len(extra)}\n")
    print("| t (s) | master RSS MB | workers | worker RSS MB (sum) | max worker RSS MB |")
    print("|---:|---:|---:|---:|---:|")
    for t, master, workers in samples:
        vals = [v for v in workers.values() if v]
        print(f"| {t:.0f} | {(master or 0) / 1024:.1f} | {len(vals)} | {sum(vals) / 1024:.1f} | {max(vals, default=0) / 1024:.1f} |")
    if len(samples) >= 4:
        third = max(1, len(samples) // 3)
        early = statistics.mean(sum(v for v in s[2].values() if v) for s in samples[1:1 + third])
        late = statistics.mean(sum(v for v in s[2].values() if v) for s in samples[-third:])
        print(f"\nworker RSS, last third ÷ first third of the run: {late / early:.3f}")
    return 1 if client.errors or unaccounted or extra else 0


if __name__ == "__main__":
    sys.exit(main())
