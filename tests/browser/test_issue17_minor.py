"""Issue 17's minor findings, each as a user met it in Chromium at 1366×768 and 360×740, in both languages."""
import re
import urllib.request

import pytest
from playwright.sync_api import expect

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WG01 = {"latitude": 31.8785, "longitude": 117.2352}
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def open_page(browser):
    """open_page(viewport, locale=..., phone=...): a fresh page in its own context (closed at the end)."""
    contexts = []

    def make(viewport, locale="zh-CN", phone=False):
        extra = dict(is_mobile=True, has_touch=True, geolocation=WG01, permissions=["geolocation"]) if phone else {}
        ctx = browser.new_context(bypass_csp=True, locale=locale, viewport=viewport, **extra)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


def as_english(page, base_url):
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": base_url}])


def no_horizontal_overflow(page):
    # A mobile viewport widens innerWidth to fit content that overflows: compare with the device width too.
    scroll, inner = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    return scroll, min(inner, page.viewport_size["width"])


def unlabelled_controls(page, scope="main"):
    """Visible input/select/textarea without an accessible name (the browser's own computation)."""
    missing = []
    controls = page.locator(f"{scope} input:not([type=hidden]), {scope} select, {scope} textarea")
    for i in range(controls.count()):
        c = controls.nth(i)
        if c.get_attribute("type") == "file":
            continue  # inside its visible <label> button; checked below by name
        if not c.is_visible():
            continue  # e.g. the component identifier until a component class is chosen: no name to compute yet
        try:
            expect(c).to_have_accessible_name(re.compile(r"\S"), timeout=500)
        except AssertionError:
            missing.append(c.evaluate("e => e.outerHTML.slice(0, 120)"))
    return missing


def test_grid_leader_finds_their_grids_first_and_marked(live_server, open_page, demo):
    from urbangrid.org.models import RoleAssignment

    page = open_page(DESKTOP)
    login = demo["grid_leader"]
    log_in(page, live_server.url, login["username"], login["password"])
    mine = set(RoleAssignment.objects.filter(person__user__username=login["username"], grid__isnull=False)
               .values_list("grid__code", flat=True))
    assert mine
    page.goto(f"{live_server.url}/grids/")
    rows = page.locator("tbody tr")
    first = [rows.nth(i).locator("td").first.inner_text() for i in range(len(mine))]
    assert set(first) == mine
    assert page.locator("tr[data-mine] .mine-tag").count() == len(mine)
    expect(page.locator("tr[data-mine] .mine-tag").first).to_have_text("我的网格")
    page.click("#only-mine")
    expect(page.locator("tbody tr")).to_have_count(len(mine))


def test_task_list_status_follows_the_network(live_server, open_page, demo):
    page = open_page(PHONE, phone=True)
    login = demo["inspector"]
    log_in(page, live_server.url, login["username"], login["password"])
    page.goto(f"{live_server.url}/m/")
    page.wait_for_selector("#task-list[data-loaded]", state="attached")
    page.context.set_offline(True)
    expect(page.locator("#net-state")).to_have_text("离线")
    expect(page.locator("#tasks-state")).to_contain_text("离线")
    page.context.set_offline(False)
    expect(page.locator("#net-state")).to_have_text("在线")
    expect(page.locator("#tasks-state")).not_to_contain_text("离线")


def record_deductions(username, n=3):
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ug_testing import jpeg
    from urbangrid.assessment.deductions import rules as svc
    from urbangrid.org.scope import actor_for

    from .test_case_loop_ui import INSIDE_WG01

    svc.link_default_classes()
    assessor = actor_for(get_user_model().objects.get(username=username))
    for _ in range(n):
        svc.record(assessor, item="RZ01", lon=INSIDE_WG01[0], lat=INSIDE_WG01[1], target_type="grid", target="WG01",
                   photos=[SimpleUploadedFile("p.jpg", jpeg().read(), "image/jpeg")])


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_phone_width_pages_do_not_scroll_sideways(live_server, open_page, demo, lang):
    page = open_page(PHONE, phone=True)
    if lang == "en":
        as_english(page, live_server.url)
    page.goto(f"{live_server.url}/accounts/login/")
    # The login form is a phone form: device-width viewport, full-width fields with a 16 px font (no zoom).
    assert "width=device-width" in page.get_attribute("meta[name=viewport]", "content")
    box = page.locator("#id_username").bounding_box()
    assert box["width"] >= 280 and box["height"] >= 40, box
    assert float(page.eval_on_selector("#id_username", "e => parseFloat(getComputedStyle(e).fontSize)")) >= 16
    assert page.locator("button[type=submit]").bounding_box()["height"] >= 40
    scroll, inner = no_horizontal_overflow(page)
    assert scroll <= inner, ("login", scroll, inner)
    login = demo["assessor"]
    record_deductions(login["username"])
    log_in(page, live_server.url, login["username"], login["password"])
    for path in ("/assessment/deductions/", "/assessment/deductions/new/"):
        page.goto(f"{live_server.url}{path}")
        scroll, inner = no_horizontal_overflow(page)
        assert scroll <= inner, (path, scroll, inner)
    assert page.goto(f"{live_server.url}/assessment/deductions/") and page.locator(".d-table tbody tr[data-id]").count() == 3


def test_evaluation_grade_column_is_on_screen_at_1366(live_server, open_page, demo):
    page = open_page(DESKTOP)
    login = demo["leader"]
    log_in(page, live_server.url, login["username"], login["password"])
    page.goto(f"{live_server.url}/assessment/")
    tables = page.locator("table.eval-table")
    assert tables.count() >= 1
    for i in range(tables.count()):
        last = tables.nth(i).locator("thead th").last
        box = last.bounding_box()
        if box is None:
            continue  # a table in a closed section
        assert box["x"] + box["width"] <= DESKTOP["width"], (i, box)
    scroll, inner = no_horizontal_overflow(page)
    assert scroll <= inner
    # One name for the role: 巡查员 (the glossary's term), never 监督员.
    assert "监督员" not in page.content()


def test_form_controls_have_labels_and_phone_pages_an_h1(live_server, open_page, demo):
    page = open_page(PHONE, phone=True)
    inspector = demo["inspector"]
    log_in(page, live_server.url, inspector["username"], inspector["password"])
    for path in ("/m/", "/m/report/"):
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("h1")).to_have_count(1)
        expect(page.locator("h1")).not_to_be_empty()
        assert unlabelled_controls(page) == [], path
    expect(page.locator("#photos")).to_have_accessible_name(re.compile("拍照"))
    page.context.clear_cookies()
    assessor = demo["assessor"]
    log_in(page, live_server.url, assessor["username"], assessor["password"])
    page.goto(f"{live_server.url}/assessment/deductions/new/")
    page.wait_for_selector("#target-type option", state="attached")
    expect(page.locator("h1")).to_have_count(1)
    assert unlabelled_controls(page) == []


def test_favicon_everywhere(live_server, open_page, demo):
    page = open_page(DESKTOP)
    for path in ("/accounts/login/", "/track/"):
        page.goto(f"{live_server.url}{path}")
        href = page.get_attribute("link[rel=icon]", "href")
        assert href and href.endswith(".ico"), path
    with urllib.request.urlopen(f"{live_server.url}/favicon.ico") as resp:  # follows the redirect
        assert resp.status == 200 and resp.read(4) == b"\x00\x00\x01\x00"  # an ICO file
    login = demo["inspector"]
    log_in(page, live_server.url, login["username"], login["password"])
    page.goto(f"{live_server.url}/m/")
    assert page.locator("link[rel=icon][href$='.ico']").count() == 1


def test_english_pages_use_ascii_punctuation_and_languages_name_themselves(live_server, open_page, demo):
    page = open_page(DESKTOP)
    login = demo["leader"]
    log_in(page, live_server.url, login["username"], login["password"])
    page.goto(f"{live_server.url}/?choose=1")
    # Each language named in itself in the menu, on a Chinese page too.
    assert page.locator("select[name=language] option").all_inner_texts() == ["简体中文", "English"]
    assert "，" in page.locator("h1").inner_text()
    as_english(page, live_server.url)
    page.goto(f"{live_server.url}/?choose=1")
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator("select[name=language] option").all_inner_texts() == ["简体中文", "English"]
    h1 = page.locator("h1").inner_text()
    assert h1.startswith("Welcome, "), h1
    roles = page.locator("main .card p").first.inner_text()
    assert "：" not in roles and "、" not in roles, roles


def test_case_page_names_a_catalogue_version_only_when_not_current(live_server, open_page, demo):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ug_testing import jpeg
    from urbangrid.cases import services
    from urbangrid.catalog.models import CatalogClass

    from .test_case_loop_ui import INSIDE_WG01, actor

    cls = CatalogClass.objects.select_related("version").get(version__code="local-demo", code="0102")
    case, _ = services.report(actor("intake_operator"), catalog_class=cls, lon=INSIDE_WG01[0], lat=INSIDE_WG01[1],
                              description="路边垃圾", source="hotline_12345",
                              photos=[SimpleUploadedFile("p.jpg", jpeg().read(), "image/jpeg")])
    case.catalog_class = cls
    page = open_page(DESKTOP)
    login = demo["leader"]
    log_in(page, live_server.url, login["username"], login["password"])
    page.goto(f"{live_server.url}/cases/{case.number}/")
    text = page.locator("main").inner_text()
    version = case.catalog_class.version
    assert f"（{version.code}）" not in text and "local-demo" not in text
    if not version.is_current:
        assert version.name in text


def test_anonymous_visitor_gets_the_browser_language_unless_a_cookie_says_otherwise(live_server, open_page, demo):
    page = open_page(DESKTOP, locale="en-US")
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.get_attribute("html", "lang") == "en"
    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_server.url}])
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.get_attribute("html", "lang") == "zh-hans"
    # Signed in, staff screens stay Chinese whatever the browser says (their own choice aside).
    page.context.clear_cookies()
    login = demo["dispatcher"]
    log_in(page, live_server.url, login["username"], login["password"])
    page.goto(f"{live_server.url}/grids/")
    assert page.get_attribute("html", "lang") == "zh-hans"


def test_leaflet_attribution_has_a_plain_leaflet_link(live_server, open_page, demo):
    page = open_page(DESKTOP)
    login = demo["leader"]
    log_in(page, live_server.url, login["username"], login["password"])
    page.goto(f"{live_server.url}/map/")
    attribution = page.locator(".leaflet-control-attribution")
    expect(attribution).to_be_attached()
    expect(attribution.locator("a", has_text="Leaflet")).to_have_count(1)
    assert attribution.locator("svg").count() == 0  # Leaflet 1.9's flag
