import pytest

from urbangrid.worktime import clock


@pytest.fixture(autouse=True)
def fresh_calendar_cache():
    # Test transactions roll back without signals; never let one test's calendar leak into the next.
    clock.invalidate_calendar()
    yield
    clock.invalidate_calendar()
