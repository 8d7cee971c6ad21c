"""Property tests: adding working time is additive and measured back exactly."""
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from urbangrid.worktime.clock import (  # noqa: E402
    TZ, add_working_days, add_working_time, to_timedelta, working_timedelta,
)

from .helpers import CN  # noqa: E402

# Starts from late 2025 to early 2027 (so holidays, 调休 and the 2027 fallback all occur), to the second.
starts = st.datetimes(min_value=datetime(2025, 10, 1), max_value=datetime(2027, 2, 1)).map(
    lambda d: d.replace(microsecond=0, tzinfo=TZ))
hours = st.decimals(min_value=0, max_value=60, places=2)


@settings(max_examples=300, deadline=None)
@given(starts, hours, hours)
def test_adding_is_additive(start, a, b):
    assert add_working_time(start, a + b, CN) == add_working_time(add_working_time(start, a, CN), b, CN)


@settings(max_examples=300, deadline=None)
@given(starts, hours)
def test_added_time_is_measured_back(start, h):
    end = add_working_time(start, h, CN)
    assert end >= start
    assert working_timedelta(start, end, CN) == to_timedelta(h) == timedelta(seconds=float(h * 3600))


@settings(max_examples=200, deadline=None)
@given(starts, st.integers(min_value=1, max_value=10))
def test_working_days_are_the_same_clock_time(start, n):
    # From inside working time, n 工作日 land on the n-th following working day at the same clock time,
    # or on an instant with no working time between it and that one (17:30 rather than 08:30 next day).
    if working_timedelta(start, start + timedelta(seconds=1), CN) == timedelta():
        return  # outside working time: counts from the next period, covered by the example tests
    d = start.date()
    for _ in range(n):
        d += timedelta(days=1)
        while not CN.is_workday(d):
            d += timedelta(days=1)
    same_clock = datetime.combine(d, start.timetz())
    assert working_timedelta(add_working_days(start, n, CN), same_clock, CN) == timedelta()
    assert working_timedelta(start, add_working_days(start, n, CN), CN) == n * CN.day_length


def test_decimal_hours_are_exact():
    assert to_timedelta(Decimal("0.01")) == timedelta(seconds=36)
