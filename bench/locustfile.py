"""The staff sessions of bench/bench_load.py for Locust (run by that script, one Locust process per arrival rate).

Every simulated user is one person's open session of one role, with the requests that role makes, in the shares
below, separated by think time. Each session is a Poisson source: its next request is due an exponential think
time (mean ``think`` seconds) after its previous one was due, whatever the server answered meanwhile, so the sessions
together are an open arrival stream of users ÷ think requests per second (a request still running when the next
is due delays it; such late starts are counted). The configuration (logins' session cookies and tokens, case
numbers each person may open, points inside each inspector's grids, the Open311 key) is the JSON file named by the
environment variable BENCH_LOAD_CONFIG; every request is written, with its latency and whether it failed, to the
JSON file named by BENCH_LOAD_OUT when Locust stops.
"""
import itertools
import json
import os
import random
import time
from collections import deque

from locust import FastHttpUser, events, task

CONFIG = json.load(open(os.environ["BENCH_LOAD_CONFIG"], encoding="utf-8"))
RECORDS, LATE = [], [0]
NEW_CASES = deque(maxlen=10_000)  # cases the inspectors reported in this run, for the intake desk to accept
_people = {role: itertools.cycle(people) for role, people in CONFIG["people"].items()}


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, context=None, **kwargs):
    # the request's start: the moment it arrived, which decides the window it belongs to
    RECORDS.append((time.monotonic() - response_time / 1000, name, response_time, exception is not None))


@events.quitting.add_listener
def _dump(environment, **kwargs):
    with open(os.environ["BENCH_LOAD_OUT"], "w", encoding="utf-8") as f:
        json.dump({"records": RECORDS, "late": LATE[0], "clock": time.monotonic()}, f)


class Session(FastHttpUser):
    abstract = True
    role = None
    network_timeout = connection_timeout = 60.0

    def on_start(self):
        self.person = next(_people[self.role])
        self.rng = random.Random()
        self.due = time.monotonic() + self.rng.expovariate(1 / CONFIG["think"])
        self.headers = {}
        if self.person.get("cookie"):
            self.headers["Cookie"] = self.person["cookie"]

    def wait_time(self):
        now = time.monotonic()
        if self.due < now - 0.5:  # the last answer came after this session's next request was due
            LATE[0] += 1
        wait = max(0.0, self.due - now)
        self.due = max(self.due, now) + self.rng.expovariate(1 / CONFIG["think"])
        return wait

    def get(self, name, path, headers=None):
        with self.client.get(path, name=name, headers={**self.headers, **(headers or {})}, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}")

    def post(self, name, path, expect, **kwargs):
        with self.client.post(path, name=name, catch_response=True, **kwargs) as r:
            if r.status_code not in expect:
                r.failure(f"HTTP {r.status_code}: {r.text[:200] if r.text else ''}")
                return None
            return r

    def case_page(self):
        self.get("case page /cases/<number>/", f"/cases/{self.rng.choice(self.person['cases'])}/")

    def bearer(self):
        return {"Authorization": f"Bearer {self.person['token']}"}


class Dispatcher(Session):
    """派遣员: the dispatch queue and the cases in it."""
    role, weight = "dispatcher", 2

    @task(1)
    def queue(self):
        self.get("dispatch queue /command/", "/command/")

    @task(1)
    def case(self):
        self.case_page()


class Intake(Session):
    """受理员: the intake queue, case pages, and accepting what the inspectors reported in this run (API)."""
    role, weight = "intake", 2

    @task(4)
    def queue(self):
        self.get("intake queue /centre/", "/centre/")

    @task(3)
    def case(self):
        self.case_page()

    @task(3)
    def accept(self):
        if not NEW_CASES:
            return self.queue()
        number = NEW_CASES.popleft()
        self.post("accept POST /api/v1/cases/<number>/actions/accept", f"/api/v1/cases/{number}/actions/accept", (200,),
                  headers=self.bearer(), data={})


class Unit(Session):
    """处置单位: the unit workbench and its cases."""
    role, weight = "unit", 3

    @task(1)
    def workbench(self):
        self.get("unit workbench /unit/", "/unit/")

    @task(1)
    def case(self):
        self.case_page()


class Inspector(Session):
    """网格巡查员 (the phone app, bearer token): reports with a photo inside his grids, and his task list."""
    role, weight = "inspector", 5
    photo = bytes.fromhex(CONFIG["jpeg_hex"])

    @task(2)
    def report(self):
        lon, lat = self.rng.choice(self.person["points"])
        fields = {"catalog_version": "local-demo", "class_code": "0401", "lon": lon, "lat": lat,
                  "description": "井盖缺失（压力测试）", "source": "inspector"}
        boundary = f"bench{self.rng.getrandbits(64):016x}"
        body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                        for k, v in fields.items())
        body += (f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="p.jpg"\r\n'
                 "Content-Type: image/jpeg\r\n\r\n").encode() + self.photo + f"\r\n--{boundary}--\r\n".encode()
        r = self.post("report POST /api/v1/cases", "/api/v1/cases", (201,), data=body,
                      headers={**self.bearer(), "Content-Type": f"multipart/form-data; boundary={boundary}"})
        if r is not None:
            NEW_CASES.append(r.json()["number"])

    @task(8)
    def todo(self):
        self.get("inspector tasks GET /api/v1/cases/todo", "/api/v1/cases/todo?limit=20", self.bearer())


class Leader(Session):
    """领导: the dashboard and its figures."""
    role, weight = "leader", 1

    @task(1)
    def dashboard(self):
        self.get("dashboard /dashboard/", "/dashboard/")

    @task(1)
    def data(self):
        self.get("dashboard data.json", "/dashboard/data.json")


class Open311Client(Session):
    """An outside system on Open311 (a city's hotline gateway, an app)."""
    role, weight = "open311", 2

    @task(2)
    def services(self):
        self.get("Open311 GET services.json", "/open311/v2/services.json")

    @task(3)
    def requests(self):
        self.get("Open311 GET requests.json (page of 100)",
                 f"/open311/v2/requests.json?page_size=100&page={self.rng.randint(1, 5)}")

    @task(3)
    def request(self):
        self.get("Open311 GET requests/{id}.json", f"/open311/v2/requests/{self.rng.choice(self.person['cases'])}.json")

    @task(2)
    def create(self):
        lon, lat = self.rng.choice(self.person["points"])
        self.post("Open311 POST requests.json", "/open311/v2/requests.json", (200,), data={
            "api_key": self.person["api_key"], "service_code": "local-demo:event:0401", "lat": lat, "long": lon,
            "description": "井盖缺失（压力测试）"})
