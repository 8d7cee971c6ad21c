"""The committed horizon of a table: the largest id below which every row is committed. Readers that follow a
table by id (the exchange's event cursor, the cities' task fetch) must not pass it: on PostgreSQL a
transaction may commit id 100 after id 101, so the largest id is read while a SHARE lock waits out the
transactions writing the table (a moment; ``lock_timeout`` bounds it). SQLite writes one transaction at a
time, so its largest id is the horizon."""
from django.db import connection, transaction


def committed_horizon(model):
    table = connection.ops.quote_name(model._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL lock_timeout = '10s'")
            cursor.execute(f"LOCK TABLE {table} IN SHARE MODE")
        cursor.execute(f"SELECT MAX(id) FROM {table}")
        return cursor.fetchone()[0] or 0
