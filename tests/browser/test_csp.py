"""Every main page works under the real content security policy: no inline script, no eval, no foreign host."""
import pytest

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    ("grid_leader", "/map/", "#map .leaflet-pane"),
    ("grid_leader", "/grids/WG01/card/", "svg.scope-map"),
    ("intake_operator", "/centre/", "main"),
    ("dispatcher", "/command/", "main"),
    ("unit_handler", "/unit/", "main"),
    ("leader", "/dashboard/", "main"),
    ("inspector", "/m/report/", "main"),
]
PUBLIC = [("/report/WG01/", "#pick-map .leaflet-pane"), ("/public/", "#fixed-map .leaflet-pane"), ("/track/", "form")]


def test_main_pages_under_the_policy(live_server, browser, settings, tmp_path):
    from demo_snapshot import build_demo

    settings.VAR_DIR = tmp_path
    _, logins, _ = build_demo(seed=5, log=lambda m: None)
    from urbangrid.catalog.models import Component

    component = Component.objects.order_by("identifier").first().identifier
    pages = PAGES + [("dispatcher", f"/components/{component}/", "#component-map[data-ready='1']")]
    violations = []
    for username, url, selector in pages + [(None, u, s) for u, s in PUBLIC]:
        context = browser.new_context(locale="zh-CN")
        page = context.new_page()
        page.on("console", lambda msg, url=url: violations.append((url, msg.text)) if "Content Security Policy" in msg.text else None)
        page.on("pageerror", lambda err, url=url: violations.append((url, str(err))))
        if username:
            log_in(page, live_server.url, logins[username]["username"], logins[username]["password"])
        response = page.goto(live_server.url + url)
        assert response.status == 200, url
        assert "default-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_selector(selector, state="attached")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)
        context.close()
    assert not violations, violations
