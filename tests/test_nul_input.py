"""A NUL character in a page's URL or query is a 400 on every database, never a 500 (PostgreSQL refuses NUL in text)."""
import pytest

from ug_testing import login_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/cases/?q=%00", "/cases/?state=a%00b", "/cases/%00/", "/grids/?q=x%00", "/track/?code=%00",
                                 "/assessment/reviews/daily/?day=%00", "/components/%00/"])
def test_pages_answer_400_to_nul(demo_city, client, url):
    login_client(client, "dispatcher")
    r = client.get(url)
    assert r.status_code == 400
    assert "空字符" in r.content.decode()


def test_ordinary_queries_still_work(demo_city, client):
    login_client(client, "dispatcher")
    assert client.get("/cases/?q=%E8%B7%AF").status_code == 200
