"""The province dashboard in a real browser: the cities on the map (Leaflet) and the daily trend (ECharts), from
the vendored files, without a script error, in Chinese and in English. Here with the other browser tests, whose
session-scoped browser serves the whole run: a second Playwright started in the same run fails ("Sync API inside the
asyncio loop")."""
import pytest

from province.conftest import cities, province_user  # noqa: F401 (fixtures)

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_province_dashboard_draws_its_map_and_trend(live_server, page, cities, province_user):  # noqa: F811
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, live_server.url, "prov", "x")
    assert page.url.endswith("/province/")
    page.goto(f"{live_server.url}/province/?period=month&date=2026-03-15")
    page.wait_for_selector("#province-trend canvas")
    assert page.get_attribute("#province-map", "data-markers") == "2"
    assert page.get_attribute("#province-trend", "data-series") == "3"
    assert page.locator("#province-map path.ug-city-late").count() == 1  # 芜湖, 3 hours without a batch
    page.select_option("#trend-measure", "closed")
    page.select_option("select[name=language]", "en")
    page.wait_for_selector("html[lang=en]")
    page.wait_for_selector("#province-trend canvas")
    assert "Province dashboard" in page.inner_text("h1")
    assert errors == []
