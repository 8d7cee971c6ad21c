"""The lights in SQL (``queries.light_q``, used by every list filter) agree with ``engine.light`` (what each
row shows) on every edge: at, just before and just after the deadline and the yellow instant, with the
clock running or paused before, at or after them, and with no yellow instant stored."""
from datetime import datetime, timedelta
from itertools import product

import pytest
from django.contrib.auth import get_user_model

from urbangrid.cases import engine, queries, services
from urbangrid.cases.models import Case
from urbangrid.catalog.models import CatalogClass
from urbangrid.org.scope import actor_for
from urbangrid.worktime import clock as wt

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 10, 10, 0, 0, 1000, tzinfo=wt.TZ)
US = timedelta(microseconds=1)


def test_sql_lights_agree_with_the_engine_on_every_edge(demo_city):
    inspector = actor_for(get_user_model().objects.get(username="inspector"))
    cls = CatalogClass.objects.get(version__code="local-demo", code="0401")
    deadlines = [NOW - timedelta(hours=2), NOW - US, NOW, NOW + US, NOW + timedelta(hours=3)]
    yellows = [None, timedelta(hours=-1), -US, timedelta(0)]  # relative to the deadline
    pauses = [None, timedelta(hours=-4), -US, timedelta(0), US, timedelta(hours=1)]  # relative to the deadline
    rows = []
    for deadline, yellow, pause in product(deadlines, yellows, pauses):
        case, _ = services.report(inspector, catalog_class=cls, lon=117.2352, lat=31.8785, description="灯",
                                  source="inspector", at=NOW - timedelta(days=1), require_photos=False)
        # Deliberately hand-set clock fields, the one place a test writes them: this test is about the SQL
        # condition (``queries.light_q``) agreeing with ``engine.light`` on the same stored values, a property
        # of the query, not of the loop. The grid of edges (a deadline 1 µs either side of NOW, a yellow instant
        # at or 1 µs before the deadline or none at all, a pause at or 1 µs around the deadline) is mostly
        # beyond what the engine's working-time arithmetic writes; the lights the loop itself produces are
        # tested through the services (tests/dashboard/test_metrics.py, tests/places/test_grid_page.py).
        Case.objects.filter(pk=case.pk).update(
            state="handling", stage="handle", stage_started_at=NOW - timedelta(days=1), stage_deadline=deadline,
            stage_yellow_at=None if yellow is None else deadline + yellow,
            stage_paused_at=None if pause is None else deadline + pause)
        rows.append(case.pk)
    cases = {c.pk: c for c in Case.objects.filter(pk__in=rows)}
    expected = {pk: engine.light(c, NOW) for pk, c in cases.items()}
    assert set(expected.values()) == {wt.RED, wt.YELLOW, wt.GREEN}  # every light occurs
    for light in (wt.RED, wt.YELLOW, wt.GREEN):
        in_sql = set(Case.objects.filter(pk__in=rows).filter(queries.light_q(light, NOW)).values_list("pk", flat=True))
        assert in_sql == {pk for pk, got in expected.items() if got == light}, light
