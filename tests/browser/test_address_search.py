"""Address search in the browser: a citizen and the hotline desk type an address, pick a candidate of the
gazetteer, submit, and the case lands in the right grid at the candidate's point."""
import pytest

from .conftest import log_in, screenshot
from .test_mobile import phone, photo  # noqa: F401  (the phone's fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TYPED = "黄山路与金寨路交叉口"


def _city(settings, tmp_path):
    from demo_snapshot import build_demo

    settings.VAR_DIR = tmp_path
    settings.URBANGRID_PUBLIC_POSTS_PER_HOUR = 10**9
    settings.URBANGRID_PUBLIC_GEOCODES_PER_HOUR = 10**9
    _, logins, _ = build_demo(seed=5, log=lambda m: None)
    return logins


def _expected():
    from urbangrid.gazetteer.geocoder import geocoder

    best = geocoder.geocode(TYPED, limit=1)[0]
    assert best.confident and best.extras["responsibility_grid"] == "WG01"
    return best


def _pick(page, selector, shot=None):
    page.fill(selector, "")
    page.type(selector, TYPED, delay=20)
    page.wait_for_selector(".ug-candidate")
    if shot:
        screenshot(page, shot)
    first = page.locator(".ug-candidate").first
    assert TYPED[:3] in first.inner_text()
    first.click()
    page.wait_for_selector(".ug-geocode-list", state="hidden")


def test_citizen_picks_an_address(live_server, browser, settings, tmp_path):
    from urbangrid.cases.models import Case

    _city(settings, tmp_path)
    best = _expected()
    context = browser.new_context(bypass_csp=True, locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/report/")
    assert not page.query_selector("#pick-map .leaflet-marker-icon")
    _pick(page, "#id_address", "address-search-citizen-candidates")
    page.wait_for_selector("#pick-map .leaflet-marker-icon")  # the marker moved to the chosen place
    assert abs(float(page.input_value("#id_lon")) - best.lon) < 1e-6 and abs(float(page.input_value("#id_lat")) - best.lat) < 1e-6
    assert "已定位" in page.inner_text(".ug-geocode-status")
    page.get_by_label("乱停车").check()
    page.fill("#id_description", "路口乱停车挡住人行道")
    page.click("button.primary")
    page.wait_for_load_state("load")
    if not page.query_selector("#tracking-code"):
        screenshot(page, "address-search-citizen-error")
        raise AssertionError(page.inner_text("main"))
    case = Case.objects.get(tracking_code=page.inner_text("#tracking-code"))
    assert case.responsibility_grid.code == "WG01" and case.address == best.label
    assert abs(case.lon - best.lon) < 1e-6 and abs(case.lat - best.lat) < 1e-6
    context.close()


def test_hotline_desk_picks_an_address(live_server, browser, settings, tmp_path):
    from urbangrid.cases.models import Case
    from urbangrid.catalog.models import CatalogClass

    logins = _city(settings, tmp_path)
    best = _expected()
    cls = CatalogClass.objects.get(version__code="gbt47678.5-2026", kind="event", code="09009")  # 机动车乱停放
    context = browser.new_context(bypass_csp=True, locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, live_server.url, logins["intake_operator"]["username"], logins["intake_operator"]["password"])
    page.goto(f"{live_server.url}/centre/hotline/")
    page.select_option("#id_hotline", "12345")
    page.fill("#id_external_no", "BROWSER-1")
    page.select_option("#id_catalog_class", str(cls.pk))
    _pick(page, "#id_address", "address-search-hotline-candidates")
    assert abs(float(page.input_value("#id_lon")) - best.lon) < 1e-6
    page.fill("#id_description", "来电：路口乱停车")
    page.click("#hotline-form button[type=submit]")
    page.wait_for_url(lambda url: "/cases/" in url)
    case = Case.objects.get(external_ref="12345:BROWSER-1")
    assert case.responsibility_grid.code == "WG01" and case.address == best.label
    assert page.url.endswith(f"/cases/{case.number}/") and best.label in page.inner_text("main")
    screenshot(page, "address-search-hotline")
    context.close()


def test_inspector_phone_picks_an_address(live_server, phone, demo, photo, settings):
    """The mobile report page: the picked candidate moves the pin (and the grid shown); the case gets its point and words."""
    from urbangrid.cases.models import Case

    from .test_mobile import fill_report, open_report

    settings.URBANGRID_PUBLIC_GEOCODES_PER_HOUR = 10**9
    best = _expected()
    open_report(phone, live_server.url, demo["inspector"])
    _pick(phone, "#address-search")
    phone.wait_for_selector(f"#m-map[data-lon='{best.lon:.6f}'][data-lat='{best.lat:.6f}']")
    phone.wait_for_selector("#grid-result[data-grid='WG01']")
    fill_report(phone, photo, "路口井盖缺失")
    phone.click("#submit-report")
    phone.wait_for_function("document.querySelector('#report-result').dataset.number !== ''", timeout=15000)
    case = Case.objects.get(number=phone.get_attribute("#report-result", "data-number"))
    assert case.responsibility_grid.code == "WG01" and case.address == best.label
    assert abs(case.lon - best.lon) < 1e-6 and abs(case.lat - best.lat) < 1e-6
