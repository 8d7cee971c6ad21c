"""GCJ-02 tiles (AMap, Tencent): what we draw is shifted onto them, and a clicked point comes back in WGS-84."""
import pytest

from urbangrid.grids.coords import gcj02_to_wgs84, wgs84_to_gcj02

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _pair(text):
    lon, lat = (float(v) for v in text.split(","))
    return lon, lat


def _case_number(demo_logins):
    """A case reported by the demo inspector in WG01."""
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile

    from urbangrid.cases import services
    from urbangrid.catalog.models import CatalogClass
    from urbangrid.org.scope import actor_for

    from ug_testing import jpeg

    inspector = actor_for(get_user_model().objects.get(username=demo_logins["inspector"]["username"]))
    cls = CatalogClass.objects.get(version__code="local-demo", code="0401")
    case, _ = services.report(inspector, catalog_class=cls, lon=117.2352, lat=31.8785, description="路面塌陷", source="inspector",
                              photos=[SimpleUploadedFile("p.jpg", jpeg().read(), "image/jpeg")])
    return case.number, case.lon, case.lat


@pytest.mark.parametrize("crs", ["gcj02", "wgs84"])
def test_case_marker_is_shifted_on_gcj02_tiles(live_server, page, demo, settings, crs):
    settings.URBANGRID_TILE_CRS = crs  # no tile URL: the datum alone decides what is drawn where
    number, lon, lat = _case_number(demo)
    login = demo["leader"]
    log_in(page, live_server.url, login["username"], login["password"])
    page.goto(f"{live_server.url}/cases/{number}/")
    page.wait_for_selector("#case-map[data-ready='1']")
    shown = _pair(page.get_attribute("#case-map", "data-shown"))
    expected = wgs84_to_gcj02(lon, lat) if crs == "gcj02" else (lon, lat)
    assert shown == pytest.approx(expected, abs=2e-7)
    if crs == "gcj02":  # hundreds of metres, not a rounding
        assert abs(shown[0] - lon) > 0.003


@pytest.mark.parametrize("crs", ["gcj02", "wgs84"])
def test_a_click_on_the_map_is_sent_in_wgs84(live_server, page, demo, settings, crs):
    settings.URBANGRID_TILE_CRS = crs
    login = demo["grid_leader"]
    log_in(page, live_server.url, login["username"], login["password"])
    page.goto(f"{live_server.url}/map/")
    page.wait_for_selector("#map[data-loaded='53']")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#locate-result[data-grid]")
    on_map = _pair(page.get_attribute("#map", "data-clicked-on-map"))
    sent = _pair(page.get_attribute("#map", "data-clicked"))
    if crs == "gcj02":
        assert sent == pytest.approx(gcj02_to_wgs84(*on_map), abs=2e-7)
        assert abs(sent[0] - on_map[0]) > 0.003
    else:
        assert sent == on_map
    # The grid drawn under the click is the grid the WGS-84 point is in: the outlines moved with the point.
    from urbangrid.grids.locator import locator

    assert page.get_attribute("#locate-result", "data-grid") == locator.locate(*sent).responsibility_grid_code


def test_browser_and_python_conversions_agree(live_server, page, demo):
    """coords.js and grids/coords.py are twins: same answers on the published reference points, both ways."""
    points = [(121.5272106, 31.1774276), (113.912316, 22.543847), (116.377817, 39.911954), (117.2352, 31.8785)]
    page.goto(f"{live_server.url}/report/")
    page.wait_for_function("window.UGCoords !== undefined")
    for lon, lat in points:
        fwd = page.evaluate("([lon, lat]) => UGCoords.wgs84ToGcj02(lon, lat)", [lon, lat])
        assert fwd == pytest.approx(list(wgs84_to_gcj02(lon, lat)), abs=1e-12)
        back = page.evaluate("([lon, lat]) => UGCoords.gcj02ToWgs84(lon, lat)", fwd)
        assert back == pytest.approx(list(gcj02_to_wgs84(*fwd)), abs=1e-12)
        assert back == pytest.approx([lon, lat], abs=1e-8)
