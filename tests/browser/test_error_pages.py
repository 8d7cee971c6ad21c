"""What a user sees when something goes wrong, in chromium under the site's real content security policy: a
mistyped tracking code, a page the role may not open, both languages, on a phone and a desk."""
import pytest

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _watch(page, problems):
    page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda err: problems.append(str(err)))


def _public_case():
    from urbangrid.cases import services
    from urbangrid.cases.states import Source
    from urbangrid.catalog.models import CatalogClass
    from urbangrid.grids.models import ResponsibilityGrid
    from urbangrid.public.views import _anonymous

    centre = ResponsibilityGrid.objects.get(code="WG01").shape.representative_point()
    cls = CatalogClass.objects.filter(version__is_current=True, active=True).order_by("kind", "code").first()
    case, _ = services.report(_anonymous(), catalog_class=cls, lon=centre.x, lat=centre.y, description="井盖松动",
                              source=Source.PUBLIC_WEB, require_photos=False)
    return case


def test_citizen_mistypes_the_tracking_code_and_tries_again(live_server, browser, settings, tmp_path):
    from demo_snapshot import build_demo

    settings.VAR_DIR = tmp_path
    build_demo(seed=5, log=lambda m: None)
    case = _public_case()
    problems = []
    context = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    _watch(page, problems)
    page.goto(f"{live_server.url}/track/")
    page.fill("#code", "WR0NGC0DE1")
    page.click("form button[type=submit]")
    page.wait_for_selector("#retry-track")
    assert page.evaluate("document.documentElement.lang") == "zh-hans"
    assert page.inner_text("h1") == "没有找到这个查询码"
    assert page.input_value("#retry-code") == "WR0NGC0DE1"
    # Fits the phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "error-404-track-zh-360")
    # "Back" returns to the page the citizen came from (history, through base.js: no inline script).
    page.click("#way-back")
    page.wait_for_url(f"{live_server.url}/track/")
    page.go_forward()
    page.wait_for_selector("#retry-track")
    # The retry form, with the code typed again (lower case, as people do), opens the case.
    page.fill("#retry-code", case.tracking_code.lower())
    page.click("#retry-track button")
    page.wait_for_url(f"{live_server.url}/track/{case.tracking_code}/")
    assert page.query_selector(".status") is not None
    # Another mistyped address: the designed page offers the citizens' pages.
    answer = page.goto(f"{live_server.url}/no/such/page/")
    assert answer.status == 404 and page.inner_text("h1") == "页面不存在"
    assert page.get_attribute("#way-home", "href") == "/public/"
    assert not problems, problems
    context.close()


def test_assessor_is_not_led_to_forbidden_pages_and_sees_a_designed_403(live_server, browser, settings, tmp_path):
    from django.utils import translation
    from django.utils.translation import gettext

    from demo_snapshot import build_demo

    settings.VAR_DIR = tmp_path
    _, logins, _ = build_demo(seed=5, log=lambda m: None)
    problems = []
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    _watch(page, problems)
    log_in(page, live_server.url, logins["assessor"]["username"], logins["assessor"]["password"])
    page.goto(f"{live_server.url}/assessment/deductions/")
    # The deductions page names where it is without linking to 综合评价, which the assessor may not open.
    assert "倒扣分" in page.inner_text(".crumbs")
    assert page.query_selector(".crumbs a[href='/assessment/']") is None
    # Opened anyway (an old bookmark): a designed page in Chinese, not the bare English "403 Forbidden".
    answer = page.goto(f"{live_server.url}/assessment/")
    assert answer.status == 403
    assert page.evaluate("document.documentElement.lang") == "zh-hans"
    assert page.inner_text("h1") == "无权访问此页面" and "考核员" in page.inner_text("#my-roles")
    assert "Forbidden" not in page.inner_text("body")
    screenshot(page, "error-403-assessor-zh")
    # English, switched on the error page itself.
    page.select_option("select[name=language]", "en")
    page.wait_for_selector("html[lang=en]")
    assert page.url == f"{live_server.url}/assessment/"
    with translation.override("en"):
        assert page.inner_text("h1") == gettext("无权访问此页面")
        assert page.inner_text("#way-home") == gettext("回到我的工作台")
    screenshot(page, "error-403-assessor-en")
    # The way on: home, to the workbenches this person may open.
    with page.expect_navigation() as nav:
        page.click("#way-home")
    assert nav.value.status == 200 and page.query_selector("[data-status]") is None
    assert page.query_selector("a[data-bench=deductions]") is not None
    assert not problems, problems
    context.close()
