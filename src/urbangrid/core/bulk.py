"""Fast bulk insert for generated history and megacity datasets.

Django's ``bulk_create`` compiles every value through the SQL compiler, which costs more than the
database itself for hundreds of thousands of rows. Here each field's database conversion is applied
only where a type needs it (dates, JSON, decimals) and rows go through ``executemany``; primary keys
are assigned up front (the tables must have no rows with higher ids) and the sequence is reset after.
"""
from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, models

_NEEDS_PREP = (models.DateTimeField, models.DateField, models.JSONField, models.DecimalField, models.TimeField)


def next_id(model):
    last = model.objects.aggregate(m=models.Max("pk"))["m"]
    return (last or 0) + 1


def fast_insert(model, objs, batch_size=5000):
    """Insert ``objs`` (with pks already set) and reset the table's id sequence."""
    fields = [f for f in model._meta.concrete_fields]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
    prep = [(f.attname, f if isinstance(f, _NEEDS_PREP) else None) for f in fields]
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            rows = []
            for obj in objs[start:start + batch_size]:
                rows.append(tuple(
                    getattr(obj, attname) if field is None else field.get_db_prep_save(getattr(obj, attname), connection)
                    for attname, field in prep))
            cursor.executemany(sql, rows)
        for statement in connection.ops.sequence_reset_sql(no_style(), [model]):
            cursor.execute(statement)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


class relaxed_durability:
    """Inside a bulk load (the demo build, the generator) SQLite may run ``synchronous=NORMAL`` on this
    connection: a power cut loses at most the load in progress, which is rerun anyway; the server's own
    connections keep FULL (settings.py). PostgreSQL is left alone."""

    def __enter__(self):
        # SQLite cannot change the level inside a transaction (a caller's own, or a test's): keep FULL then.
        self.sqlite = connection.vendor == "sqlite" and not connection.in_atomic_block
        if self.sqlite:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=NORMAL")
        return self

    def __exit__(self, *exc):
        if self.sqlite:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=FULL")
        return False


def analyze(*app_labels):
    """Give the planner statistics after a bulk load: on PostgreSQL ``ANALYZE`` the tables of ``app_labels``
    (every table of the database when none is given). The shared PostgreSQL runs without autovacuum, so
    without this a freshly loaded table has none until someone runs ANALYZE by hand, and the planner
    guesses (sequential scans over hundreds of thousands of cases). SQLite: nothing (its planner needs none
    to pick the indexes). Allowed inside a transaction; answers the tables analysed (None: the whole database)."""
    if connection.vendor != "postgresql":
        return []
    tables = None
    if app_labels:
        tables = sorted({m._meta.db_table for label in app_labels for m in apps.get_app_config(label).get_models()
                         if m._meta.managed and not m._meta.proxy})
    with connection.cursor() as cursor:
        if tables is None:
            cursor.execute("ANALYZE")
        else:
            for table in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return tables
