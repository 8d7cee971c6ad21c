"""Bulk loads leave the planner statistics behind (PostgreSQL, which here runs without autovacuum)."""
import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def _has_statistics(table):
    # pg_stats rows are written by ANALYZE inside the test's own transaction (and rolled back with it).
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stats WHERE schemaname = current_schema() AND tablename = %s", [table])
        return cursor.fetchone()[0] > 0


def test_demo_build_ends_with_analyze():
    if connection.vendor != "postgresql":
        pytest.skip("ANALYZE is PostgreSQL's")
    from urbangrid.cases.models import Case
    from urbangrid.fabricate.demo.build import build_demo
    from urbangrid.gazetteer.models import Doorplate
    from urbangrid.grids.models import UnitGrid

    build_demo(seed=3, log=lambda m: None, history=True, cases=150)
    assert Case.objects.exists()
    for model in (Case, UnitGrid, Doorplate):
        assert _has_statistics(model._meta.db_table), model._meta.db_table


def test_analyze_helper_names_the_tables():
    from urbangrid.core.bulk import analyze

    tables = analyze("grids")
    if connection.vendor == "postgresql":
        assert "grids_unitgrid" in tables
    else:
        assert tables == []
