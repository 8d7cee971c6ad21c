"""The benchmarks' pure helpers (percentiles, ratios, the load test's steps) and the baseline views being mounted
only when settings.URBANGRID_BENCH is on. No benchmark is run here."""
import math
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import Http404
from django.test import RequestFactory, override_settings

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import _common as c  # noqa: E402
import bench_load  # noqa: E402
import bench_open311  # noqa: E402


def test_percentile_is_the_nearest_rank():
    values = list(range(1, 101))
    assert c.percentile(values, 0.95) == 95 and c.percentile(values, 0.5) == 50 and c.percentile(values, 1.0) == 100
    assert c.percentile([10, 20, 30, 40], 0.5) == 20 and c.percentile([10, 20, 30, 40], 0.95) == 40
    assert c.percentile([7], 0.0) == 7
    assert math.isnan(c.percentile([], 0.5))


def test_ratio_and_verdict():
    assert c.ratio(30, 120) == 0.25 and math.isnan(c.ratio(30, 0))
    assert c.verdict(0.2, 0.2) == "met" and c.verdict(0.19, 0.2) == "**missed**"
    assert c.verdict(float("nan"), 0.2) == "**missed**"


def test_cpu_between_counts_recycled_workers_once():
    tick = os.sysconf("SC_CLK_TCK")
    before = {1: (0, 100, 0), 2: (1, 50, 0), 3: (99, 30, 0)}  # master, a worker, a database backend
    # worker 2 ended after using 70 ticks in all (its parent reaped them), worker 4 started, backend 3 ended
    after = {1: (0, 110, 70), 4: (1, 20, 0)}
    assert bench_open311.c.cpu_between(before, after) == (10 + (70 - 50) + 20) / tick
    assert c.cpu_between(None, after) is None


def test_the_serve_command_without_recycling():
    printed = ("/v/bin/gunicorn urbangrid.wsgi:application --bind 127.0.0.1:8000 --workers 5 --worker-class sync "
               "--timeout 60 --access-logfile - --max-requests 2000 --max-requests-jitter 200")
    assert c.serve_argv(printed, recycle=False) == [
        "/v/bin/gunicorn", "urbangrid.wsgi:application", "--bind", "127.0.0.1:8000", "--workers", "5", "--worker-class",
        "sync", "--timeout", "60", "--access-logfile", "-"]
    assert c.serve_argv(printed) == printed.split()


def test_sessions_for_an_arrival_rate():
    assert bench_load.sessions_for(50, 10) == 500
    assert bench_load.sessions_for(2.5, 3) == 8  # rounded up: never fewer requests than asked
    assert bench_load.sessions_for(0.01, 1) == 1


def test_summarize_counts_only_the_window_and_adds_the_mix():
    records = [(0.5, "a", 999, False),  # before the window (warm-up)
               (1.0, "a", 10, False), (1.5, "a", 30, True), (2.0, "b", 20, False), (2.9, "b", 300, False),
               (3.0, "a", 999, False)]  # at the window's end: outside
    stats = bench_load.summarize(records, 1.0, 3.0)
    assert stats["a"]["requests"] == 2 and stats["a"]["errors"] == 1 and stats["a"]["p95"] == 30
    assert stats["b"]["requests"] == 2 and stats["b"]["p50"] == 20 and stats["b"]["rate"] == 1.0
    mix = stats[bench_load.MIX]
    assert mix["requests"] == 4 and mix["errors"] == 1 and mix["p95"] == 300 and mix["rate"] == 2.0


def _stats(p95, errors=0, rate=1.0):
    return {"requests": 100, "errors": errors, "p50": p95 / 2, "p95": p95, "p99": p95, "rate": rate}


def test_holds_and_kept_up():
    assert bench_load.holds(_stats(200)) and not bench_load.holds(_stats(201)) and not bench_load.holds(_stats(50, 1))
    assert bench_load.kept_up({bench_load.MIX: _stats(50, rate=45)}, 50)
    assert not bench_load.kept_up({bench_load.MIX: _stats(50, rate=44)}, 50) and not bench_load.kept_up({}, 50)


def test_highest_rate_per_page_and_for_the_mix():
    mix = bench_load.MIX
    steps = [
        (10, {"page": _stats(50, rate=1), "slow": _stats(150, rate=0.5), mix: _stats(60, rate=10)}, True),
        (20, {"page": _stats(80, rate=2), "slow": _stats(250, rate=1), mix: _stats(90, rate=20)}, True),
        (30, {"page": _stats(120, rate=3), "slow": _stats(180, rate=1.5), mix: _stats(260, rate=30)}, False),
        (40, {"page": _stats(10, rate=4), mix: _stats(10, rate=40)}, True),  # the mix failed below: not counted
    ]
    best = bench_load.highest(steps)
    assert best[mix] == (20, 20)
    assert best["page"] == (40, 4)  # each page is judged at each step tried, the mix's misses aside
    assert best["slow"] == (10, 0.5)  # it missed at 20: holding again at 30 does not count
    # a step whose mix held by latency but where the client lagged does not count for the mix
    lagged = [(10, {mix: _stats(60, rate=10)}, True), (20, {mix: _stats(60, rate=12)}, False)]
    assert bench_load.highest(lagged)[mix] == (10, 10)


def test_stepping_goes_on_while_the_server_answers():
    mix = bench_load.MIX
    assert bench_load.go_on({mix: _stats(600, rate=20)}, 20, 1000)  # past the goal, still answering
    assert not bench_load.go_on({mix: _stats(1200, rate=20)}, 20, 1000)
    assert not bench_load.go_on({mix: _stats(100, errors=1, rate=20)}, 20, 1000)
    assert not bench_load.go_on({mix: _stats(100, rate=15)}, 20, 1000)  # the client lagged
    assert not bench_load.go_on({}, 20, 1000)


def test_load_arguments_are_checked():
    with pytest.raises(SystemExit):
        bench_load.parse_args(["--db-name", "postgres"])
    with pytest.raises(SystemExit):
        bench_load.parse_args(["--rates", "20", "10"])
    args = bench_load.parse_args(["--cases", "730000", "--days", "91"])
    assert args.grids == min(10_000, 730000 * 365 // 91 // 600) and args.workers >= 1


def test_the_open311_baseline_gets_the_same_requests():
    specs = [("GET", "/open311/v2/requests/1.json", None, {}), ("GET", "/open311/v2/requests/2.json", None, {})]
    assert [s[1] for s in bench_open311.baseline_of("request", specs)] == ["/bench/doc/request-0", "/bench/doc/request-1"]
    posts = [("POST", "/open311/v2/requests.json", b"a=1", {"X": "1"}), ("POST", "/open311/v2/requests.json", b"a=2", {})]
    # every POST answers the one saved answer, with its own body sent all the same
    assert bench_open311.baseline_of("create", posts) == [("POST", "/bench/doc/create-0", b"a=1", {"X": "1"}),
                                                         ("POST", "/bench/doc/create-0", b"a=2", {})]
    with pytest.raises(SystemExit):
        bench_open311.parse_args(["--seconds", "0"])


@pytest.mark.django_db
def test_the_baseline_views_are_not_mounted_by_default(client, settings):
    assert settings.URBANGRID_BENCH is False
    for path in ("/bench/ping", "/bench/doc/services-0"):
        assert client.get(path).status_code == 404


def test_the_document_view_answers_the_saved_document(tmp_path):
    from urbangrid.ops import baselines as bench_views

    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "services-0.json").write_bytes('[{"service_code": "本地"}]'.encode())
    with override_settings(VAR_DIR=tmp_path):
        bench_views._documents.clear()
        response = bench_views.document(RequestFactory().post("/bench/doc/services-0", b"x=1",
                                                              content_type="application/x-www-form-urlencoded"),
                                        "services-0")
        assert response.status_code == 200 and response.content == '[{"service_code": "本地"}]'.encode()
        assert response["Content-Type"].startswith("application/json")
        with pytest.raises(Http404):
            bench_views.document(RequestFactory().get("/bench/doc/other"), "other")
    bench_views._documents.clear()


def test_switched_on_the_views_are_mounted_and_the_deploy_check_fails(tmp_path):
    env = dict(os.environ, URBANGRID_VAR_DIR=str(tmp_path), URBANGRID_BENCH="1",
               URBANGRID_SECRET_KEY=secrets.token_urlsafe(60), URBANGRID_HTTPS="1",
               URBANGRID_ALLOWED_HOSTS="grid.example.gov.cn")
    env.pop("URBANGRID_DEBUG", None)
    code = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'urbangrid.settings'; django.setup(); "
            "from django.urls import resolve; print(resolve('/bench/doc/services-0').func.__name__)")
    mounted = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert mounted.returncode == 0 and mounted.stdout.strip() == "document", mounted.stderr[-2000:]
    check = subprocess.run([sys.executable, "-m", "urbangrid", "check", "--deploy"], env=env, capture_output=True,
                           text=True, timeout=300)
    assert check.returncode != 0 and "urbangrid.E003" in check.stdout + check.stderr
    env["URBANGRID_BENCH"] = "0"
    check = subprocess.run([sys.executable, "-m", "urbangrid", "check", "--deploy"], env=env, capture_output=True,
                           text=True, timeout=300)
    assert "urbangrid.E003" not in check.stdout + check.stderr
