"""The inspector mobile app's pages and small views with Django's test client, on the demo city."""
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.test import Client

from urbangrid.org.models import RoleAssignment

from ug_testing import jpeg

pytestmark = pytest.mark.django_db
INSIDE_WG01 = (117.2352, 31.8785)  # WG01, patrolled by the demo inspector
INSIDE_WG40 = (117.2800, 31.8600)  # not the inspector's


def client_for(username):
    c = Client()
    c.force_login(get_user_model().objects.get(username=username))
    return c


@pytest.fixture
def inspector(demo_city):
    return client_for("inspector")


# The classes these tests report under, in the demo's current catalogue: 路面塌陷 (a local extension matter),
# 暴露垃圾, 私搭乱建 (GB/T 47678.5-2026 matters).
VERSION = {"21001": "local-demo-2026", "06010": "gbt47678.5-2026", "06001": "gbt47678.5-2026"}


def report(c, code, point=INSIDE_WG01, **extra):
    data = {"catalog_version": VERSION[code], "class_code": code, "lon": point[0], "lat": point[1],
            "description": "路面破损", "source": "inspector", "photos": [jpeg()], **extra}
    r = c.post("/api/v1/cases", data)
    assert r.status_code == 201, r.content
    return r.json()


def hotline(c, code, point):
    r = c.post("/api/v1/cases", {"catalog_version": VERSION[code], "class_code": code, "lon": point[0], "lat": point[1],
                                 "description": "市民来电", "source": "hotline_12345", "reporter_name": "市民",
                                 "reporter_contact": "13800000000"})
    assert r.status_code == 201, r.content
    return r.json()


def test_pages_render_for_the_inspector(inspector):
    home = inspector.get("/m/")
    assert home.status_code == 200
    html = home.content.decode()
    assert "上报问题" in html and 'rel="manifest"' in html and 'id="m-strings"' in html and 'id="m-config"' in html
    assert "csrftoken" in home.cookies  # the scripts post with the cookie's token
    assert 'href="/m/report/"' in html
    page = inspector.get("/m/report/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'capture="environment"' in html and 'accept="image/*"' in html and 'id="self-handled"' in html
    assert "待发送" in html  # the queue badge


def test_login_required_and_other_roles_get_a_pointer(demo_city):
    anon = Client().get("/m/")
    assert anon.status_code == 302 and anon["Location"].startswith("/accounts/login/")
    page = client_for("dispatcher").get("/m/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="not-inspector"' in html and 'href="/command/"' in html and 'id="report-button"' not in html
    assert client_for("dispatcher").get("/m/report/").content.decode().count('id="report-form"') == 0


def test_task_page_offers_verify_then_check(inspector, demo_city):
    intake = client_for("intake_operator")
    case = hotline(intake, "06010", INSIDE_WG01)
    number = case["number"]
    assert intake.post(f"/api/v1/cases/{number}/actions/send_verify").json()["state"] == "verifying"
    page = inspector.get(f"/m/tasks/{number}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-action="verify"' in html and 'data-confirmed="false"' in html and 'data-action="check_pass"' not in html
    # An inspector's own report: a photo beside none of mine, and no action for him yet.
    mine = report(inspector, "21001")
    html = inspector.get(f"/m/tasks/{mine['number']}/").content.decode()
    assert "/cases/photos/" in html and 'data-action=' not in html
    assert inspector.get("/m/tasks/209900000000/").status_code == 404


def test_manifest_is_valid_with_existing_icons(inspector):
    r = Client().get("/m/manifest.webmanifest")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/manifest+json")
    data = json.loads(r.content)
    assert data["start_url"] == "/m/" and data["display"] == "standalone" and data["name"] and data["short_name"]
    sizes = {i["sizes"] for i in data["icons"]}
    assert {"192x192", "512x512"} <= sizes
    from PIL import Image

    for icon in data["icons"]:
        assert icon["src"].startswith("/static/")
        path = finders.find(icon["src"][len("/static/"):])
        assert path, icon["src"]
        with Image.open(path) as im:
            assert f"{im.width}x{im.height}" == icon["sizes"] and im.format == "PNG"
        assert inspector.get(icon["src"]).status_code == 200


def test_service_worker_content_type_and_scope(inspector):
    r = Client().get("/m/sw.js")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/javascript")
    assert r["Service-Worker-Allowed"] == "/m/"
    body = r.content.decode()
    for url in ("/m/", "/m/report/", "/static/vendor/leaflet/leaflet.js", "/static/mobile/app.js"):
        assert f'"{url}"' in body
    assert "addEventListener(\"fetch\"" in body


def test_my_grids_are_the_inspectors_only(inspector):
    fc = inspector.get("/m/api/grids.json").json()
    codes = {f["properties"]["code"] for f in fc["features"]}
    expected = set(RoleAssignment.objects.filter(person__user__username="inspector", role="inspector")
                   .values_list("grid__code", flat=True))
    assert codes == expected and {"WG01", "WG02"} <= codes
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in fc["features"])


def test_most_used_classes_count_only_my_grids(inspector, demo_city):
    report(inspector, "21001")
    report(inspector, "21001")
    report(inspector, "06010")
    intake = client_for("intake_operator")
    # Outside the inspector's grids: many of a third class, which must not show up.
    for _ in range(3):
        hotline(intake, "06001", INSIDE_WG40)
    items = inspector.get("/m/api/top-classes.json").json()["items"]
    counts = {(i["version"], i["code"]): i["count"] for i in items}
    assert counts == {("local-demo-2026", "21001"): 2, ("gbt47678.5-2026", "06010"): 1}
    assert items[0]["code"] == "21001" and items[0]["name"] and items[0]["kind"] == "event"
    # Somebody else's grid sees its own counts.
    assert client_for("intake_operator").get("/m/api/top-classes.json").json()["items"] == []
