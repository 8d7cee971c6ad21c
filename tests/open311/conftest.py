import pytest


@pytest.fixture(autouse=True)
def _no_post_limit(settings):
    # POST counters live in the cache (maybe a shared Redis) and outlive a test's rolled-back rows, so the
    # limit is lifted here; the rate-limit test sets its own limit and uses addresses of its own.
    settings.URBANGRID_OPEN311_POSTS_PER_HOUR = 10**9
