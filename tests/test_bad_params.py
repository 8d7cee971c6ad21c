"""Extreme dates and offsets are bad input, answered with a clear 4xx, never a 500 (the date arithmetic behind
periods and ranges would overflow; a database integer would too)."""
import pytest

from ug_testing import login_client

API = ["cases?date_from=0001-01-01", "cases?date_to=9999-12-31", "reviews/daily?date=9999-12-31",
       "reviews/yearly?date=9999-06-01", "reviews/scores?from=0001-01-01&to=9999-12-31", "reviews/rankings?date=9999-12-31",
       "members?from=0001-01-01&to=0001-01-02", "party?date=0001-01-01", "evaluation/units?from=9999-12-30&to=9999-12-31",
       "deductions?from=0001-01-01&to=9999-12-31"]
OFFSETS = ["persons", "grids", "unit-grids", "road-segments", "catalog/classes", "deductions", "components"]
PAGES = ["/assessment/?date=9999-12-31", "/assessment/reviews/yearly/?date=9999-12-31", "/assessment/members/?date=0001-01-01",
         "/assessment/party/?date=9999-12-31", "/assessment/export/units.xlsx?date=9999-12-31",
         "/assessment/deductions/?from=0001-01-01&to=9999-12-31", "/cases/?date_from=0001-01-01&date_to=9999-12-31"]
OPEN311 = ["requests.json?start_date=9999-12-31T23:59:59%2B14:00", "requests.json?end_date=0001-01-02T00:00:00Z",
           "requests.xml?start_date=0001-01-01T00:00:00Z"]


@pytest.mark.django_db
def test_extreme_dates_and_offsets_are_refused_clearly(demo_city, client):
    login_client(client, "admin")
    for path in API:
        r = client.get(f"/api/v1/{path}")
        assert r.status_code in (400, 422), (path, r.status_code)
    for path in OFFSETS:
        r = client.get(f"/api/v1/{path}?offset=9223372036854775808")
        assert r.status_code == 422, (path, r.status_code)
        assert client.get(f"/api/v1/{path}?offset=5").status_code == 200, path
    for path in PAGES:
        r = client.get(path)
        assert r.status_code < 500, (path, r.status_code)
    client.logout()
    for path in OPEN311:
        r = client.get(f"/open311/v2/{path}")
        assert r.status_code == 400 and b"between" in r.content, (path, r.status_code)


@pytest.mark.django_db
def test_the_channel_of_a_report_is_the_servers_fact_not_the_clients_word(demo_city, client):
    """An inspector outside his grids, an assessor or a unit handler cannot pass a report off as a leader's
    instruction, a hotline call or an outside system's request; the posts that own a channel can."""
    from django.contrib.auth import get_user_model

    from urbangrid.cases import services
    from urbangrid.catalog.models import CatalogClass
    from urbangrid.org.scope import actor_for

    users = get_user_model().objects
    cls = CatalogClass.objects.get(version__code="local-demo", code="0401")
    where = dict(catalog_class=cls, lon=117.2352, lat=31.8785, description="x", require_photos=False)
    for username, source in (("inspector", "leader"), ("inspector", "hotline_12345"), ("assessor", "leader"),
                             ("assessor", "video"), ("unit_handler", "open311"), ("leader", "open311"),
                             ("unit_handler", "hotline_12319"), ("intake_operator", "inspector")):
        with pytest.raises(services.Forbidden) as refused:
            services.report(actor_for(users.get(username=username)), source=source, **where)
        assert refused.value.code in ("forbidden", "forbidden_source"), (username, source)
    for username, source in (("intake_operator", "hotline_12345"), ("leader", "leader"), ("intake_operator", "media"),
                             ("inspector", "inspector"), ("assessor", "public_app")):
        case, created = services.report(actor_for(users.get(username=username)), source=source, **where)
        assert created and case.source == source
    # through the API the same: the client's source is checked, with a 403
    login_client(client, "inspector")
    r = client.post("/api/v1/cases", {"catalog_version": "local-demo", "class_code": "0401", "lon": "117.2352", "lat": "31.8785", "description": "x",
                                      "source": "leader"})
    assert r.status_code == 403, r.content
