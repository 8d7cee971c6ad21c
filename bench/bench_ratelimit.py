"""The rate limiter's cost per hit: the sliding window (``core.ratelimit.hit``: count this window, read the last)
against the fixed window it replaced (count only), in the same run, on the database store (SQLite file or
PostgreSQL) and on Redis.

    .venv/bin/python bench/bench_ratelimit.py [--db sqlite|postgres] [--hits 3000]
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH_DB, pg_create, setup_django, teardown  # noqa: E402


def _fixed(counters, key, limit, window_seconds=3600):
    """The fixed window before 2026-12-04: one counter per clock window."""
    window = int(time.time() // window_seconds)
    return counters.incr(f"rl:fixed:{key}:{window}", window_seconds + 60) <= limit


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--hits", type=int, default=3000)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="ug-bench-rl-"))
    if args.db == "postgres":
        pg_create(BENCH_DB)
    setup_django(args.db, tmp, build=False)  # migrated, nothing else
    from django.conf import settings

    from urbangrid.core import ratelimit

    for store in ("database", "redis"):
        settings.URBANGRID_REDIS_URL = "redis://127.0.0.1:6379/13" if store == "redis" else ""
        counters = ratelimit.counters()
        if store == "redis":
            counters.client.flushdb()
        timings = {}
        for name, call in (("fixed", lambda i: _fixed(counters, i % 50, 10**9)),
                           ("sliding", lambda i: ratelimit.hit("bench", i % 50, 10**9)),
                           ("fixed again", lambda i: _fixed(counters, i % 50, 10**9))):
            start = time.perf_counter()
            for i in range(args.hits):
                call(i)
            timings[name] = (time.perf_counter() - start) / args.hits * 1e6
        baseline = (timings["fixed"] + timings["fixed again"]) / 2
        print(f"{args.db}/{store}: fixed {baseline:.0f} µs a hit, sliding {timings['sliding']:.0f} µs "
              f"(ratio fixed/sliding {baseline / timings['sliding']:.2f})")
        if store == "redis":
            counters.client.flushdb()
    teardown(args.db, tmp)


if __name__ == "__main__":
    main()
