"""Error pages (core/errors.py): 400, 403, 404, 429, 500 and a refused form are designed, localised pages with
the way on; /open311/ keeps GeoReport error lists and /api/ keeps JSON. A role's pages link only to pages it
may open (every link one step from its workbenches answers, never 403)."""
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import path
from django.utils import translation
from django.utils.translation import gettext

from ug_testing import jpeg, login_client

pytestmark = pytest.mark.django_db


def _boom(request):
    raise RuntimeError("a bug")


# A URLconf with a view that fails, for the 500 page (settings.ROOT_URLCONF = __name__ in that test).
from urbangrid import urls as _site_urls  # noqa: E402

urlpatterns = [path("boom/", _boom), *_site_urls.urlpatterns]
handler400, handler403 = _site_urls.handler400, _site_urls.handler403
handler404, handler500 = _site_urls.handler404, _site_urls.handler500


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def _html(response):
    assert response["Content-Type"].startswith("text/html"), response["Content-Type"]
    return response.content.decode()


def _designed(response, status, lang="zh-hans"):
    html = _html(response)
    assert response.status_code == status
    assert f'<html lang="{lang}">' in html
    assert f'data-status="{status}"' in html and 'id="way-back"' in html and 'id="way-home"' in html
    assert "Not Found" not in html and "Forbidden" not in html and "Server Error" not in html
    return html


def test_not_found_for_a_citizen_offers_the_public_pages(demo_city):
    html = _designed(Client().get("/no-such-page/"), 404)
    assert "页面不存在" in html
    for link in ('href="/public/"', 'href="/report/"', 'href="/track/"', 'href="/accounts/login/?next=/no-such-page/"'):
        assert link in html, link


def test_not_found_in_english(demo_city):
    c = Client()
    c.cookies["django_language"] = "en"
    html = _designed(c.get("/no-such-page/"), 404, lang="en")
    with translation.override("en"):
        assert gettext("页面不存在") in html and gettext("返回上一页") in html
        assert gettext("UrbanGrid 网格化城市管理平台") in html


def test_back_link_is_the_referring_page_of_this_site_only(demo_city):
    c = Client()
    html = _html(c.get("/no-such-page/", HTTP_REFERER="http://testserver/public/?x=1"))
    assert re.search(r'id="way-back" href="/public/\?x=1"', html)
    html = _html(c.get("/no-such-page/", HTTP_REFERER="https://elsewhere.example/public/"))
    assert re.search(r'id="way-back" href="/"', html)


def test_mistyped_tracking_code_offers_a_retry_form(demo_city):
    c = Client()
    html = _designed(c.get("/track/WRONG1234X/"), 404)
    assert "没有找到这个查询码" in html
    form = re.search(r'<form method="get" action="/track/"[^>]*id="retry-track">(.*?)</form>', html, re.S)
    assert form and 'name="code" value="WRONG1234X"' in form.group(1)
    # The form goes to the lookup, which reads the code as typed (spaces, lower case) and opens its page.
    answer = c.get("/track/", {"code": " wrong1234y "})
    assert answer.status_code == 302 and answer.url == "/track/WRONG1234Y/"


def test_forbidden_names_the_roles_and_leads_home(demo_city):
    c = login_client(Client(), demo_city["logins"]["assessor"]["username"])
    html = _designed(c.get("/assessment/"), 403)
    assert "无权访问此页面" in html and "考核员" in html and 'id="way-home" href="/"' in html
    assert 'href="/report/"' not in html  # staff are not sent to the citizens' pages


def test_staff_may_search_cases_from_a_missing_page(demo_city):
    c = login_client(Client(), demo_city["logins"]["dispatcher"]["username"])
    html = _designed(c.get("/cases/19990000001/"), 404)
    assert re.search(r'<form method="get" action="/cases/"[^>]*id="search-cases"', html)


def test_bad_request_and_too_large_upload(demo_city, settings):
    html = _designed(Client().get("/public/", HTTP_HOST="evil.example"), 400)  # DisallowedHost
    assert "请求无法处理" in html
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    files = [jpeg() for _ in range(3)]
    html = _designed(Client().post("/report/", {"description": "x", "photos": files}), 400)
    assert "提交的内容过大" in html


def test_public_rate_limit_answers_a_designed_429(demo_city, settings):
    settings.URBANGRID_PUBLIC_POSTS_PER_HOUR = 0
    answer = Client().post("/report/", {"description": "x"})
    html = _designed(answer, 429)
    assert 0 < int(answer["Retry-After"]) <= 3601 and "分钟后再试" in html


def test_locked_login_answers_429_with_the_form(demo_city, settings):
    settings.URBANGRID_LOGIN_MAX_FAILURES = 2
    who = demo_city["logins"]["inspector"]["username"]
    c = Client()
    assert [c.post("/accounts/login/", {"username": who, "password": "wrong-guess-123"}).status_code
            for _ in range(3)] == [200, 200, 429]


def test_server_error_page(demo_city, settings):
    settings.ROOT_URLCONF = __name__
    c = Client(raise_request_exception=False)
    html = _html(c.get("/boom/"))
    assert c.get("/boom/").status_code == 500
    assert '<html lang="zh-hans">' in html and "系统出错" in html and 'id="way-home"' in html
    c.cookies["django_language"] = "en"
    assert '<html lang="en">' in c.get("/boom/").content.decode()
    api = c.get("/api/v1/nowhere")
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}


def test_csrf_failure_is_explained(demo_city):
    c = Client(enforce_csrf_checks=True)
    html = _designed(c.post("/accounts/login/", {"username": "x", "password": "y"}), 403)
    assert "表单已失效" in html and "Cookie" in html
    assert "CSRF verification failed" not in html


def test_api_and_open311_keep_their_error_formats(demo_city):
    c = Client()
    answer = c.get("/api/v1/no/such/route")
    assert answer.status_code == 404 and answer.json() == {"detail": "Not Found"}
    answer = c.get("/open311/v2/nowhere.json")
    assert answer.status_code == 404 and answer.json()[0]["code"] == 404
    assert c.get("/open311/v2/nowhere.xml")["Content-Type"].startswith("text/xml") or \
        c.get("/open311/v2/nowhere.xml")["Content-Type"].startswith("application/xml")


# --- links a role is shown lead to pages it may open --------------------------------------------------

HREF = re.compile(r'href="(/[^"#]*)"')
SKIP = ("/static/", "/media/", "/admin/", "/accounts/logout/", "/api/")


def _shape(url):
    """One request per kind of link: numbers, codes and query values stand for all of their kind."""
    return re.sub(r"\d+", "N", url.split("?")[0])


def _links(html):
    return {h.replace("&amp;", "&") for h in HREF.findall(html) if not h.startswith(SKIP)}


def test_every_link_on_a_roles_pages_opens(demo_city):
    """From the chooser and each workbench of every demo role, each kind of link answers (not 403)."""
    roles = [r for r in demo_city["logins"] if r != "open311_api_key"]
    forbidden = []
    for role in roles:
        c = login_client(Client(), demo_city["logins"][role]["username"])
        home = c.get("/?choose=1")
        start = ["/?choose=1", *re.findall(r'href="(/[^"]*)" data-bench=', home.content.decode())]
        seen = set()
        for page in start:
            answer = c.get(page)
            assert answer.status_code == 200, (role, page, answer.status_code)
            for url in sorted(_links(answer.content.decode())):
                if _shape(url) in seen:
                    continue
                seen.add(_shape(url))
                if c.get(url).status_code == 403:
                    forbidden.append((role, page, url))
    assert not forbidden, forbidden


def test_assessor_deductions_do_not_link_to_the_evaluation(demo_city):
    assessor = login_client(Client(), demo_city["logins"]["assessor"]["username"])
    assert 'href="/assessment/"' not in assessor.get("/assessment/deductions/").content.decode()
    leader = login_client(Client(), demo_city["logins"]["leader"]["username"])
    assert 'href="/assessment/"' in leader.get("/assessment/deductions/").content.decode()
