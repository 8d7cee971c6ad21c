"""``build_demo`` for tests that need a demo city but do not test its building: the first call with given
arguments builds it for real and keeps a copy of every table's rows and of the files it wrote under VAR_DIR;
later calls in the same session put that copy back (seconds, where a build with history takes a minute).

The copy is restored inside the caller's transaction (a ``db`` test rolls it back as it would a build) or in a
transaction of its own (a transactional or live-server test), with the append-only triggers lifted for the
swap and put back after (on PostgreSQL: set aside with every trigger by the replica role). The tests of the
build itself (``test_demo*.py``, ``test_make_demo.py``) call the real ``build_demo``.
"""
import io
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, transaction

import fast_flush
from urbangrid.fabricate.demo.build import build_demo as _real_build

_kept = {}
_store = Path(tempfile.mkdtemp(prefix="ug-demo-snapshots-"))


def build_demo(seed=2024, log=print, history=False, cases=None):
    key = (connection.vendor, connection.settings_dict["NAME"], seed, history, cases)
    if key not in _kept:
        summary, logins, path = _real_build(seed=seed, log=log, history=history, cases=cases)
        files = _store / f"s{len(_kept)}"
        _copy_files(Path(settings.VAR_DIR), files)
        _kept[key] = (_read_tables(), files, (summary, logins, Path(path).relative_to(settings.VAR_DIR)))
        return summary, logins, path
    tables, files, (summary, logins, path) = _kept[key]
    committed = not connection.in_atomic_block  # a transaction of its own, committed below, or the test's
    with transaction.atomic():
        _write_tables(tables, committed)
    _copy_files(files, Path(settings.VAR_DIR))
    _forget_process_caches()
    return summary, logins, Path(settings.VAR_DIR) / path


# What a build writes under VAR_DIR: the demo logins and install salt, the audit chain's key.
FILES = ("demo", "audit.key", "secret.key")


def _copy_files(source, target):
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        if (source / name).is_dir():
            shutil.copytree(source / name, target / name, dirs_exist_ok=True)
        elif (source / name).exists():
            shutil.copy2(source / name, target / name)


def _tables():
    names = [t for t in connection.introspection.table_names() if t != "django_migrations"]
    if connection.vendor == "sqlite":
        names.append("sqlite_sequence")
    return names


def _read_tables():
    kept = {}
    with connection.cursor() as cursor:
        for table in _tables():
            quoted = connection.ops.quote_name(table)
            if connection.vendor == "postgresql":
                buffer = io.BytesIO()
                with cursor.cursor.copy(f"COPY {quoted} TO STDOUT") as copy:
                    for chunk in copy:
                        buffer.write(chunk)
                kept[table] = buffer.getvalue()
            else:
                columns = [c.name for c in connection.introspection.get_table_description(cursor, table)]
                # ``+column`` is SQLite's no-op on any value: it hides the declared type from Django's converters,
                # so values come back as stored and go back in unchanged.
                listed = ", ".join("+" + connection.ops.quote_name(c) for c in columns)
                cursor.execute(f"SELECT {listed} FROM {quoted}")
                kept[table] = (columns, cursor.fetchall())
    return kept


def _write_tables(kept, committed):
    from django.apps import apps

    from urbangrid.cases import append_only

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Only the tables holding rows are emptied (a TRUNCATE of all of them costs seconds: fast_flush), and
            # the rows put back without triggers, as pg_restore --disable-triggers does: they are a copy of a
            # whole, checked database, and each row's deferred foreign-key checks (tens of thousands a restore)
            # would only find them valid again; the append-only triggers stand aside the same way.
            cursor.execute("SET LOCAL session_replication_role = replica")
            for sql in fast_flush.statements(connection, list(kept)):
                cursor.execute(sql)
            for table, data in kept.items():
                if data:
                    with cursor.cursor.copy(f"COPY {connection.ops.quote_name(table)} FROM STDIN") as copy:
                        copy.write(data)
            cursor.execute("SET LOCAL session_replication_role = origin")
            # one round trip for the hundred-odd setval() calls
            cursor.execute("\n".join(connection.ops.sequence_reset_sql(
                no_style(), apps.get_models(include_auto_created=True))))
            # The planner's statistics for what was put back, as the real build ends with (``analyze()``): the
            # tables were emptied by DELETE, so their old statistics (perhaps "no rows") would stand otherwise.
            # Only where they are not already a restored city's: see ``_Statistics``.
            rows = {t: data.count(b"\n") for t, data in kept.items() if data}
            stale = _statistics.stale(cursor, rows)
            if stale:
                cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in stale))
            if committed and stale:
                _statistics.left(cursor, rows, stale)
        return
    append_only.uninstall(connection)
    with connection.cursor() as cursor:
        for table in kept:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")
        for table, (columns, rows) in kept.items():
            if rows:
                names = ", ".join(connection.ops.quote_name(c) for c in columns)
                marks = ", ".join("%s" for _ in columns)
                cursor.executemany(f"INSERT INTO {connection.ops.quote_name(table)} ({names}) VALUES ({marks})", rows)
    append_only.install(connection)


class _Statistics:
    """Which tables' planner statistics a committed restore left, so that later restores ANALYZE only the others.

    A restore in a transaction of its own (a live-server test's) commits its ANALYZE; a DELETE later leaves the
    statistics as they were, so the next restore of a city of about that size (autovacuum's rule: rows within
    50 + 10 %) finds them right. A restore inside a test's transaction cannot leave any (the rollback takes its
    ANALYZE back); nor is it known to hold statistics once any ANALYZE of the table ran since, committed or not,
    which the table's ``analyze_count`` (counted outside transactions) tells."""

    def __init__(self):
        self.kept = {}  # (database, table): (its analyze_count, rows) after a committed restore's ANALYZE

    def _counts(self, cursor, tables):
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # the counters now, not as first read in this transaction
        cursor.execute("SELECT relname, analyze_count FROM pg_stat_user_tables WHERE schemaname = current_schema() "
                       "AND relname = ANY(%s)", [list(tables)])
        return dict(cursor.fetchall())

    def stale(self, cursor, rows):
        db = connection.settings_dict["NAME"]
        kept = {t: self.kept.get((db, t)) for t in rows}
        if not any(kept.values()):
            return list(rows)  # none left by a committed restore: no counters to read
        counts = self._counts(cursor, rows)
        return [t for t, n in rows.items() if not (
            kept[t] and kept[t][0] == counts.get(t) and abs(n - kept[t][1]) <= 50 + 0.1 * kept[t][1])]

    def left(self, cursor, rows, analyzed):
        counts, db = self._counts(cursor, analyzed), connection.settings_dict["NAME"]
        self.kept.update({(db, t): (counts.get(t), rows[t]) for t in analyzed})


_statistics = _Statistics()


def _forget_process_caches():
    from django.contrib.contenttypes.models import ContentType
    from django.core.cache import cache

    from urbangrid.assessment.evaluation import tallies
    from urbangrid.cases import services
    from urbangrid.catalog import responsibility
    from urbangrid.gazetteer.geocoder import geocoder
    from urbangrid.grids.locator import locator
    from urbangrid.public.open311 import fastread
    from urbangrid.worktime import clock

    ContentType.objects.clear_cache()
    cache.clear()
    locator.invalidate()
    geocoder.invalidate()
    responsibility.invalidate()
    clock.invalidate_calendar()
    tallies.forget_seen()
    services._limits_cache.clear()
    fastread.invalidate()
