"""Components (管理部件) as assets on the demo city: the API (list with filters, one asset with its cases, the map by
bounding box), the component page, the case page's link to it and the report links that fill in a new report."""
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from urbangrid.cases import services
from urbangrid.catalog.components import MAX_BBOX_DEG
from urbangrid.catalog.models import Component
from urbangrid.org.scope import actor_for

from ug_testing import assert_matches_openapi, login_client, suite_vendor

pytestmark = pytest.mark.django_db


def client_for(username):
    return login_client(Client(), username)


def in_wg01():
    """A current-class component inside WG01 (the demo inspector's grid)."""
    c = (Component.objects.filter(unit_grid__responsibility_grid__code="WG01", catalog_class__version__is_current=True)
         .select_related("catalog_class__version", "unit_grid").order_by("identifier").first())
    assert c is not None
    return c


def report_on(component, username="intake_operator", **extra):
    """A case naming ``component`` through the service (the hotline source the centre may use)."""
    actor = actor_for(get_user_model().objects.get(username=username))
    case, _ = services.report(actor, catalog_class=component.catalog_class, lon=component.lon, lat=component.lat,
                              description="井盖松动", source="hotline_12345", require_photos=False,
                              component_identifier=component.identifier, **extra)
    return case


def test_reads_need_a_login_and_reference_view(demo_city):
    anonymous = Client()
    ident = in_wg01().identifier
    for url in ("/api/v1/components", f"/api/v1/components/{ident}", "/api/v1/components/map?bbox=117.23,31.87,117.24,31.88"):
        assert anonymous.get(url).status_code == 401, url
    nobody = get_user_model().objects.create_user("no_roles", password="x-long-password-1")
    c = Client()
    c.force_login(nobody)
    r = c.get("/api/v1/components")
    assert r.status_code == 403 and "reference.view" in r.json()["detail"]
    assert c.get(f"/components/{ident}/").status_code == 403
    assert Client().get(f"/components/{ident}/").status_code == 302  # to the login page


def test_list_filters_and_paging(demo_city, openapi_doc):
    c = client_for("dispatcher")
    body = c.get("/api/v1/components?limit=5").json()
    assert_matches_openapi(openapi_doc, "/api/v1/components", "get", 200, body)
    assert body["count"] == Component.objects.count() > 3000 and len(body["items"]) == 5
    assert [i["identifier"] for i in body["items"]] == sorted(i["identifier"] for i in body["items"])
    nxt = c.get("/api/v1/components?limit=5&offset=5").json()
    assert nxt["items"][0]["identifier"] > body["items"][-1]["identifier"]

    comp = in_wg01()
    cls = comp.catalog_class
    by_class = c.get(f"/api/v1/components?version={cls.version.code}&class_code={cls.code}&limit=500").json()
    assert by_class["count"] == Component.objects.filter(catalog_class=cls).count()
    assert {i["class_code"] for i in by_class["items"]} == {cls.code}

    damaged = c.get("/api/v1/components?state=damaged&limit=500").json()
    assert damaged["count"] == Component.objects.filter(state="damaged").count() > 0
    assert {i["state"] for i in damaged["items"]} == {"damaged"}
    assert c.get("/api/v1/components?state=broken").status_code == 422

    wg01 = c.get("/api/v1/components?grid=WG01&limit=500").json()
    assert wg01["count"] == Component.objects.filter(unit_grid__responsibility_grid__code="WG01").count() > 0
    assert {i["responsibility_grid_code"] for i in wg01["items"]} == {"WG01"}
    assert comp.identifier in {i["identifier"] for i in wg01["items"]}

    district = comp.unit_grid.code[:6]
    in_district = c.get(f"/api/v1/components?region={district}&limit=1").json()
    assert in_district["count"] == Component.objects.filter(unit_grid__code__startswith=district).count() > wg01["count"]
    community = comp.unit_grid.community.code
    assert c.get(f"/api/v1/components?region={community}").json()["count"] == \
        Component.objects.filter(unit_grid__community__code=community).count()
    unknown = c.get("/api/v1/components?region=999999")
    assert unknown.status_code == 422 and "999999" in unknown.json()["detail"]
    assert c.get("/api/v1/components?grid=NOPE").status_code == 422

    found = c.get(f"/api/v1/components?q={comp.identifier[-8:]}").json()
    assert comp.identifier in [i["identifier"] for i in found["items"]]
    assert all(comp.identifier[-8:] in i["identifier"] for i in found["items"])
    assert c.get("/api/v1/components?limit=0").status_code == 422


def test_detail_with_its_cases_in_the_viewers_scope(demo_city, openapi_doc):
    comp = in_wg01()
    case = report_on(comp)
    c = client_for("intake_operator")
    r = c.get(f"/api/v1/components/{comp.identifier}")
    assert r.status_code == 200
    body = r.json()
    assert_matches_openapi(openapi_doc, "/api/v1/components/{identifier}", "get", 200, body)
    assert body["identifier"] == comp.identifier and body["class_code"] == comp.catalog_class.code
    assert body["unit_grid_code"] == comp.unit_grid.code and body["responsibility_grid_code"] == "WG01"
    assert body["competent_unit"]["code"] == comp.competent_unit.code
    assert body["case_count"] == 1 and [k["number"] for k in body["cases"]] == [case.number]
    # A unit's handler sees no case that never reached his unit: the history follows the case scope.
    handler = client_for("unit_handler").get(f"/api/v1/components/{comp.identifier}").json()
    assert handler["case_count"] == 0 and handler["cases"] == []
    missing = c.get("/api/v1/components/3499020101999999")
    assert missing.status_code == 404 and "3499020101999999" in missing.json()["detail"]


def test_map_by_bbox(demo_city, openapi_doc):
    comp = in_wg01()
    c = client_for("leader")
    d = 0.002
    r = c.get(f"/api/v1/components/map?bbox={comp.lon - d},{comp.lat - d},{comp.lon + d},{comp.lat + d}")
    assert r.status_code == 200
    body = r.json()
    assert_matches_openapi(openapi_doc, "/api/v1/components/map", "get", 200, body)
    assert body["type"] == "FeatureCollection" and not body["truncated"]
    ids = {f["id"] for f in body["features"]}
    assert comp.identifier in ids and body["total"] == len(ids)
    expected = Component.objects.filter(lon__gte=comp.lon - d, lon__lte=comp.lon + d, lat__gte=comp.lat - d,
                                        lat__lte=comp.lat + d).count()
    assert body["total"] == expected
    one = next(f for f in body["features"] if f["id"] == comp.identifier)
    assert one["geometry"] == {"type": "Point", "coordinates": [comp.lon, comp.lat]}
    assert one["properties"]["state"] == comp.state and one["properties"]["class_code"] == comp.catalog_class.code

    # bounded: a box with more components than the limit says so and counts them all
    big = 0.04
    box = f"{comp.lon - big},{comp.lat - big},{comp.lon + big},{comp.lat + big}"
    capped = c.get(f"/api/v1/components/map?bbox={box}&limit=3").json()
    assert len(capped["features"]) == 3 and capped["truncated"] and capped["total"] > 3

    for bad, word in (("1,2,3", "4"), ("a,b,c,d", "4"), ("117.3,31.8,117.2,31.9", "最小值"),
                      (f"117.2,31.8,{117.2 + MAX_BBOX_DEG + 0.01},31.81", "过大"), ("117.2,31.8,117.21,nan", "-180"),
                      ("117.2,31.8,117.21,95", "-90"), ("", "4")):
        r = c.get(f"/api/v1/components/map?bbox={bad}")
        assert r.status_code == 400, (bad, r.content)
        assert word in r.json()["detail"], (bad, r.json())
        assert_matches_openapi(openapi_doc, "/api/v1/components/map", "get", 400, r.json())
    assert c.get("/api/v1/components/map").status_code == 422  # bbox is required
    assert c.get(f"/api/v1/components/map?bbox={box}&limit=6000").status_code == 422


def test_component_page_and_case_page_link(demo_city):
    comp = in_wg01()
    case = report_on(comp)
    c = client_for("dispatcher")
    page = c.get(f"/components/{comp.identifier}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'<span id="component-identifier">{comp.identifier}</span>' in html
    assert comp.catalog_class.name in html and comp.get_state_display() in html and comp.competent_unit.name in html
    assert comp.unit_grid.code in html and 'href="/grids/WG01/"' in html
    assert f'href="/cases/{case.number}/"' in html and 'data-count="1"' in html
    assert 'id="component-map"' in html and "components_layer.js" in html
    assert "report-links" not in html  # a dispatcher neither patrols nor takes calls

    casepage = c.get(f"/cases/{case.number}/").content.decode()
    assert f'<a href="/components/{comp.identifier}/" id="component-link">{comp.identifier}</a>' in casepage

    assert c.get("/components/3499020101999999/").status_code == 404


def test_report_links_fill_in_class_identifier_and_point(demo_city):
    comp = in_wg01()
    cls = comp.catalog_class
    inspector = client_for("inspector").get(f"/components/{comp.identifier}/").content.decode()
    assert 'data-report="mobile"' in inspector and 'data-report="hotline"' not in inspector
    assert (f"/m/report/?version={cls.version.code}&amp;code={cls.code}&amp;kind=component&amp;"
            f"component_identifier={comp.identifier}&amp;lon={comp.lon:.7f}&amp;lat={comp.lat:.7f}") in inspector

    c = client_for("intake_operator")
    page = c.get(f"/components/{comp.identifier}/").content.decode()
    assert 'data-report="hotline"' in page and 'data-report="mobile"' not in page
    url = f"/centre/hotline/?catalog_class={cls.pk}&component_identifier={comp.identifier}&lon={comp.lon:.7f}&lat={comp.lat:.7f}"
    assert url.replace("&", "&amp;") in page
    form = c.get(url).content.decode()
    assert f'value="{comp.identifier}"' in form and f'<option value="{cls.pk}" selected>' in form
    assert f'value="{comp.lon:.7f}"' in form or f'value="{comp.lon}"' in form
    # the prefilled form goes through as it is (with the call's words)
    r = c.post("/centre/hotline/", {"hotline": "12345", "catalog_class": cls.pk, "component_identifier": comp.identifier,
                                    "lon": comp.lon, "lat": comp.lat, "description": "井盖响"})
    assert r.status_code == 302, r.content.decode()[:3000]
    from urbangrid.cases.models import Case

    assert Case.objects.filter(component_identifier=comp.identifier, description="井盖响").count() == 1


@pytest.mark.parametrize("url", ["/api/v1/components?q=%00", "/api/v1/components?version=a%00", "/api/v1/components?region=%00",
                                 "/api/v1/components?grid=%00", "/api/v1/components/%00",
                                 "/api/v1/components/map?bbox=117.2,31.8,117.21,31.81&class_code=%00"])
def test_nul_in_a_filter_is_never_a_server_error(demo_city, url):
    """PostgreSQL refuses NUL in text (the API's 422 for such input); SQLite simply finds nothing."""
    r = client_for("dispatcher").get(url)
    assert r.status_code < 500, (url, r.status_code)
    if suite_vendor() == "postgresql" or url.endswith("/%00"):
        assert 400 <= r.status_code < 500, (url, r.status_code)
