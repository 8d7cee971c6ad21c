"""Extreme dates and offsets are bad input, answered with a clear 4xx, never a 500 (the date arithmetic behind
periods and ranges would overflow; a database integer would too)."""
import pytest

from ug_testing import login_client

API = ["cases?date_from=0001-01-01", "cases?date_to=9999-12-31", "reviews/daily?date=9999-12-31",
       "reviews/yearly?date=9999-06-01", "reviews/scores?from=0001-01-01&to=9999-12-31", "reviews/rankings?date=9999-12-31",
       "members?from=0001-01-01&to=0001-01-02", "party?date=0001-01-01", "evaluation/units?from=9999-12-30&to=9999-12-31",
       "deductions?from=0001-01-01&to=9999-12-31"]
OFFSETS = ["persons", "grids", "unit-grids", "road-segments", "catalog/classes", "deductions"]
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
