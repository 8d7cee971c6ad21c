from live_city import _no_post_limit, city  # noqa: F401  (fixtures shared with the other live Open311 tests)
