"""The flush at the end of each transactional test, made cheap: on both databases the rows ``migrate`` derives from
the models are kept (``KEPT``); on PostgreSQL every other table is emptied without a TRUNCATE of all of them.

A TRUNCATE gives each table (and each of its indexes) a new file, so emptying the ~75 tables that way costs two
to three seconds a time on this machine, whether they hold rows or not, where the same rows go with DELETE in
tens of milliseconds: the flush after each transactional test and the demo snapshot's restore both pay it. Here
only the tables that hold rows are emptied: those whose file has grown past 1 MB by TRUNCATE, which also gives back
the dead rows the suite's deletes and rolled-back restores leave in them (the test server runs without autovacuum,
and every later read of such a table reads its dead rows too), and the others, when they hold a row, by DELETE.
The end state is the same: every table empty, sequences left where they were (as Django's flush leaves them without
``reset_sequences``). Deletes in any order pass because Django's foreign keys are DEFERRABLE INITIALLY DEFERRED
(checked here, never assumed), checked at the commit of the flush's transaction, when every row is gone.
"""
# What ``migrate`` writes from the models themselves (``post_migrate``: content types, permissions), the same after
# every flush: kept, where emptying them only had the flush's ``post_migrate`` write the same ~500 rows again (a
# hundred statements, half the cost of a flush on either database). A test that changed them would leak its change
# to the next: none writes them (they are read to grant permissions).
KEPT = frozenset({"django_content_type", "auth_permission"})
# A table whose file is larger is truncated (with CASCADE: what refers to it goes too, as it would anyway).
BIG_BYTES = 1 << 20


def statements(connection, tables):
    """SQL that empties ``tables`` (PostgreSQL), to run inside one transaction."""
    if not tables:
        return []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND NOT (condeferrable AND condeferred)")
        if cursor.fetchone()[0]:  # an immediate foreign key: only a TRUNCATE of everything is order-free
            return [f"TRUNCATE {', '.join(quote(t) for t in tables)} CASCADE"]
        # the size of each table's file, without reading it (an empty file: no row was ever written since)
        cursor.execute("SELECT relname, pg_relation_size(oid) FROM pg_class WHERE relkind = 'r' "
                       "AND relnamespace = current_schema()::regnamespace AND relname = ANY(%s)", [list(tables)])
        size = dict(cursor.fetchall())
        big = [t for t in tables if size.get(t, 0) > BIG_BYTES]
        maybe = [t for t in tables if 0 < size.get(t, 0) <= BIG_BYTES]
        small = []
        if maybe:
            cursor.execute("SELECT " + ", ".join(f"EXISTS (SELECT FROM {quote(t)})" for t in maybe))
            small = [t for t, holds in zip(maybe, cursor.fetchone()) if holds]
    # PostgreSQL refuses to truncate a table with deferred foreign-key checks pending (rows written earlier in
    # the transaction, e.g. a module's demo city written under a test's): run those checks now, then defer again.
    sql = ["SET CONSTRAINTS ALL IMMEDIATE", "SET CONSTRAINTS ALL DEFERRED"] if big else []
    # Without triggers (session_replication_role, as the snapshot's restore writes): each deleted row would
    # otherwise look up every table referring to its table for rows still pointing at it (a million lookups over
    # the suite), when every table that holds rows is emptied here; and the append-only triggers, which refuse
    # the DELETE and the TRUNCATE of case events, stand aside without being dropped and created again around each
    # flush. Key checks queued before it (a test's own writes) still run at COMMIT.
    sql += ["SET LOCAL session_replication_role = replica"] if big or small else []
    sql += [f"TRUNCATE {', '.join(quote(t) for t in big)} CASCADE"] if big else []
    sql += [f"DELETE FROM {quote(t)}" for t in small]
    return sql


def vacuum_big(connection):
    """VACUUM the tables whose file has grown past ``BIG_BYTES`` (PostgreSQL, outside any transaction; none on
    SQLite); returns their names. A restore inside a transaction that is rolled back (a module's demo city) leaves
    its rows dead in the files it wrote into, and without autovacuum nothing gives the space back: the next
    restore found those files big and truncated them inside its own transaction (a tenth of a second, every module,
    since the rollback brought the old file back each time). Vacuumed here, between modules, the files shrink to
    what their rows need (an empty table: nothing), in a hundredth of a second."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = current_schema()::regnamespace "
                       "AND pg_relation_size(oid) > %s", [BIG_BYTES])
        big = [name for (name,) in cursor.fetchall()]
        if big:
            cursor.execute("VACUUM " + ", ".join(connection.ops.quote_name(t) for t in big))
    return big


def patch_flush(operations_class):
    """Make ``operations_class.sql_flush`` leave the ``KEPT`` tables alone and, on PostgreSQL, return
    ``statements`` (Django's own statements with ``reset_sequences``), and the flush command send no
    ``post_migrate``; returns the function that puts the originals back. Django's flush command (the end of every
    transactional test) runs the list in one transaction (``execute_sql_flush``)."""
    from django.core.management.commands import flush
    from django.db import connections

    from urbangrid.cases import append_only

    original, original_handle = operations_class.sql_flush, flush.Command.handle

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences:
            return original(self, style, tables, reset_sequences=True, allow_cascade=allow_cascade)
        tables = [t for t in tables if t not in KEPT]
        if self.connection.vendor != "postgresql":
            return original(self, style, tables, allow_cascade=allow_cascade)
        return statements(self.connection, tables)

    def handle(self, **options):
        # The append-only triggers refuse the flush's DELETEs: lifted for it on SQLite (PostgreSQL's runs in the
        # replica role, which they stand aside for) and put back after. post_migrate, which would find the KEPT
        # rows in place (sixty queries to learn it), is not sent.
        connection = connections[options["database"]]
        if connection.vendor != "postgresql":
            append_only.uninstall(connection)
        try:
            original_handle(self, **{**options, "inhibit_post_migrate": True})
        finally:
            append_only.ensure(using=options["database"])

    operations_class.sql_flush, flush.Command.handle = sql_flush, handle

    def restore():
        operations_class.sql_flush, flush.Command.handle = original, original_handle
    return restore
