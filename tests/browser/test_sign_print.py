"""The printable 六定 sign (/grids/WG01/card/print/) prints on one A4 page, and its QR code opens the grid's
public report page on the configured public address (here the test server's own, non-default port)."""
import re

import pytest

from .conftest import SCREENSHOTS, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pdf_pages(pdf):
    """Pages of a PDF as Chromium writes it: each page object says /Type /Page (the tree root says /Pages)."""
    pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))
    counts = [int(n) for n in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", pdf, re.S)]
    assert pages and (not counts or max(counts) == pages), (pages, counts)
    return pages


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_sign_prints_on_one_a4_page_with_a_qr_code_to_the_public_base_url(live_server, browser, settings, tmp_path,
                                                                          language):
    from demo_snapshot import build_demo
    from urbangrid.places.card import qr_svg

    settings.VAR_DIR = tmp_path
    _, logins, _ = build_demo(seed=5, log=lambda m: None)
    # The public address is this server's (a random port, never the default 8000).
    settings.URBANGRID_PUBLIC_BASE_URL = live_server.url
    assert not live_server.url.endswith(":8000")
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    login = logins["grid_leader"]
    log_in(page, live_server.url, login["username"], login["password"])
    if language == "en":
        context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto(f"{live_server.url}/grids/WG01/card/print/")
    assert page.evaluate("document.documentElement.lang") == language
    expected = f"{live_server.url}/report/WG01/"
    # The QR code is exactly the code of that address (same data, same error level, same drawing).
    assert page.inner_html(".qr svg") in qr_svg(expected) or _same_qr(page.inner_html(".qr"), qr_svg(expected))
    assert page.inner_text("#report-url") == expected
    pdf = page.pdf(format="A4", print_background=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / f"grid-sign-{language}.pdf").write_bytes(pdf)
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    screenshot(page, f"grid-sign-print-{language}")
    assert pdf_pages(pdf) == 1
    # The sign still names who answers for what: every responsible unit of the card, with its time limits.
    card = page.context.new_page()
    card.goto(f"{live_server.url}/grids/WG01/card/")
    units = set(card.eval_on_selector_all("table.resp tbody tr td:nth-child(3)",
                                          "tds => tds.map(t => t.firstChild.textContent.trim())"))
    signed = set(page.eval_on_selector_all("table.resp-units tbody tr td:first-child", "tds => tds.map(t => t.textContent.trim())"))
    assert units and units == signed, (units - signed, signed - units)
    # Scanning it: the address opens the grid's public report page.
    answer = page.goto(expected)
    assert answer.status == 200 and page.query_selector("#pick-map") is not None
    context.close()


def _same_qr(html, svg):
    """The module paths of two inline QR SVGs are the same."""
    path = re.compile(r'\sd="([^"]+)"')
    return path.findall(html) == path.findall(svg) and path.findall(svg)
