"""Put the append-only triggers back: on SQLite, 0006 rebuilt ``cases_caseevent`` and so dropped the triggers
0002 had made (``append_only.ensure`` now checks after every migrate as well)."""
from django.db import migrations


def forwards(apps, schema_editor):
    from urbangrid.cases import append_only

    append_only.install(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("cases", "0009_case_kept_closed")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
