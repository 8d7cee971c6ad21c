"""/api/v1/docs renders Swagger UI offline: every file from this server, under the site's real CSP."""
from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_api_docs_list_the_operations_with_no_other_host(live_server, browser):
    own = urlsplit(live_server.url).netloc
    foreign, problems, loaded = [], [], []
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
    page = context.new_page()

    def route(r):  # the network is this server only: anything else is recorded and refused
        if urlsplit(r.request.url).netloc == own or r.request.url.startswith(("data:", "blob:")):
            loaded.append(r.request.url)
            r.continue_()
        else:
            foreign.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda err: problems.append(str(err)))
    answer = page.goto(f"{live_server.url}/api/v1/docs")
    assert answer.status == 200 and "script-src 'self'" in answer.headers["content-security-policy"]
    page.wait_for_selector(".opblock", timeout=20000)
    paths = page.eval_on_selector_all(".opblock-summary-path", "els => els.map(e => e.getAttribute('data-path'))")
    assert "/api/v1/auth/token" in paths and "/api/v1/cases" in paths and len(paths) > 20, paths
    assert page.inner_text(".info .title").startswith("UrbanGrid API")
    assert any(u.endswith("/api/v1/openapi.json") for u in loaded)
    assert any("/static/ninja/swagger-ui-bundle" in u for u in loaded)
    assert not foreign, foreign
    assert not problems, problems
    context.close()
