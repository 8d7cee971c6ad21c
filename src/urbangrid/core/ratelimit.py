"""Fixed-window rate limits on the cache (Redis in production, so all app processes share the count)."""
import time

from django.core.cache import cache


def client_address(request):
    # Behind a proxy, configure it to set X-Forwarded-For and trust only the last hop.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return (forwarded.split(",")[-1].strip() if forwarded else "") or request.META.get("REMOTE_ADDR", "unknown")


def hit(scope, key, limit, window_seconds=3600):
    """Count one hit; True while the key stays within ``limit`` hits in the current window."""
    window = int(time.time() // window_seconds)
    name = f"rl:{scope}:{key}:{window}"
    cache.add(name, 0, timeout=window_seconds + 60)
    try:
        count = cache.incr(name)
    except ValueError:  # evicted between add and incr
        cache.set(name, 1, timeout=window_seconds + 60)
        count = 1
    return count <= limit
