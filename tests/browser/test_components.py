"""Components (部件) in a real browser: the maps' component layer (loaded by bounding box once zoomed in, toggled in
the layer control), the component page's map, and the inspectors' app filled in from a component's report link."""
import pytest

from .conftest import log_in, screenshot
from .test_mobile import photo, phone  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _asset():
    from urbangrid.catalog.models import Component

    return (Component.objects.filter(unit_grid__responsibility_grid__code="WG01", catalog_class__version__is_current=True)
            .select_related("catalog_class__version").order_by("identifier").first())


def _zoom_to(page, selector, component, zoom):
    page.evaluate("([sel, lat, lon, z]) => { const m = document.querySelector(sel).ugMap; m.setView(UGCoords.toMap(lat, lon), z); }",
                  [selector, component.lat, component.lon, zoom])


def _drawn(page, selector):
    return page.evaluate("(sel) => document.querySelector(sel).ugComponents.getLayers().length", selector)


def _settled(page, selector):
    """Wait until the layer draws as many markers as the last load counted (a pan may start another load)."""
    page.wait_for_function("(sel) => { const el = document.querySelector(sel); return /^[0-9]+$/.test(el.dataset.components || '')"
                           " && el.ugComponents.getLayers().length === Number(el.dataset.components); }", arg=selector,
                           timeout=15000)


def _count(page, selector):
    page.wait_for_function("(sel) => /^[0-9]+$/.test(document.querySelector(sel).dataset.components || '')", arg=selector,
                           timeout=15000)
    return int(page.get_attribute(selector, "data-components"))


def test_city_map_layer_loads_when_zoomed_in_and_toggles(live_server, page, demo):
    comp = _asset()
    login = demo["dispatcher"]
    log_in(page, live_server.url, login["username"], login["password"])
    page.goto(f"{live_server.url}/map/")
    page.wait_for_selector("#map[data-loaded='53']")
    page.wait_for_selector("#map[data-components='zoom']")  # the whole city: nothing asked, the note says why
    assert page.locator(".ug-component-note").inner_text() == "放大地图以显示部件"
    _zoom_to(page, "#map", comp, 17)
    n = _count(page, "#map")
    _settled(page, "#map")
    assert n > 0
    screenshot(page, "component-layer-zh")
    assert page.locator(".ug-component-note").is_hidden()
    # its popup links to the component's page
    page.evaluate("(id) => { const m = document.querySelector('#map').ugMap; m.eachLayer((l) => { if (l.getPopup && l.getPopup() "
                  "&& l.getPopup().getContent().includes(id)) l.openPopup(); }); }", comp.identifier)
    link = page.locator(f".leaflet-popup a[href='/components/{comp.identifier}/']")
    assert link.count() == 1
    link.click()
    page.wait_for_url(f"**/components/{comp.identifier}/")
    page.wait_for_selector("#component-map[data-ready='1']")
    assert page.locator("#component-map .ug-this-component").count() == 1
    assert _count(page, "#component-map") >= 1  # its neighbours, itself among them
    screenshot(page, "component-page-zh")

    page.go_back()
    page.wait_for_selector("#map[data-loaded='53']")
    _zoom_to(page, "#map", comp, 17)
    _count(page, "#map")
    page.locator(".leaflet-control-layers-overlays label", has_text="部件").locator("input").uncheck()
    page.wait_for_selector("#map[data-components='off']")
    assert _drawn(page, "#map") == 0


def test_dashboard_layer_is_off_until_ticked(live_server, page, demo):
    comp = _asset()
    login = demo["leader"]
    log_in(page, live_server.url, login["username"], login["password"])
    page.goto(f"{live_server.url}/dashboard/?period=30d")
    page.wait_for_selector("#dashboard[data-ready='1']", timeout=30_000)
    _zoom_to(page, "#dash-map", comp, 17)
    page.wait_for_timeout(300)
    assert page.get_attribute("#dash-map", "data-components") == "off"
    page.hover(".leaflet-control-layers")
    page.locator(".leaflet-control-layers-overlays label", has_text="部件").locator("input").check()
    _zoom_to(page, "#dash-map", comp, 17)  # again: the dashboard's first fit to the grids may land after the first zoom
    assert _count(page, "#dash-map") > 0
    _settled(page, "#dash-map")


def test_inspector_app_filled_in_from_the_component_page(live_server, phone, demo, photo):  # noqa: F811
    from urbangrid.cases.models import Case

    comp = _asset()
    cls = comp.catalog_class
    login = demo["inspector"]
    log_in(phone, live_server.url, login["username"], login["password"])
    phone.goto(f"{live_server.url}/components/{comp.identifier}/")
    phone.click("#report-links a[data-report='mobile']")
    phone.wait_for_selector(f"#class-picked[data-code='{cls.code}']")
    assert phone.input_value("#component-identifier") == comp.identifier
    assert phone.locator("#component-block").is_visible()
    phone.wait_for_selector("#m-map[data-lat]")
    assert phone.get_attribute("#m-map", "data-lon") == f"{comp.lon:.6f}"  # the asset's point, not the GPS
    phone.set_input_files("#photos", str(photo))
    phone.wait_for_selector("#photos-preview[data-count='1']")
    phone.fill("#description", "井盖破损")
    # An identifier the inventory does not hold is refused with the server's field message.
    wrong = comp.identifier[:-6] + "999999"
    phone.fill("#component-identifier", wrong)
    phone.click("#submit-report")
    phone.wait_for_function("document.querySelector('#form-error').textContent.includes('部件库中没有')", timeout=15000)
    assert wrong in phone.inner_text("#form-error") and not Case.objects.exists()
    screenshot(phone, "component-report-refused-zh-390")
    phone.fill("#component-identifier", comp.identifier)
    phone.click("#submit-report")
    phone.wait_for_function("document.querySelector('#report-result').dataset.number !== ''", timeout=15000)
    number = phone.get_attribute("#report-result", "data-number")
    assert Case.objects.get(number=number).component_identifier == comp.identifier
