"""The rate limiter's window slides: a client that used its hits just before a fixed window's edge does not get a
fresh allowance just after it (the bug a fixed window has: 2 × the limit across 20:59–21:00), in either store."""
import pytest
import redis

from ug_testing import suite_vendor
from urbangrid.core.ratelimit import hit

HOUR = 3600
EDGE = 1_800_000_000 // HOUR * HOUR  # a window's start


def _hits(n, at, key="203.0.113.9", limit=3):
    return [hit("test-window", key, limit, HOUR, now=at) for _ in range(n)]


def _the_window_slides():
    # three hits at the end of one window, the fourth a second into the next: refused
    assert _hits(3, EDGE - 5) == [True, True, True]
    assert _hits(1, EDGE + 1) == [False]
    # half an hour later half of the previous window still weighs: 1.5 + the refused hit + this one > 3
    assert _hits(2, EDGE + HOUR // 2 + 1, key="203.0.113.10") == [True, True]  # another client is not affected
    assert _hits(1, EDGE + HOUR // 2 + 1) == [False]
    # near the end of that window the previous one hardly weighs: 2 + 1 + 0.01 > 3, but another client's
    # third hit (2 + 1 + 0) passes
    assert _hits(1, EDGE + HOUR - 10) == [False]
    assert _hits(1, EDGE + HOUR - 10, key="203.0.113.10") == [True]
    # a whole window later the old hits are gone
    assert _hits(3, EDGE + 2 * HOUR + 1, key="203.0.113.11") == [True, True, True]
    assert _hits(1, EDGE + 2 * HOUR + 1, key="203.0.113.11") == [False]


@pytest.mark.django_db
def test_the_window_slides_in_the_database():
    _the_window_slides()


@pytest.mark.django_db
def test_the_window_slides_in_redis(settings):
    settings.URBANGRID_REDIS_URL = f"redis://127.0.0.1:6379/{14 if suite_vendor() == 'sqlite' else 15}"
    client = redis.Redis.from_url(settings.URBANGRID_REDIS_URL)
    client.flushdb()
    try:
        _the_window_slides()
    finally:
        client.flushdb()
