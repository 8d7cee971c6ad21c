"""Database triggers that refuse UPDATE and DELETE (and, on PostgreSQL, TRUNCATE) of case events: the audit
trail is append-only whatever code or SQL console touches it.

SQLite drops a table's triggers when a migration rebuilds the table (``ALTER`` by copy), so the triggers are
put back after every ``migrate`` (``apps.CasesConfig.ready`` connects ``ensure`` to ``post_migrate``), not
only by the migrations that created them; ``present`` tells whether they are in place.
"""
from django.db import connections

SQLITE = [
    """CREATE TRIGGER caseevent_no_update BEFORE UPDATE ON cases_caseevent
       BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END""",
    """CREATE TRIGGER caseevent_no_delete BEFORE DELETE ON cases_caseevent
       BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END""",
]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS caseevent_no_update", "DROP TRIGGER IF EXISTS caseevent_no_delete"]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION caseevent_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'case events are append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER caseevent_no_update BEFORE UPDATE OR DELETE ON cases_caseevent
       FOR EACH ROW EXECUTE FUNCTION caseevent_append_only()""",
    """CREATE TRIGGER caseevent_no_truncate BEFORE TRUNCATE ON cases_caseevent
       FOR EACH STATEMENT EXECUTE FUNCTION caseevent_append_only()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS caseevent_no_update ON cases_caseevent",
    "DROP TRIGGER IF EXISTS caseevent_no_truncate ON cases_caseevent",
    "DROP FUNCTION IF EXISTS caseevent_append_only()",
]
NAMES = {"sqlite": {"caseevent_no_update", "caseevent_no_delete"},
         "postgresql": {"caseevent_no_update", "caseevent_no_truncate"}}


def _run(connection, statements):
    with connection.cursor() as cursor:
        for sql in statements.get(connection.vendor, []):
            cursor.execute(sql)


def install(connection):
    """(Re)create the triggers."""
    _run(connection, {"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE})
    _run(connection, {"sqlite": SQLITE, "postgresql": POSTGRES})


def uninstall(connection):
    _run(connection, {"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE})


def present(connection):
    """The names of the append-only triggers in place on ``cases_caseevent``."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'cases_caseevent'")
        elif connection.vendor == "postgresql":
            # to_regclass: no row (not an error) before the table exists
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass('cases_caseevent') AND NOT tgisinternal")
        else:
            return set()
        return {row[0] for row in cursor.fetchall()}


def ensure(sender=None, using="default", **kwargs):
    """``post_migrate``: put the triggers back if a migration dropped them (once the table exists)."""

    connection = connections[using]
    if NAMES.get(connection.vendor, set()) <= present(connection):
        return  # one query when they are in place (the test suite asks before every test)
    if "cases_caseevent" in connection.introspection.table_names():
        install(connection)
