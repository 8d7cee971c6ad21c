"""Every map draws the city's own base layer when no tiles are configured; lights by state; clusters on the
public map (issue 17, finding 8)."""
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from urbangrid.cases.models import Case

from .conftest import log_in, screenshot
from .test_case_loop_ui import handler_unit, reported_case, to_state

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Counts, from Leaflet's own layers, the base-layer features on the map and inside the current view, and
# whether its canvas holds any drawn pixel.
DRAWN = """(id) => {
  const el = document.getElementById(id), map = el.ugMap, base = el.ugBase, view = map.getBounds();
  const count = (layer, cls) => layer.getLayers().filter((l) => map.hasLayer(l) && l instanceof cls
                                                             && view.intersects(l.getBounds())).length;
  const canvas = el.querySelector('.leaflet-pane.leaflet-ugBase-pane canvas');
  let inked = 0;
  if (canvas) {
    const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < px.length; i += 4 * 97) if (px[i] > 0) inked++;
  }
  return { grids: count(base.grids, L.Polygon), roads: count(base.roads, L.Polyline) - count(base.roads, L.Polygon),
           districts: base.districts.getLayers().length, inked };
}"""


def _drawn(page, map_id):
    """What the map draws, once Leaflet has a view (a page may set it after its own data arrives)."""
    page.wait_for_function("(id) => { const el = document.getElementById(id);"
                           " return !!(el && el.ugMap && el.ugMap._loaded && el.ugBase); }", arg=map_id)
    return page.evaluate(DRAWN, map_id)


@pytest.fixture
def demo(settings, tmp_path):
    from demo_snapshot import build_demo

    settings.VAR_DIR = tmp_path
    settings.URBANGRID_TILE_URL = ""  # no tiles: the city's own base layer
    cache.clear()
    _, logins, _ = build_demo(seed=5, log=lambda m: None)
    yield logins
    cache.clear()


def test_case_page_draws_grids_and_roads_and_a_closed_case_is_grey(live_server, page, demo):
    open_case = reported_case()
    closed_case = reported_case()
    to_state(closed_case, ("accept", "intake_operator", {}, False), ("file", "shift_lead", {}, False),
             ("dispatch", "dispatcher", {"unit": handler_unit()}, False), ("feed_back", "unit_handler", {"opinion": "已修复"}, True),
             ("send_check", "intake_operator", {}, False), ("check_pass", "inspector", {"opinion": "已修复"}, True),
             ("close", "shift_lead", {}, False))
    assert Case.objects.get(number=closed_case).state == "closed"
    login = demo["intake_operator"]
    log_in(page, live_server.url, login["username"], login["password"])

    page.goto(f"{live_server.url}/cases/{open_case}/")
    page.wait_for_selector("#case-map[data-basemap='city'][data-ready='1']")
    drawn = _drawn(page, "case-map")
    assert drawn["grids"] >= 4, drawn  # unit-grid outlines around the point (about 100 m each at zoom 17)
    assert drawn["roads"] >= 1, drawn  # the road beside it
    assert drawn["districts"] >= 1 and drawn["inked"] > 0, drawn
    open_colour = page.evaluate("document.getElementById('case-map').ugMarker.options.fillColor")
    assert open_colour in ("#2e7d32", "#f9a825", "#d32f2f")  # the light it has
    screenshot(page, "case-map-basemap")

    page.goto(f"{live_server.url}/cases/{closed_case}/")
    page.wait_for_selector("#case-map[data-ready='1']")
    assert page.evaluate("document.getElementById('case-map').ugMarker.options.fillColor") == "#8a8f94"  # grey, not red
    assert page.get_attribute("#case-map", "data-state") == "closed"


def _recently_fixed(n):
    """``n`` cases reported across the city (one per every few unit grids) and marked closed in the last days.
    Only the map's input is under test here, so the rows are closed directly rather than through the loop."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from shapely.geometry import shape

    from urbangrid.cases import services
    from urbangrid.catalog.models import CatalogClass
    from urbangrid.grids.models import UnitGrid

    from ug_testing import jpeg

    from .test_case_loop_ui import actor

    cls = CatalogClass.objects.get(version__code="local-demo", code="0102")
    cells = list(UnitGrid.objects.exclude(geometry=None).order_by("code").values_list("geometry", flat=True))
    step = max(1, len(cells) // n)
    numbers = []
    for geometry in cells[::step][:n]:
        c = shape(geometry).representative_point()
        case, _ = services.report(actor("intake_operator"), catalog_class=cls, lon=c.x, lat=c.y, description="路边垃圾",
                                  source="hotline_12345", photos=[SimpleUploadedFile("p.jpg", jpeg().read(), "image/jpeg")])
        numbers.append(case.number)
    now = timezone.now()
    for i, number in enumerate(numbers):
        Case.objects.filter(number=number).update(state="closed", closed_at=now - timedelta(days=i % 20))
    return numbers


def test_public_map_clusters_at_city_zoom_over_the_base_layer(live_server, page, demo):
    fixed = _recently_fixed(60)
    assert len(fixed) == 60
    page.goto(f"{live_server.url}/public/")
    page.wait_for_selector("#fixed-map[data-ready]")
    page.wait_for_selector("#fixed-map[data-basemap='city']")
    page.wait_for_timeout(300)  # the fit's zoom animation
    drawn = _drawn(page, "fixed-map")
    assert drawn["grids"] > 50 and drawn["roads"] > 5, drawn
    clusters = page.locator("#fixed-map .marker-cluster")
    assert clusters.count() >= 1
    shown = page.evaluate("""() => {
      const el = document.getElementById('fixed-map'), map = el.ugMap, view = map.getBounds();
      let icons = 0, inside = 0;
      el.ugCluster.eachLayer((m) => { if (view.contains(m.getLatLng())) { inside++; if (el.ugCluster.getVisibleParent(m) !== m) icons++; } });
      return { zoom: map.getZoom(), inside, clustered: icons };
    }""")
    assert shown["zoom"] <= 15, shown  # the whole city in view
    assert shown["clustered"] > 0 and clusters.count() < shown["inside"], shown  # fewer symbols than points
    total = sum(int(t) for t in clusters.all_inner_texts() if t.strip().isdigit())
    assert total <= shown["inside"]
    screenshot(page, "public-map-clusters")


def test_dashboard_mobile_task_and_grid_map_draw_the_base_layer(live_server, page, demo):
    login = demo["leader"]
    log_in(page, live_server.url, login["username"], login["password"])
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_selector("#dashboard[data-ready='1']")
    page.wait_for_selector("#dash-map[data-basemap='city']")
    assert _drawn(page, "dash-map")["grids"] > 50
    page.goto(f"{live_server.url}/map/")
    page.wait_for_selector("#map[data-basemap='city']")
    assert _drawn(page, "map")["roads"] > 0
    page.goto(f"{live_server.url}/grids/WG01/")
    page.wait_for_selector("#grid-map[data-basemap='city'][data-ready]")
    drawn = _drawn(page, "grid-map")
    assert drawn["grids"] >= 30 and drawn["roads"] >= 1, drawn  # WG01's 30 unit grids and its roads
    screenshot(page, "grid-page-map")


def test_mobile_task_page_has_a_map_over_the_base_layer(live_server, browser, demo):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from urbangrid.cases import services
    from urbangrid.catalog.models import CatalogClass

    from ug_testing import jpeg

    from .test_case_loop_ui import INSIDE_WG01, actor

    cls = CatalogClass.objects.get(version__code="local-demo", code="0102")
    case, _ = services.report(actor("intake_operator"), catalog_class=cls, lon=INSIDE_WG01[0], lat=INSIDE_WG01[1],
                              description="市民来电：路边有垃圾", source="hotline_12345",
                              photos=[SimpleUploadedFile("p.jpg", jpeg().read(), "image/jpeg")])
    services.transition(actor("intake_operator"), case.number, "send_verify", {})
    context = browser.new_context(bypass_csp=True, locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    try:
        login = demo["inspector"]
        log_in(phone, live_server.url, login["username"], login["password"])
        phone.goto(f"{live_server.url}/m/tasks/{case.number}/")
        phone.wait_for_selector("#m-map[data-basemap='city']")
        drawn = _drawn(phone, "m-map")
        assert drawn["grids"] >= 4 and drawn["inked"] > 0, drawn
        assert phone.get_attribute("#m-map", "data-marker-color") != "#8a8f94"  # open: its light, not grey
        screenshot(phone, "mobile-task-map")
    finally:
        context.close()


def test_dashboard_heat_map_is_legible(live_server, page, demo):
    """With the heat layer on, report spots cover a visible share of the map at a visible strength."""
    _recently_fixed(60)  # 60 reports this month, across the city
    login = demo["leader"]
    log_in(page, live_server.url, login["username"], login["password"])
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_selector("#dashboard[data-ready='1']")
    page.check("#heat-toggle")
    page.wait_for_selector("#dash-map canvas.leaflet-heatmap-layer")
    page.wait_for_timeout(500)  # drawn on an animation frame
    share = page.evaluate("""() => {
      const c = document.querySelector('#dash-map canvas.leaflet-heatmap-layer');
      const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let strong = 0, n = 0;
      for (let i = 3; i < px.length; i += 4 * 7) { n++; if (px[i] >= 115) strong++; }
      return strong / n;
    }""")
    screenshot(page, "dashboard-heat")
    assert share > 0.05, share  # at least 5 % of the map in spots of 45 % opacity or more
