"""Home: each role lands on its workbench, several roles get a switcher; the language follows the user."""
import pytest
from django.test import Client

from ug_testing import login_client

pytestmark = pytest.mark.django_db


def test_landing_by_role(demo_city, client):
    login_client(client, "dispatcher")
    assert client.get("/").url == "/command/"
    client.logout()
    login_client(client, "unit_handler")
    resp = client.get("/")
    # The demo's unit handler is also a sub-grid leader or grid officer: a switcher, unless it has one bench.
    assert resp.status_code in (200, 302)
    chooser = client.get("/?choose=1")
    assert chooser.status_code == 200 and b'data-bench="unit"' in chooser.content
    assert client.get("/", follow=False).status_code in (200, 302)
    client.logout()
    assert Client().get("/").status_code == 302  # to the login page


def test_language_is_kept_per_user(demo_city):
    first = Client()
    login_client(first, "leader")
    first.post("/i18n/setlang/", {"language": "en", "next": "/grids/"})
    # Another browser (no language cookie) of the same user gets English.
    second = Client()
    login_client(second, "leader")
    page = second.get("/grids/")
    assert page.status_code == 200 and b'lang="en"' in page.content
    assert second.cookies["django_language"].value == "en"
    # Someone else still gets Chinese.
    third = Client()
    login_client(third, "dispatcher")
    assert b'lang="zh-hans"' in third.get("/grids/").content


def test_chinese_by_default_whatever_the_browser_says(demo_city):
    c = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    login_client(c, "dispatcher")
    assert b'lang="zh-hans"' in c.get("/grids/").content


def test_anonymous_visitors_get_their_browser_language_unless_a_cookie_says_otherwise(demo_city):
    english = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert b'lang="en"' in english.get("/accounts/login/").content
    english.cookies["django_language"] = "zh-hans"
    assert b'lang="zh-hans"' in english.get("/accounts/login/").content
    assert b'lang="zh-hans"' in Client().get("/accounts/login/").content


def test_favicon_answers_and_the_language_menu_names_languages_in_themselves(demo_city):
    c = Client()
    resp = c.get("/favicon.ico", follow=True)
    body = b"".join(resp.streaming_content) if resp.streaming else resp.content
    assert resp.status_code == 200 and body[:4] == b"\x00\x00\x01\x00"  # an ICO file
    for lang in ("zh-hans", "en"):
        c.cookies["django_language"] = lang
        page = c.get("/accounts/login/").content.decode()
        assert '>简体中文</option>' in page and '>English</option>' in page and "英语" not in page
        assert 'rel="icon"' in page
