"""The daily review and the yearly assessment in a real browser with the demo data: charts drawn, no page errors,
the printable page."""
import pytest

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(demo_history):
    return demo_history


def _charts_drawn(page, n):
    page.wait_for_selector("#review[data-ready='1']", timeout=30_000)
    assert page.locator(".rv-chart canvas").count() >= n


def test_daily_review_and_yearly_assessment(live_server, page, demo):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login = demo["leader"]
    log_in(page, live_server.url, login["username"], login["password"])
    page.goto(f"{live_server.url}/assessment/reviews/daily/")
    _charts_drawn(page, 2)
    assert "日讲评" in page.inner_text("h1")
    assert page.locator("table[data-section=by_grid] tbody tr").count() >= 1
    assert page.locator("table[data-section=overdue]").count() == 1
    screenshot(page, "review-daily")
    page.goto(f"{live_server.url}/assessment/reviews/yearly/")
    _charts_drawn(page, 3)
    assert "年考核" in page.inner_text("h1")
    assert page.locator("table[data-section=units] tbody tr").count() >= 5
    assert page.locator("table[data-section=persons] tbody tr").count() >= 100
    screenshot(page, "review-yearly")
    # a figure drills down to the case list
    href = page.get_attribute("[data-kpi=reported]", "href")
    assert href.startswith("/cases/?")
    page.goto(f"{live_server.url}/assessment/reviews/yearly/print/")
    page.emulate_media(media="print")
    assert page.locator("table[data-section=unit_awards] tbody tr").count() >= 1
    page.goto(f"{live_server.url}/assessment/reviews/rankings/?dim=branch")
    _charts_drawn(page, 3)
    assert errors == []


def test_review_charts_under_the_real_csp(live_server, browser, demo):
    """Without bypassing the content security policy: no inline script is needed to draw the charts."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors, blocked = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    login = demo["leader"]
    log_in(page, live_server.url, login["username"], login["password"])
    page.goto(f"{live_server.url}/assessment/reviews/monthly/")
    _charts_drawn(page, 2)
    context.close()
    assert errors == [] and blocked == []
