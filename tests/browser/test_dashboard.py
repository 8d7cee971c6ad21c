"""The leaders' dashboard in a real browser: KPI tiles, map with clustered lights and heatmap, ECharts charts,
in Chinese and in English, and at phone width."""
import pytest

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(demo_history):
    return demo_history


def _wait_ready(page):
    page.wait_for_selector("#dashboard[data-ready='1']", timeout=30_000)
    assert page.locator("#chart-trend canvas").count() >= 1
    assert page.locator("#chart-classes canvas").count() >= 1
    assert page.locator("#chart-rank canvas").count() >= 1
    assert int(page.get_attribute("#dash-map", "data-grids")) == 53
    # Open cases drawn: single circle markers or cluster icons.
    page.wait_for_function("document.querySelectorAll('#dash-map .marker-cluster, #dash-map path.ug-case').length > 0")


def test_dashboard_in_chinese_and_english(live_server, page, demo):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login = demo["leader"]
    log_in(page, live_server.url, login["username"], login["password"])
    page.goto(f"{live_server.url}/dashboard/?period=year")
    _wait_ready(page)
    assert "领导驾驶舱" in page.inner_text("h1")
    assert int(page.get_attribute("#dash-map", "data-markers")) > 0
    received = page.inner_text("[data-kpi=received] .kpi-value")
    assert int(received) > 0
    assert page.get_attribute("[data-kpi=closed]", "href").startswith("/cases/?")
    # The heatmap toggles on (a canvas layer in the overlay pane) and off.
    page.check("#heat-toggle")
    page.wait_for_selector("#dash-map canvas.leaflet-heatmap-layer")
    screenshot(page, "dashboard-zh")
    page.uncheck("#heat-toggle")
    assert page.locator("#dash-map canvas.leaflet-heatmap-layer").count() == 0
    # Rankings switch measure without reloading.
    page.select_option("#rank-measure", "ontime_rate")
    page.select_option("#rank-dim", "unit")

    page.select_option("select[name=language]", "en")
    page.wait_for_load_state("load")
    page.wait_for_selector("html[lang=en]")
    _wait_ready(page)
    screenshot(page, "dashboard-en")
    assert errors == []


def test_dashboard_at_phone_width(live_server, browser, demo):
    context = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        login = demo["leader"]
        log_in(page, live_server.url, login["username"], login["password"])
        page.goto(f"{live_server.url}/dashboard/?period=30d")
        page.wait_for_selector("#dashboard[data-ready='1']", timeout=30_000)
        # Nothing wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert page.locator("#chart-trend canvas").count() >= 1
        screenshot(page, "dashboard-zh-360")
    finally:
        context.close()
