"""The exchange and province benchmarks' pure helpers: the megacity's peak, the lag of a push, the parts the
batches are cut in, and a generated province summary's times in order. No benchmark is run here."""
import math
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import bench_exchange  # noqa: E402
import bench_province  # noqa: E402


def test_megacity_peak_is_docs_scaling_figure():
    # docs/scaling.md §1: ≈ 6 transitions/s for 3 M cases a year, ≈ 30 for a province of 15 M
    assert round(bench_exchange.peak_events_per_second()) == 6
    assert round(bench_exchange.peak_events_per_second(15_000_000)) == 30


def test_push_lag_is_the_interval_plus_the_apply():
    events, apply_s, lag = bench_exchange.push_lag(1000, peak=6, interval=60)
    assert events == 360 and math.isclose(apply_s, 0.36) and math.isclose(lag, 60.36)
    assert bench_exchange.push_lag(5, peak=6)[2] == float("inf")  # slower than the peak: the lag grows without end


def test_parts_cover_every_batch_once():
    assert bench_exchange.parts(10, 3) == [(1, 4), (5, 7), (8, 10)]
    assert bench_exchange.parts(2, 5) == [(1, 1), (2, 2)]
    for n, r in ((1, 1), (7, 3), (100, 4)):
        got = bench_exchange.parts(n, r)
        assert [i for a, b in got for i in range(a, b + 1)] == list(range(1, n + 1))


def test_province_density_and_periods():
    assert round(bench_province.cases_per_city_day(20, 1)) == 2055
    today = datetime(2026, 12, 4).date()
    assert [(k, d.isoformat()) for k, d in bench_province.periods(today)] == [
        ("month", "2026-11-30"), ("quarter", "2026-09-30"), ("year", "2026-12-04")]


def test_a_filled_summary_has_its_times_in_order():
    rng = random.Random(1)
    now = datetime(2026, 12, 4, 12, tzinfo=timezone.utc)
    cols = bench_province.CASE_COLUMNS
    for n in range(500):
        row = dict(zip(cols, bench_province.case_row(rng, 1, n, "410100", now - timedelta(days=rng.uniform(0, 60)), now)))
        assert len(row) == len(cols)
        times = [row[k] for k in ("reported_at", "filed_at", "dispatched_at", "fed_back_at", "closed_at") if row[k]]
        assert times == sorted(times) and all(t <= now for t in times)
        assert (row["state"] == "closed") == (row["closed_at"] is not None)
        assert row["archive_type"] in (("normal", "overdue") if row["state"] == "closed" else ("",))
