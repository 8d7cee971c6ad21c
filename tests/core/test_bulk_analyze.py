"""Bulk loads leave the planner statistics behind (PostgreSQL, which here runs without autovacuum)."""
import pytest
from django.db import connection
from ug_testing import HISTORY, new_site, suite_vendor

pytestmark = pytest.mark.django_db


def test_the_demo_command_ends_with_analyze(tmp_path):
    """The session's demo city with history, as ``urbangrid demo`` built it (``ug_testing.HISTORY``, shared with the
    tests that start servers on it), copied with its catalogues: its planner statistics came with it. The server
    runs without autovacuum, so only the build's own ANALYZE can have written them."""
    if suite_vendor() != "postgresql":
        pytest.skip("ANALYZE is PostgreSQL's")
    import psycopg

    env, drop = new_site(tmp_path / "site", "ug_analyzed", HISTORY)
    try:
        with psycopg.connect(env["DATABASE_URL"]) as site:
            assert site.execute("SELECT count(*) FROM cases_case").fetchone()[0] > 0
            for table in ("cases_case", "cases_caseevent", "grids_unitgrid", "gazetteer_doorplate"):
                assert site.execute("SELECT count(*) FROM pg_stats WHERE schemaname = current_schema() "
                                    "AND tablename = %s", [table]).fetchone()[0] > 0, table
    finally:
        drop()


def test_analyze_helper_names_the_tables():
    from urbangrid.core.bulk import analyze

    tables = analyze("grids")
    if connection.vendor == "postgresql":
        assert "grids_unitgrid" in tables
    else:
        assert tables == []
