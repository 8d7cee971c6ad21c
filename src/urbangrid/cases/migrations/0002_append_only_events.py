"""Database triggers that refuse UPDATE and DELETE on case events: the audit trail is append-only
whatever code (or SQL console) touches it."""
from django.db import migrations

from urbangrid.cases.append_only import POSTGRES, POSTGRES_REVERSE, SQLITE, SQLITE_REVERSE  # noqa: E402


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
