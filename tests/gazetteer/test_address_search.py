"""Searching the gazetteer from the report forms: the public-safe endpoint (anonymous, rate limited), hotline
work orders and desk calls with only address text, the citizen form without a picked point."""
import pytest
from django.test import Client

from ug_testing import login_client
from urbangrid.cases.models import Case
from urbangrid.catalog.models import CatalogClass
from urbangrid.grids.locator import locator

pytestmark = pytest.mark.django_db
CROSSING = "黄山路与金寨路交叉口东北角"  # a confident intersection in WG01 (see test_api.py)


@pytest.fixture
def lifted(settings):
    settings.URBANGRID_PUBLIC_POSTS_PER_HOUR = 10**9
    settings.URBANGRID_PUBLIC_GEOCODES_PER_HOUR = 10**9


def _class(code="09009"):  # 机动车乱停放 in the demo's current catalogue (GB/T 47678.5-2026)
    return CatalogClass.objects.get(version__code="gbt47678.5-2026", kind="event", code=code)


def test_public_geocode_is_anonymous_and_safe(demo_city, lifted):
    c = Client()
    r = c.get("/public/geocode.json", {"q": CROSSING})
    assert r.status_code == 200
    best = r.json()["candidates"][0]
    assert best["precision"] == "intersection" and best["confident"] and best["responsibility_grid"] == "WG01"
    assert set(best) <= {"lon", "lat", "score", "precision", "label", "confident", "unit_grid", "responsibility_grid", "community"}
    assert c.get("/public/geocode.json", {"q": "火星基地"}).json()["candidates"] == []
    for bad in ({"q": ""}, {}, {"q": "长" * 300}, {"q": "长江路", "limit": "x"}, {"q": "长江路", "limit": "50"}):
        r = c.get("/public/geocode.json", bad)
        assert r.status_code == 400 and r.json()["fields"], bad
    assert c.get("/public/geocode.json", {"q": "长江路\x00"}).status_code == 400  # (refused before the view: NUL)
    assert c.post("/public/geocode.json", {"q": CROSSING}).status_code == 405


def test_public_geocode_is_rate_limited(demo_city, settings):
    settings.URBANGRID_PUBLIC_GEOCODES_PER_HOUR = 3
    c = Client(REMOTE_ADDR="203.0.113.77")
    codes = [c.get("/public/geocode.json", {"q": "长江路318号"}).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    r = c.get("/public/geocode.json", {"q": "长江路318号"})
    assert r["Retry-After"] and r.json()["code"] == "rate_limited"
    assert Client(REMOTE_ADDR="203.0.113.78").get("/public/geocode.json", {"q": "长江路318号"}).status_code == 200


def test_hotline_work_order_with_only_an_address(demo_city):
    c = login_client(Client(), "intake_operator")
    order = {"hotline": "12345", "external_no": "GZ-ADDR-1", "catalog_version": "gbt47678.5-2026", "class_code": "09009",
             "address": CROSSING, "description": "路口乱停车"}
    r = c.post("/api/v1/hotline/orders", order, content_type="application/json")
    assert r.status_code == 201, r.content
    case = Case.objects.get(external_ref="12345:GZ-ADDR-1")
    assert case.responsibility_grid.code == "WG01" and case.address == CROSSING
    assert locator.find_unit_grid(case.lon, case.lat)[3] == "WG01"
    for bad, field in (({"address": ""}, "location"), ({"lon": 117.25}, "location")):
        r = c.post("/api/v1/hotline/orders", {**order, "external_no": "GZ-ADDR-2", **bad}, content_type="application/json")
        assert r.status_code == 422, (bad, r.content)
        assert field in r.json().get("fields", {}), r.json()
    assert not Case.objects.filter(external_ref="12345:GZ-ADDR-2").exists()
    # words the gazetteer cannot place with confidence: the order is kept, awaiting the centre's 定位
    for n, words in enumerate(("长江路", "火星基地")):
        r = c.post("/api/v1/hotline/orders", {**order, "external_no": f"GZ-ADDR-{3 + n}", "address": words},
                   content_type="application/json")
        assert r.status_code == 201 and r.json()["state"] == "unlocated", r.content
        case = Case.objects.get(external_ref=f"12345:GZ-ADDR-{3 + n}")
        assert case.lon is None and case.responsibility_grid is None and case.address == words


def test_hotline_desk_with_only_an_address(demo_city):
    c = login_client(Client(), "intake_operator")
    page = c.get("/centre/hotline/").content.decode()
    assert 'data-geocode-url="/api/v1/geocode"' in page and "address_search.js" in page
    data = {"hotline": "12345", "external_no": "DESK-1", "catalog_class": _class().pk, "description": "路口乱停车",
            "address": CROSSING}
    r = c.post("/centre/hotline/", data)
    assert r.status_code == 302, r.content.decode()[-3000:]
    case = Case.objects.get(external_ref="12345:DESK-1")
    assert case.responsibility_grid.code == "WG01" and r.url == f"/cases/{case.number}/"
    vague = c.post("/centre/hotline/", {**data, "external_no": "DESK-3", "address": "长江路"})
    assert vague.status_code == 302 and Case.objects.get(external_ref="12345:DESK-3").state == "unlocated"
    bad = c.post("/centre/hotline/", {**data, "external_no": "DESK-2", "address": ""})
    assert bad.status_code == 400 and "请填写经纬度或地址" in bad.content.decode()
    assert not Case.objects.filter(external_ref="12345:DESK-2").exists()


def test_citizen_form_with_only_an_address(demo_city, lifted):
    c = Client()
    page = c.get("/report/").content.decode()
    assert 'data-geocode-url="/public/geocode.json"' in page and "address_search.js" in page
    r = c.post("/report/", {"catalog_class": _class().pk, "description": "路口乱停车", "address": CROSSING})
    assert r.status_code == 302, r.content.decode()[-2000:]
    case = Case.objects.get(source="public_web", description="路口乱停车")
    assert case.responsibility_grid.code == "WG01"
    r = c.post("/report/", {"catalog_class": _class().pk, "description": "某处乱停车", "address": "长江路"})
    assert r.status_code == 400 and not Case.objects.filter(description="某处乱停车").exists()


def test_mobile_report_page_has_the_search_box(demo_city):
    page = login_client(Client(), "inspector").get("/m/report/").content.decode()
    assert 'id="address-search"' in page and 'data-geocode-url="/api/v1/geocode"' in page and "address_search.js" in page
