from decimal import Decimal

import pytest

from urbangrid.catalog.loader import load_catalogues
from urbangrid.catalog.models import CatalogClass, ResponsibilityRule

URL = "/api/v1"


@pytest.fixture
def api(client, django_user_model, db):
    user = django_user_model.objects.create_user("clerk", password="a-long-password-1")
    client.force_login(user)
    return client


@pytest.fixture
def loaded(db):
    load_catalogues()


def test_requires_login(client, db):
    assert client.get(f"{URL}/catalog/versions").status_code == 401


def test_versions(api, loaded):
    resp = api.get(f"{URL}/catalog/versions")
    assert resp.status_code == 200
    by_code = {v["code"]: v for v in resp.json()}
    assert set(by_code) == {"cjt214-2007", "gbt47678.5-2026", "local-demo", "local-demo-2026"}
    assert (by_code["local-demo-2026"]["base"], by_code["local-demo"]["base"], by_code["cjt214-2007"]["base"]) == (
        "gbt47678.5-2026", "cjt214-2007", None)
    assert {c for c, v in by_code.items() if v["is_current"]} == {"gbt47678.5-2026", "local-demo-2026"}
    assert (by_code["cjt214-2007"]["component_count"], by_code["cjt214-2007"]["event_count"]) == (85, 0)
    assert (by_code["gbt47678.5-2026"]["component_count"], by_code["gbt47678.5-2026"]["event_count"]) == (153, 250)
    assert by_code["gbt47678.5-2026"]["effective_date"] == "2026-07-01"
    assert by_code["local-demo"]["event_count"] == 54


def test_classes_filter_and_page(api, loaded):
    resp = api.get(f"{URL}/catalog/classes", {"version": "cjt214-2007", "kind": "component", "major": "01", "limit": 10, "offset": 30})
    body = resp.json()
    assert resp.status_code == 200
    assert (body["count"], len(body["items"]), body["offset"]) == (38, 8, 30)
    assert body["items"][0]["code"] == "0131"
    body = api.get(f"{URL}/catalog/classes", {"version": "local-demo", "q": "垃圾"}).json()
    assert body["count"] >= 2 and all("垃圾" in c["name"] for c in body["items"])
    body = api.get(f"{URL}/catalog/classes", {"version": "gbt47678.5-2026", "q": "0100", "kind": "event"}).json()
    assert body["items"][0] == {**body["items"][0], "code": "01001", "component_code": "01001", "kind": "event"}
    assert api.get(f"{URL}/catalog/classes", {"limit": 0}).status_code == 422
    assert api.get(f"{URL}/catalog/classes", {"kind": "thing"}).status_code == 422


def test_class_detail(api, loaded):
    body = api.get(f"{URL}/catalog/classes/cjt214-2007/0101").json()
    assert (body["name"], body["kind"]) == ("上水井盖", "component")
    assert body["counterparts"] == [{"version": "gbt47678.5-2026", "kind": "component", "code": "01001", "name": "供水井盖",
                                     "relation": "renamed", "verified": True}]
    resp = api.get(f"{URL}/catalog/classes/gbt47678.5-2026/01001")
    assert resp.status_code == 400 and "kind" in resp.json()["detail"]
    body = api.get(f"{URL}/catalog/classes/gbt47678.5-2026/01001", {"kind": "event"}).json()
    assert (body["name"], body["component_code"]) == ("供水井盖异常", "01001")
    assert api.get(f"{URL}/catalog/classes/cjt214-2007/9999").status_code == 404


@pytest.fixture
def garbage_rule(loaded, geo, units):
    cls = CatalogClass.objects.get(version__code="local-demo", code="0102")
    return ResponsibilityRule.objects.create(catalog_class=cls, unit=units.law, region=geo.hubin, time_limit_value=Decimal("4"),
                                             urgency="urgent", closing_standard="清理干净")


def resolve(api, point, code="0102", **extra):
    return api.get(f"{URL}/responsibility/resolve", {"version": "local-demo", "code": code, "lon": point[0], "lat": point[1], **extra})


def test_resolve_rule(api, geo, garbage_rule):
    resp = resolve(api, geo.p_yuewang)
    assert resp.status_code == 200
    body = resp.json()
    assert body["unit"] == {"id": garbage_rule.unit_id, "code": "U-LAW", "name": "上城区执法中队"}
    assert body["time_limit"] == {"value": 4.0, "unit": "working_hours", "label": "4 工作时"}
    assert (body["urgency"], body["rule_id"], body["fallback"], body["closing_standard"]) == ("urgent", garbage_rule.pk, False, "清理干净")
    assert body["unit_grid_code"] == "330102001002001"


def test_resolve_fallback(api, geo, garbage_rule):
    body = resolve(api, geo.p_qingbo).json()    # outside 湖滨街道's rule → 属地兜底 by the district
    assert (body["fallback"], body["rule_id"], body["time_limit"], body["unit"]["code"]) == (True, None, None, "U-SC")
    assert body["explanation"].startswith("按属地兜底")


def test_resolve_errors(api, geo, garbage_rule):
    resp = resolve(api, geo.p_outside)
    assert resp.status_code == 422
    assert resp.json()["code"] == "outside_managed_area" and "不在管理范围内" in resp.json()["detail"]
    resp = api.get(f"{URL}/responsibility/resolve", {"version": "local-demo", "code": "0102", "lon": "east", "lat": 30.25})
    assert resp.status_code == 422
    assert [e["loc"] for e in resp.json()["detail"]] == [["query", "lon"]]
    resp = resolve(api, (200, 30.25))
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["query", "lon"]
    resp = api.get(f"{URL}/responsibility/resolve", {"version": "local-demo", "code": "0102", "lon": 120.16})
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["query", "lat"]
    assert resolve(api, geo.p_yuewang, code="9999").status_code == 404


def test_resolve_without_territorial_unit(api, loaded, geo):
    resp = resolve(api, geo.p_dongpo)
    assert resp.status_code == 422 and resp.json()["code"] == "no_responsible_unit"


def test_openapi_documents_responses(api, db):
    spec = api.get(f"{URL}/openapi.json").json()
    op = spec["paths"][f"{URL}/responsibility/resolve"]["get"]
    assert set(op["responses"]) >= {"200", "404", "422"}
    assert {p["name"] for p in op["parameters"]} >= {"version", "code", "lon", "lat", "filing_condition", "kind"}
    assert "ResolveOut" in spec["components"]["schemas"]
    assert f"{URL}/catalog/classes/{{version}}/{{code}}" in spec["paths"]
