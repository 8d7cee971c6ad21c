"""Grids and organisation API: auth (session + CSRF, bearer token), scope, errors, OpenAPI conformity."""
import pytest

from ug_testing import assert_matches_openapi, login_client

pytestmark = pytest.mark.django_db


def test_anonymous_is_refused(demo_city, client):
    for url in ("/api/v1/grids", "/api/v1/locate?lon=117.235&lat=31.875", "/api/v1/persons", "/api/v1/regions"):
        assert client.get(url).status_code == 401, url


def test_grids_geojson_and_card(demo_city, client, openapi_doc):
    login_client(client, "grid_leader")
    resp = client.get("/api/v1/grids?limit=100")
    assert resp.status_code == 200
    body = resp.json()
    assert_matches_openapi(openapi_doc, "/api/v1/grids", "get", 200, body)
    assert body["total"] == 53 and len(body["features"]) == 53
    assert body["features"][0]["geometry"]["type"] == "Polygon"
    one = client.get("/api/v1/grids/WG01").json()
    assert_matches_openapi(openapi_doc, "/api/v1/grids/{code}", "get", 200, one)
    roles = {p["role"] for p in one["properties"]["card"]["people"] if p["people"]}
    assert {"grid_leader", "inspector", "assessor", "grid_officer"} <= roles
    assert client.get("/api/v1/grids/NOPE").status_code == 404
    bad = client.get("/api/v1/grids?bbox=1,2,3")
    assert bad.status_code == 422 and "bbox" in bad.json()["detail"]


def test_unit_grids_bbox_filter(demo_city, client, openapi_doc):
    login_client(client, "inspector")
    body = client.get("/api/v1/unit-grids?bbox=117.2300,31.8790,117.2320,31.8800&limit=50").json()
    assert_matches_openapi(openapi_doc, "/api/v1/unit-grids", "get", 200, body)
    assert 1 <= body["total"] <= 8
    assert all(f["properties"]["code"].startswith("349902") for f in body["features"])
    everything = client.get("/api/v1/unit-grids?limit=1").json()
    assert everything["total"] == 1590


def test_locate_inside_outside_and_bad_input(demo_city, client, openapi_doc):
    login_client(client, "inspector")
    ok = client.get("/api/v1/locate?lon=117.2352&lat=31.8785")
    assert ok.status_code == 200
    body = ok.json()
    assert_matches_openapi(openapi_doc, "/api/v1/locate", "get", 200, body)
    assert body["responsibility_grid_code"] == "WG01" and body["district_code"] == "349902"
    assert body["unit_grid_code"].startswith(body["community_code"]) and body["community_code"].startswith(body["street_code"])
    assert body["road_segment_code"] is not None and body["road_distance_m"] >= 0
    outside = client.get("/api/v1/locate?lon=116.0&lat=31.0")
    assert outside.status_code == 422 and outside.json()["code"] == "outside_managed_area"
    assert_matches_openapi(openapi_doc, "/api/v1/locate", "get", 422, outside.json())
    assert client.get("/api/v1/locate?lon=abc&lat=31").status_code == 422
    assert client.get("/api/v1/locate?lon=200&lat=31").json()["code"] == "invalid_coordinates"


def test_regions_units_party_organisations(demo_city, client, openapi_doc):
    login_client(client, "dispatcher")
    regions = client.get("/api/v1/regions?level=district").json()
    assert_matches_openapi(openapi_doc, "/api/v1/regions", "get", 200, regions)
    assert [r["code"] for r in regions] == ["349902", "349903", "349904"]
    units = client.get("/api/v1/units?command_level=district").json()
    assert_matches_openapi(openapi_doc, "/api/v1/units", "get", 200, units)
    assert units and all(u["command_level"] == "district" for u in units)
    orgs = client.get("/api/v1/party-organizations").json()
    assert_matches_openapi(openapi_doc, "/api/v1/party-organizations", "get", 200, orgs)
    levels = [o["level"] for o in orgs]
    assert (levels.count("general_branch"), levels.count("branch"), levels.count("group")) == (5, 23, 55)
    assert all(o["road_segments"] for o in orgs if o["level"] == "branch")


def test_person_phones_follow_scope(demo_city, client, openapi_doc):
    # The grid leader sees phones of the people in the grids he leads, not of people elsewhere
    # (the whole matrix: tests/org/test_privacy_matrix.py).
    login_client(client, "grid_leader")
    mine = client.get("/api/v1/persons?grid=WG01").json()
    assert_matches_openapi(openapi_doc, "/api/v1/persons", "get", 200, mine)
    assert mine["total"] > 5 and all(p["phone"] for p in mine["items"])
    from urbangrid.org.models import RoleAssignment

    led = set(RoleAssignment.objects.filter(person__user__username="grid_leader", role="grid_leader").values_list("grid__code", flat=True))
    assert "WG01" in led and "WG40" not in led
    far = client.get("/api/v1/persons?grid=WG40").json()
    assert far["total"] > 5 and all(p["phone"] is None for p in far["items"] if not any(r["grid_code"] in led for r in p["roles"]))
    # The assessor of WG01/WG02 (a residents' representative) sees no staff phone, even in his grids.
    client.logout()
    login_client(client, "assessor")
    from django.contrib.auth import get_user_model

    me = get_user_model().objects.get(username="assessor").person.employee_no
    seen = {p["employee_no"]: p["phone"] for p in client.get("/api/v1/persons?grid=WG01").json()["items"]}
    assert seen[me] and all(phone is None for no, phone in seen.items() if no != me)
    # Centre staff see every phone.
    client.logout()
    login_client(client, "dispatcher")
    assert all(p["phone"] for p in client.get("/api/v1/persons?grid=WG40").json()["items"])


def test_token_auth_and_csrf(demo_city, client):
    from django.test import Client

    logins = demo_city["logins"]
    bad = client.post("/api/v1/auth/token", {"username": "inspector", "password": "nope"}, content_type="application/json")
    assert bad.status_code == 401
    missing = client.post("/api/v1/auth/token", {"username": "inspector"}, content_type="application/json")
    assert missing.status_code == 422
    good = client.post("/api/v1/auth/token", logins["inspector"] | {}, content_type="application/json")
    assert good.status_code == 200
    token = good.json()["token"]
    fresh = Client()
    assert fresh.get("/api/v1/regions", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert fresh.get("/api/v1/regions", headers={"Authorization": "Bearer forged"}).status_code == 401
    # Session-authenticated unsafe requests need the CSRF token.
    strict = Client(enforce_csrf_checks=True)
    login_client(strict, "inspector")
    assert strict.post("/api/v1/auth/token", {"username": "x", "password": "y"}, content_type="application/json").status_code in (401, 403)


def test_person_without_roles_is_forbidden(demo_city, client):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("nobody", password="x-very-long-password")
    client.force_login(user)
    assert client.get("/api/v1/grids").status_code == 403
    assert client.get("/grids/WG01/card/").status_code == 403


def test_card_pages(demo_city, client):
    login_client(client, "grid_leader")
    page = client.get("/grids/WG01/card/")
    assert page.status_code == 200
    html = page.content.decode()
    for text in ("定范围", "定人员", "定内容", "定标准", "定责任", "定巡查", "<svg", "/report/WG01/"):
        assert text in html, text
    # 定责任: WG01 lies in 中山区, whose sanitation unit takes exposed garbage (a district rule beats the city's).
    rows = page.context["rows"]
    from urbangrid.catalog.models import CatalogClass

    # one row per class of the current catalogue (GB/T 47678.5-2026 with the demo's local extensions)
    assert len(rows) == CatalogClass.objects.filter(version__is_current=True, active=True).count() > 54 + 85
    by_name = {r["name"]: r for r in rows}
    assert by_name["暴露垃圾"]["unit"].code == "D349902-HW" and by_name["暴露垃圾"]["limit"] == "4 工作时"
    assert by_name["供水井盖"]["unit"].code == "CGJ-GS"  # 上水井盖 of CJ/T 214-2007
    assert by_name["私搭乱建"]["limit"] == "20 工作日"
    printable = client.get("/grids/WG01/card/print/").content.decode()
    from django.contrib.staticfiles import finders

    assert "size: A4" in open(finders.find("urbangrid/app.css"), encoding="utf-8").read()
    assert "公示牌" in printable and "<svg" in printable
    assert client.get("/grids/WG99/card/").status_code == 404
    client.logout()
    assert client.get("/report/WG01/").status_code == 200  # the QR target is public
    assert client.get("/grids/WG01/card/").status_code == 302  # the card needs a login
