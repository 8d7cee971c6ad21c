"""Per-process caches of rows that nearly every API request reads and that rarely change: the bearer
token, the actor's roles and scope, the catalogue class of a report. Each costs an ORM query per request
(on PostgreSQL a round trip too), which is most of the time a small request spends besides its own work.

Rules every cache here keeps, so a cached answer is never one the database would not give:
- an entry is trusted at most ``ttl_setting`` seconds: edits made in another process, or by bulk writes
  that send no signals, are seen within that time (the trade the grid index makes with
  URBANGRID_GRID_VERSION_TTL and the responsibility list with URBANGRID_RESPONSIBILITY_TTL);
- saving or deleting a row of a model the cache depends on clears it in this process at once, and again
  when that transaction commits (another thread may have re-read the old row in between);
- inside a transaction the database answers, and what it answers is not kept: the transaction must see
  its own writes, and may yet roll them back (a test's included), after which the cache would answer
  with rows that never existed (API requests run outside transactions: ATOMIC_REQUESTS is off);
- a value loaded while the cache was being cleared is not kept (it may be the old row).
"""
import threading
import time

from django.conf import settings
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

from .tenancy import current_code


class LocalCache:
    def __init__(self, name, depends_on, ttl_setting, default_ttl, max_entries=10_000, ignore_update_fields=()):
        self.name, self.ttl_setting, self.default_ttl, self.max_entries = name, ttl_setting, default_ttl, max_entries
        # Saves that touch only these columns do not change what is cached (a login's last_login).
        self.ignore_update_fields = frozenset(ignore_update_fields)
        self._entries = {}
        self._generation = 0
        self._lock = threading.Lock()
        for model in depends_on:
            uid = f"localcache-{name}-{model}"
            post_save.connect(self._changed, sender=model, weak=False, dispatch_uid=f"{uid}-save")
            post_delete.connect(self._changed, sender=model, weak=False, dispatch_uid=f"{uid}-delete")

    def clear(self):
        with self._lock:
            self._entries.clear()
            self._generation += 1

    def _changed(self, sender, using=None, update_fields=None, **kwargs):
        if update_fields and self.ignore_update_fields and set(update_fields) <= self.ignore_update_fields:
            return
        self.clear()
        transaction.on_commit(self.clear, using=using)

    def get(self, key, load):
        """The cached value for ``key``, else ``load()`` (kept unless None); inside a transaction, ``load()``."""
        if connection.in_atomic_block:
            return load()
        key = (current_code(), key)  # a token or an actor of one city is nothing in another
        entry = self._entries.get(key)
        now = time.monotonic()
        if entry is not None and now - entry[0] <= getattr(settings, self.ttl_setting, self.default_ttl):
            return entry[1]
        generation = self._generation
        value = load()
        if value is not None:
            with self._lock:
                if generation == self._generation:
                    if len(self._entries) >= self.max_entries:
                        self._entries.clear()
                    self._entries[key] = (now, value)
        return value
