"""The base layer GeoJSON (/basemap.json): scoped, cached per grid data version, invalidated by an edit."""
import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client

from urbangrid.grids.models import RoadSegment, UnitGrid

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()  # entries are keyed by version; a rolled-back test may have left one for the same number
    yield
    cache.clear()


def _staff():
    c = Client()
    c.force_login(get_user_model().objects.get(username="dispatcher"))
    return c


def _layers(body):
    out = {}
    for f in body["features"]:
        out.setdefault(f["properties"]["layer"], []).append(f)
    return out


def test_public_scope_has_outlines_roads_and_borders_without_codes(demo_city):
    r = Client().get("/basemap.json")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/geo+json")
    assert r["Cache-Control"].startswith("public")
    layers = _layers(r.json())
    assert len(layers["grid"]) == UnitGrid.objects.exclude(geometry=None).count()
    assert len(layers["road"]) == RoadSegment.objects.exclude(geometry=None).count()
    assert len(layers["district"]) == 3  # the demo city's districts
    assert all(set(f["properties"]) == {"layer"} for f in layers["grid"])  # no unit-grid codes in public
    assert all("code" not in f["properties"] and f["properties"]["name"] for f in layers["road"])
    assert all(f["geometry"]["type"] in ("LineString", "MultiLineString") for f in layers["district"])
    # Asking for more than one may see gives the public scope.
    assert Client().get("/basemap.json?scope=staff").content == r.content


def test_staff_scope_has_codes_and_a_logged_in_page_may_ask_for_public(demo_city):
    staff = _staff()
    r = staff.get("/basemap.json")
    assert r.status_code == 200 and r["Cache-Control"].startswith("private")
    layers = _layers(r.json())
    assert all(len(f["properties"]["code"]) == 15 for f in layers["grid"])
    assert all(f["properties"]["code"] for f in layers["road"])
    public = staff.get("/basemap.json?scope=public").json()
    assert all(set(f["properties"]) == {"layer"} for f in _layers(public)["grid"])


def test_bad_scope_is_a_400(demo_city):
    assert Client().get("/basemap.json?scope=everything").status_code == 400


def test_etag_revalidates_and_an_edit_to_the_grid_data_invalidates(demo_city):
    c = Client()
    first = c.get("/basemap.json")
    etag = first["ETag"]
    assert c.get("/basemap.json", HTTP_IF_NONE_MATCH=etag).status_code == 304
    road = RoadSegment.objects.order_by("code").first()
    road.name = "新改名路"
    road.save()  # bumps the grid data version (grids/signals.py)
    again = c.get("/basemap.json", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200 and again["ETag"] != etag
    assert "新改名路" in {f["properties"].get("name") for f in again.json()["features"]}
    assert "新改名路" not in first.content.decode()
