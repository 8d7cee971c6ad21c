"""core/prepared.py: on PostgreSQL the hot statements are prepared once per connection (and still logged and
counted as Django's queries); with URBANGRID_PG_PREPARED off, or on SQLite, they are Django's ordinary statements."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ug_testing import suite_vendor
from urbangrid.core import prepared

pytestmark = pytest.mark.django_db

SQL = "SELECT %s + 1, 'urbangrid-prepared-probe'"


def _prepared_probes():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                       ["%urbangrid-prepared-probe%"])
        return cursor.fetchone()[0]


def test_statements_run_and_are_counted_as_any_query():
    with CaptureQueriesContext(connection) as queries:
        for n in (1, 2, 41):
            with prepared.cursor() as cursor:
                cursor.execute(SQL, [n])
                assert cursor.fetchone()[0] == n + 1
    assert sum("urbangrid-prepared-probe" in q["sql"] for q in queries.captured_queries) == 3


@pytest.mark.skipif(suite_vendor() != "postgresql", reason="prepared statements are PostgreSQL's")
def test_postgresql_prepares_each_statement_once_per_connection():
    with prepared.cursor() as cursor:
        for n in range(3):
            cursor.execute(SQL, [n])
    assert _prepared_probes() == 1  # one statement, prepared at its first use and reused
    with connection.cursor() as cursor:  # Django's own cursors bind on the client and never prepare
        cursor.execute(SQL.replace("probe", "probe-django"), [1])
    assert _prepared_probes() == 1


def test_the_setting_decides_the_connections_threshold(monkeypatch):
    from urbangrid import settings as project

    url = "postgres://postgres@127.0.0.1:5432/x"
    assert project.database_from_url(url)["OPTIONS"]["prepare_threshold"] == 0
    monkeypatch.setattr(project, "URBANGRID_PG_PREPARED", False)
    assert project.database_from_url(url)["OPTIONS"]["prepare_threshold"] is None
    assert "prepare_threshold" not in project.database_from_url("")["OPTIONS"]  # SQLite


@pytest.mark.skipif(suite_vendor() != "postgresql", reason="prepared statements are PostgreSQL's")
def test_a_connection_with_the_setting_off_prepares_nothing():
    connection.ensure_connection()
    raw = connection.connection
    kept = raw.prepare_threshold
    raw.prepare_threshold = None  # what OPTIONS sets at connect with URBANGRID_PG_PREPARED off
    try:
        with prepared.cursor() as cursor:
            for n in range(3):
                cursor.execute(SQL, [n])
                assert cursor.fetchone()[0] == n + 1
        assert _prepared_probes() == 0
    finally:
        raw.prepare_threshold = kept
