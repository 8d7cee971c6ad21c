"""Counters shared by every server process (login failures, rate limits) and the client's address.

The counters live in Redis when URBANGRID_REDIS_URL is set, otherwise in the database (``Throttle`` rows):
never in a process's own memory, where each gunicorn worker would count on its own and a limit of N would
let workers × N through.
"""
import ipaddress
import time
from datetime import timedelta
from functools import lru_cache

import redis
from django.conf import settings
from django.db import IntegrityError, connections, router, transaction
from django.db.models import F
from django.utils import timezone

from .models import Throttle
from .tenancy import current_code


@lru_cache(maxsize=8)
def _proxy_networks(spec):
    networks = []
    for item in spec:
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            continue  # a bad entry trusts nothing (the deploy check reports it)
    return tuple(networks)


def _trusted(address, networks):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(request):
    """The client's address: REMOTE_ADDR, unless that is one of URBANGRID_TRUSTED_PROXIES; then the
    X-Forwarded-For chain is read from the right, skipping trusted proxies, and the first address that is
    not one is the client. Without trusted proxies the header is ignored: anyone can write it."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    networks = _proxy_networks(tuple(settings.URBANGRID_TRUSTED_PROXIES or ()))
    if not networks or not _trusted(remote, networks):
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote  # a proxy we trust passed on garbage: count it against the proxy
    return hops[0] if hops else remote


def _sql_names(conn):
    """The ``Throttle`` table's quoted name and its columns' (by field name), for the plain statements below."""
    qn, meta = conn.ops.quote_name, Throttle._meta
    return qn(meta.db_table), {f.name: qn(f.column) for f in meta.concrete_fields}


def _instant(value, conn):
    return Throttle._meta.get_field("expires_at").get_db_prep_value(value, conn)


class DatabaseCounters:
    """Counters in the ``Throttle`` table: one UPDATE per hit, atomic on both databases."""

    def incr(self, key, ttl):
        now = timezone.now()
        counted = self._bump(key, now)
        if counted is not None:
            return counted
        for _attempt in range(3):
            with transaction.atomic():
                if Throttle.objects.filter(key=key, expires_at__gt=now).update(count=F("count") + 1):
                    return Throttle.objects.filter(key=key).values_list("count", flat=True).first() or 1
            try:
                with transaction.atomic():
                    Throttle.objects.filter(key=key, expires_at__lte=now).delete()
                    Throttle.objects.create(key=key, count=1, expires_at=now + timedelta(seconds=ttl))
                    return 1
            except IntegrityError:  # another process created it first: count on it
                continue
        return Throttle.objects.filter(key=key).values_list("count", flat=True).first() or 1

    @staticmethod
    def _bump(key, now):
        """The live counter's new count after one more hit, in one statement (UPDATE … RETURNING: atomic on its
        own, no transaction around an UPDATE and a SELECT), or None when there is no live counter or the
        database cannot return from an UPDATE (SQLite before 3.35)."""
        conn = connections[router.db_for_write(Throttle)]
        if not conn.features.can_return_columns_from_insert:
            return None
        table, column = _sql_names(conn)
        sql = (f"UPDATE {table} SET {column['count']} = {column['count']} + 1 "
               f"WHERE {column['key']} = %s AND {column['expires_at']} > %s RETURNING {column['count']}")
        with conn.cursor() as cursor:
            cursor.execute(sql, [key, _instant(now, conn)])
            row = cursor.fetchone()
        return row[0] if row else None

    def get(self, key):
        """The live count, as one plain statement (a request's limit check is on the path of every citizen and
        Open311 POST; the ORM's queryset costs more than the read)."""
        conn = connections[router.db_for_read(Throttle)]
        table, column = _sql_names(conn)
        with conn.cursor() as cursor:
            cursor.execute(f"SELECT {column['count']} FROM {table} WHERE {column['key']} = %s "
                           f"AND {column['expires_at']} > %s", [key, _instant(timezone.now(), conn)])
            row = cursor.fetchone()
        return row[0] if row else 0

    def incr_and_get(self, key, ttl, other):
        """``incr(key, ttl)`` and ``get(other)``."""
        return self.incr(key, ttl), self.get(other)

    def expire(self, key, ttl):
        Throttle.objects.filter(key=key).update(expires_at=timezone.now() + timedelta(seconds=ttl))

    def ttl(self, key):
        until = Throttle.objects.filter(key=key).values_list("expires_at", flat=True).first()
        return max(0, int((until - timezone.now()).total_seconds())) if until else 0

    def delete(self, key):
        Throttle.objects.filter(key=key).delete()

    def purge(self):
        return Throttle.objects.filter(expires_at__lte=timezone.now()).delete()[0]


class RedisCounters:
    """Counters in Redis (INCR is atomic; keys expire by themselves)."""

    def __init__(self, url):
        self.client = redis.Redis.from_url(url)

    @staticmethod
    def _key(key):
        # One Redis for all cities of a deployment: each city counts apart (the database store is the city's own).
        code = current_code()
        return f"ug:city-{code}:{key}" if code else f"ug:{key}"

    def incr(self, key, ttl):
        pipe = self.client.pipeline()
        pipe.incr(self._key(key))
        pipe.expire(self._key(key), int(ttl), nx=True)
        return int(pipe.execute()[0])

    def get(self, key):
        return int(self.client.get(self._key(key)) or 0)

    def incr_and_get(self, key, ttl, other):
        """``incr(key, ttl)`` and ``get(other)`` in one round trip."""
        pipe = self.client.pipeline()
        pipe.incr(self._key(key))
        pipe.expire(self._key(key), int(ttl), nx=True)
        pipe.get(self._key(other))
        count, _expired, other_count = pipe.execute()
        return int(count), int(other_count or 0)

    def expire(self, key, ttl):
        self.client.expire(self._key(key), int(ttl))

    def ttl(self, key):
        return max(0, int(self.client.ttl(self._key(key))))

    def delete(self, key):
        self.client.delete(self._key(key))

    def purge(self):
        return 0


_stores = {}


def counters():
    url = settings.URBANGRID_REDIS_URL
    if url not in _stores:
        _stores[url] = RedisCounters(url) if url else DatabaseCounters()
    return _stores[url]


def hit(scope, key, limit, window_seconds=3600, now=None):
    """Count one hit; True while the key stays within ``limit`` hits in the last ``window_seconds``.

    A sliding window: the hits of the current fixed window plus those of the previous one weighted by the share
    of it still inside the last ``window_seconds``. Fixed windows alone let 2 × ``limit`` through across a
    window's edge (``limit`` at 20:59, ``limit`` again at 21:00). Refused hits count too (a client hammering
    past the limit stays refused)."""
    now = time.time() if now is None else now
    window, into = divmod(now, window_seconds)
    # the current window's counter is kept through the next window, where it is the previous one
    current, previous = counters().incr_and_get(f"rl:{scope}:{key}:{int(window)}", 2 * window_seconds + 60,
                                                f"rl:{scope}:{key}:{int(window) - 1}")
    return current + previous * (1 - into / window_seconds) <= limit
