"""One case-list filter (cases/listing.py): the web case list and the API list answer the same cases for the
same filter, and the filter's readings are pinned on a small set of cases."""
from datetime import timedelta

import pytest
from django.utils import timezone

from urbangrid.cases import listing
from urbangrid.cases.models import Case

pytestmark = pytest.mark.django_db

@pytest.fixture
def some_cases(demo_city):
    """Two cases in 处置中 and one in 待受理 (the demo city without history has none)."""
    from ug_testing import dispatched_case

    return [dispatched_case(), dispatched_case(), dispatched_case()]


FILTERS = [
    {},
    {"state": "handling"},
    {"state": "pending_dispatch"},
    {"light": "red"},
    {"source": "inspector"},
    {"q": "井盖"},
    {"rework": "1"},
    {"date_field": "closed_at", "date_from": "2026-01-01"},
    {"kpi": "filed", "date_from": "2025-01-01"},
]


def _web_numbers(client, params):
    page = client.get("/cases/", {**params, "sort": "-reported"})
    assert page.status_code == 200
    return [r["case"].number for r in page.context["rows"]], page.context["total"]


def _api_numbers(client, params, token):
    q = {**params, "limit": 50, "sort": "-reported"}
    if "state" in q:
        q["state"] = [q["state"]]
    if "rework" in q:
        q["rework"] = "true"
    r = client.get("/api/v1/cases", q, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 200, r.content
    body = r.json()
    return [c["number"] for c in body["items"]], body["total"]


@pytest.mark.parametrize("params", FILTERS, ids=lambda p: ",".join(p) or "none")
def test_web_and_api_lists_agree(demo_city, some_cases, client, params):
    login = demo_city["logins"]["dispatcher"]
    token = client.post("/api/v1/auth/token", login, content_type="application/json").json()["token"]
    assert client.login(username=login["username"], password=login["password"])
    web, web_total = _web_numbers(client, params)
    api, api_total = _api_numbers(client, params, token)
    assert web_total == api_total
    if not params or params == {"state": "handling"}:
        assert api_total >= 3  # the fixture's cases: an empty agreement would prove nothing
    assert web[:len(api)] == api[:len(web)]


def test_filter_readings():
    f = listing.CaseFilter.from_data({"state": "handling", "q": "", "rework": False, "unknown": 1})
    assert f.states == ("handling",) and f.q == "" and not f.rework and not f.is_empty()
    assert listing.CaseFilter.from_data({"sort": "-deadline"}).is_empty()
    assert listing.CaseFilter.from_data({"state": ["a", "b"]}).states == ("a", "b")


def test_date_to_is_inclusive_and_date_field_chosen(demo_city, some_cases):
    case = Case.objects.order_by("-created_at").first()
    day = timezone.localtime(case.created_at).date()
    qs = listing.narrow(Case.objects.all(), listing.CaseFilter(date_from=day, date_to=day))
    assert case in qs
    assert case not in listing.narrow(Case.objects.all(), listing.CaseFilter(date_to=day - timedelta(days=1)))
    # the same day on another date field: the case was never closed, so it is not in
    assert case not in listing.narrow(Case.objects.all(), listing.CaseFilter(date_field="closed_at", date_from=day))
