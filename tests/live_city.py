"""Fixtures for tests that drive a live server against the demo city through Open311 (imported by the
conftest of each package that needs them)."""
import pytest


@pytest.fixture(autouse=True)
def _no_post_limit(settings):
    # POST counters live in the shared store (database rows or Redis) and may outlive a test's rows, so the
    # limit is lifted here; the rate-limit test sets its own limit and uses addresses of its own.
    settings.URBANGRID_OPEN311_POSTS_PER_HOUR = 10**9


@pytest.fixture
def city(settings, tmp_path):
    """The demo city (no history) committed for a live server's tests; answers the Open311 demo key."""
    from demo_snapshot import build_demo
    from urbangrid.public.open311.keys import ensure_demo_key

    settings.VAR_DIR = tmp_path
    build_demo(seed=5, log=lambda m: None)
    return ensure_demo_key(5)
