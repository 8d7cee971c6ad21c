"""Database triggers that refuse UPDATE and DELETE on case events: the audit trail is append-only
whatever code (or SQL console) touches it."""
from django.db import migrations

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


def forwards(apps, schema_editor):
    statements = {"sqlite": SQLITE, "postgresql": POSTGRES}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    statements = {"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
