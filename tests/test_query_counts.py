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
