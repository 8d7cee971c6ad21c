"""Indexes for the intake queue at megacity scale (issue 7): its to-do list includes closed cases awaiting a
return visit (回访) or marked dissatisfied. Closed cases are almost the whole history, so without these
partial indexes the queue and its count read every closed case. On PostgreSQL, statistics on the combination
(state, needs_verification, satisfaction) let the planner see how few rows that is.

Plain SQL (both databases accept partial indexes) so the model state is unchanged: the indexes are a physical
detail of the queue's query, not part of the model."""
from django.db import migrations

INDEXES = [
    ("case_verify_due", "CREATE INDEX IF NOT EXISTS case_verify_due ON cases_case (satisfaction) "
                        "WHERE state = 'closed' AND needs_verification"),
    ("case_dissatisfied", "CREATE INDEX IF NOT EXISTS case_dissatisfied ON cases_case (state) "
                          "WHERE satisfaction = 'dissatisfied'"),
]
STATISTICS = "case_state_followup"


def forwards(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for _name, sql in INDEXES:
            cursor.execute(sql)
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute(f"CREATE STATISTICS IF NOT EXISTS {STATISTICS} (mcv) "
                           "ON state, needs_verification, satisfaction FROM cases_case")


def backwards(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")
        for name, _sql in INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_caseevent_handle_deadline")]

    operations = [migrations.RunPython(forwards, backwards)]
