"""The grid page (/grids/<code>/): 六定 card, members by role, open cases with lights, this period's figures."""
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from urbangrid.cases import services
from urbangrid.cases.models import Case
from urbangrid.catalog.models import CatalogClass
from urbangrid.org.models import RoleAssignment
from urbangrid.org.scope import actor_for

from ug_testing import jpeg, login_client

pytestmark = pytest.mark.django_db
IN_WG01 = (117.2352, 31.8785)


def actor(username):
    return actor_for(get_user_model().objects.get(username=username))


def photo():
    return SimpleUploadedFile("p.jpg", jpeg().read(), "image/jpeg")


def report():
    cls = CatalogClass.objects.get(version__code="local-demo", code="0401")
    case, _ = services.report(actor("inspector"), catalog_class=cls, lon=IN_WG01[0], lat=IN_WG01[1], description="路面塌陷",
                              source="inspector", photos=[photo()])
    return case


def take(case, *steps):
    for action, who, inputs in steps:
        services.transition(actor(who), case.number, action, inputs, photos=[photo()] if action in ("feed_back", "check_pass") else ())


def figure(page, name):
    return re.search(rf'data-figure="{name}">(?:<a [^>]*>)?([^<]*)', page).group(1).strip()


@pytest.fixture
def grid_cases(demo_city):
    unit = RoleAssignment.objects.get(person__user__username="unit_handler", role="unit_handler").unit.code
    open_case, handled, closed = report(), report(), report()
    dispatch = [("accept", "intake_operator", {}), ("file", "shift_lead", {}), ("dispatch", "dispatcher", {"unit": unit})]
    take(handled, *dispatch)
    take(closed, *dispatch, ("feed_back", "unit_handler", {"opinion": "已修复"}), ("send_check", "intake_operator", {}),
         ("check_pass", "inspector", {"opinion": "合格"}), ("close", "shift_lead", {}))
    # The first case's clock ran out: it shows red and counts as overdue now.
    Case.objects.filter(pk=open_case.pk).update(stage_deadline=timezone.now() - timedelta(hours=1),
                                                 stage_yellow_at=timezone.now() - timedelta(hours=2))
    return {"open": open_case.number, "handled": handled.number, "closed": closed.number}


def test_grid_list_links_to_the_grid_page_and_the_card_links_back(demo_city):
    c = login_client(Client(), "grid_leader")
    assert 'href="/grids/WG01/"' in c.get("/grids/").content.decode()
    assert 'href="/grids/WG01/"' in c.get("/grids/WG01/card/").content.decode()


def test_grid_page_shows_card_members_open_cases_and_figures(grid_cases):
    page = login_client(Client(), "leader").get("/grids/WG01/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "定范围" in body and "定人员" in body and "定责任" in body  # the 六定 card
    assert "网格长" in body and "网格巡查员" in body  # members by role
    # Open cases, linked, with their lights; the closed one is not listed.
    assert f'href="/cases/{grid_cases["open"]}/"' in body and f'href="/cases/{grid_cases["handled"]}/"' in body
    assert f'data-number="{grid_cases["closed"]}"' not in body
    row = body[body.index(f'<tr data-number="{grid_cases["open"]}"'):]
    assert 'data-light="red"' in row[:row.index("</tr>")]
    for period in ("day", "week", "month"):
        p = login_client(Client(), "leader").get("/grids/WG01/", {"period": period}).content.decode()
        assert f'data-period="{period}" aria-current="page"' in p
        assert figure(p, "received") == "3" and figure(p, "closed") == "1"
        assert figure(p, "ontime_rate").startswith("100.0%") and figure(p, "rework") == "0"
        assert figure(p, "overdue") == "1" and figure(p, "open") == "2"


def test_figures_of_another_grid_are_empty_and_rates_show_a_dash(grid_cases):
    body = login_client(Client(), "leader").get("/grids/WG02/").content.decode()
    assert figure(body, "received") == "0" and figure(body, "ontime_rate") == "—"
    assert "没有未办结的案件" in body


def test_bad_period_unknown_grid_and_anonymous(grid_cases):
    c = login_client(Client(), "leader")
    bad = c.get("/grids/WG01/", {"period": "year"})
    assert bad.status_code == 400 and "day、week 或 month" in bad.content.decode()
    assert c.get("/grids/NOPE/").status_code == 404
    anonymous = Client().get("/grids/WG01/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_open_case_list_respects_what_the_viewer_may_see(grid_cases):
    # The unit handler sees the case of his unit, not the one still at intake; the counts are the grid's.
    body = login_client(Client(), "unit_handler").get("/grids/WG01/").content.decode()
    assert f'data-number="{grid_cases["handled"]}"' in body and f'data-number="{grid_cases["open"]}"' not in body
    assert figure(body, "received") == "3"


def test_grid_page_query_count_is_bounded(grid_cases, django_assert_max_num_queries):
    c = login_client(Client(), "leader")
    c.get("/grids/WG01/")
    with django_assert_max_num_queries(24):  # fixed: session and actor, the card, two aggregates, one page of cases
        assert c.get("/grids/WG01/").status_code == 200
