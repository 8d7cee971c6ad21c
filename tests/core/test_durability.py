"""Durability: a request answered 201 is on disk. SQLite's server connections run synchronous=FULL (WAL
with NORMAL may lose the last commits on power loss); bulk loads relax it on their own connection only.
(In its own module: the demo city of other modules holds a transaction open, inside which SQLite cannot
change the setting.)"""
import pytest


@pytest.mark.django_db(transaction=True)
def test_sqlite_server_connections_commit_durably():
    from django.db import connection

    from urbangrid.core.bulk import relaxed_durability

    if connection.vendor != "sqlite":
        pytest.skip("a SQLite setting (PostgreSQL commits with synchronous_commit=on)")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 2  # FULL
        with relaxed_durability():
            cursor.execute("PRAGMA synchronous")
            assert cursor.fetchone()[0] == 1  # NORMAL, for the bulk load only
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 2


@pytest.mark.django_db
def test_postgres_commits_durably():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
