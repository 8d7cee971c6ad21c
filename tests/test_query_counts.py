"""No N+1 queries: the main API lists and pages cost a bounded number of queries whatever their length."""
import pytest
from django.contrib.auth import get_user_model

from ug_testing import login_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_cases(demo_city):
    from urbangrid.cases import services
    from urbangrid.catalog.models import CatalogClass
    from urbangrid.org.scope import actor_for

    users = get_user_model().objects
    a = {n: actor_for(users.get(username=n)) for n in ("inspector", "intake_operator", "shift_lead", "dispatcher")}
    codes = ["0401", "0102", "0201", "0507", "0504"]
    for i in range(30):
        cls = CatalogClass.objects.get(version__code="local-demo", code=codes[i % 5])
        case, _ = services.report(a["inspector"], catalog_class=cls, lon=117.2310 + 0.0003 * (i % 20), lat=31.8785,
                                  description=f"问题{i}", source="inspector", require_photos=False)
        if i % 2:
            services.transition(a["intake_operator"], case.number, "accept")
            services.transition(a["shift_lead"], case.number, "file")


@pytest.mark.parametrize("url,limit", [
    ("/api/v1/cases?limit=100", 8),
    ("/api/v1/cases/todo?limit=100", 8),
    ("/api/v1/persons?limit=200", 8),
    ("/api/v1/grids?limit=100", 8),
    ("/api/v1/party-organizations", 9),
    ("/cases/", 16),
])
def test_bounded_queries(many_cases, client, django_assert_max_num_queries, url, limit):
    login_client(client, "dispatcher")
    client.get(url)  # warm per-process caches (calendar, locator) so the count is the page's own
    with django_assert_max_num_queries(limit):
        assert client.get(url).status_code == 200


def test_case_detail_is_bounded(many_cases, client, django_assert_max_num_queries):
    from urbangrid.cases.models import Case

    login_client(client, "dispatcher")
    number = Case.objects.filter(state="pending_dispatch").first().number
    client.get(f"/api/v1/cases/{number}")
    with django_assert_max_num_queries(20):
        assert client.get(f"/api/v1/cases/{number}").status_code == 200


@pytest.fixture
def open311_cases(demo_city):
    """110 reports through the case service, every five in a row alike: unassigned ones of several classes and
    places (their responsible unit has to be worked out), filed ones, and one 不予立案 (terminal, no unit)."""
    from urbangrid.cases import services
    from urbangrid.catalog.models import CatalogClass
    from urbangrid.org.scope import actor_for

    users = get_user_model().objects
    a = {n: actor_for(users.get(username=n)) for n in ("inspector", "intake_operator", "shift_lead")}
    classes = [CatalogClass.objects.get(version__code="local-demo", code=code) for code in ("0401", "0102", "0201", "0507", "0504")]
    for i in range(110):
        case, _ = services.report(a["inspector"], catalog_class=classes[(i // 5) % 5], lon=117.2300 + 0.0004 * (i % 23),
                                  lat=31.8785 + 0.0002 * (i % 7), description=f"问题{i}", source="inspector",
                                  require_photos=False)
        if i % 5 == 1:
            services.transition(a["intake_operator"], case.number, "accept")
            services.transition(a["shift_lead"], case.number, "file")
        elif i % 5 == 2:
            services.transition(a["shift_lead"], case.number, "not_file", {"reason": "不属于受理范围"})


def _cold_caches():
    """Every per-process cache tests/conftest.py clears between tests."""
    from urbangrid.catalog import responsibility
    from urbangrid.gazetteer.geocoder import geocoder
    from urbangrid.grids.locator import locator
    from urbangrid.public.open311 import fastread, services_doc
    from urbangrid.worktime import clock

    clock.invalidate_calendar()
    locator.invalidate()
    geocoder.invalidate()
    responsibility.invalidate()
    services_doc.invalidate()
    fastread.invalidate()


@pytest.mark.parametrize("extensions", ["false", "true"])
def test_open311_request_pages_cost_the_same_whatever_their_length(open311_cases, client, extensions):
    """Open311 GET requests: a page of 10 and a page of 100, caches cold, the same fixed number of queries (the
    responsible unit of the unassigned cases is resolved for the whole page at once, not case by case)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for size in (10, 100):
        _cold_caches()
        with CaptureQueriesContext(connection) as ctx:
            r = client.get("/open311/v2/requests.json", {"page_size": size, "extensions": extensions})
        assert r.status_code == 200
        rows = r.json()
        assert len(rows) == size
        assert sum(1 for row in rows if row["status"] == "open" and row["agency_responsible"]) >= size // 2
        counts[size] = len(ctx.captured_queries)
    assert counts[10] == counts[100], counts
    assert counts[100] <= 12, counts
