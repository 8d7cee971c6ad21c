"""The grid page (/grids/<code>/): 六定 card, members by role, open cases with lights, this period's figures."""
import re
from datetime import datetime
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from ug_testing import jpeg, login_client

from urbangrid.cases import engine, services
from urbangrid.cases.models import Case
from urbangrid.catalog.models import CatalogClass
from urbangrid.places import views as grid_views
from urbangrid.org.models import RoleAssignment
from urbangrid.org.scope import actor_for
from urbangrid.worktime import clock as wt

pytestmark = pytest.mark.django_db
IN_WG01 = (117.2352, 31.8785)


def actor(username):
    return actor_for(get_user_model().objects.get(username=username))


def photo():
    return SimpleUploadedFile("p.jpg", jpeg().read(), "image/jpeg")


def at(hour, minute=0):
    """An instant of Tuesday 2026-03-10 (a working day: 08:30–12:00, 14:00–17:30), Asia/Shanghai."""
    return datetime(2026, 3, 10, hour, minute, tzinfo=wt.TZ)


NOW = at(15)  # the moment the grid page is looked at (its lights and this day's, week's and month's figures)


def report(when):
    cls = CatalogClass.objects.get(version__code="local-demo", code="0401")
    case, _ = services.report(actor("inspector"), catalog_class=cls, lon=IN_WG01[0], lat=IN_WG01[1], description="路面塌陷",
                              source="inspector", photos=[photo()], at=when)
    return case


def take(case, *steps):
    for when, action, who, inputs in steps:
        services.transition(actor(who), case.number, action, inputs, at=when,
                            photos=[photo()] if action in ("feed_back", "check_pass") else ())


def figure(page, name):
    return re.search(rf'data-figure="{name}">(?:<a [^>]*>)?([^<]*)', page).group(1).strip()


@pytest.fixture
def grid_cases(demo_city, monkeypatch):
    """Three cases reported in WG01 on 2026-03-10 and taken through the case service at chosen instants; the
    page is looked at at ``NOW`` (15:00 that day), so the engine's own deadlines give the lights."""
    unit = RoleAssignment.objects.get(person__user__username="unit_handler", role="unit_handler").unit.code
    open_case, handled, closed = report(at(9)), report(at(9, 1)), report(at(9, 2))

    def dispatch(accept, file, send):
        return [(accept, "accept", "intake_operator", {}), (file, "file", "shift_lead", {}),
                (send, "dispatch", "dispatcher", {"unit": unit})]

    # Dispatched at 14:30: class 0401 is handled within 2 working hours (due 16:30, yellow from 16:06): green now.
    take(handled, *dispatch(at(14, 10), at(14, 20), at(14, 30)))
    # Closed on time in the morning, every step within its clock.
    take(closed, *dispatch(at(9, 10), at(9, 15), at(9, 20)), (at(10), "feed_back", "unit_handler", {"opinion": "已修复"}),
         (at(10, 10), "send_check", "intake_operator", {}), (at(10, 20), "check_pass", "inspector", {"opinion": "合格"}),
         (at(10, 40), "close", "shift_lead", {}))
    # The first case was never accepted: its acceptance clock (1 working hour from 09:00) ran out at 10:00, so at
    # NOW it shows red and counts as overdue.
    assert engine.light(Case.objects.get(pk=open_case.pk), NOW) == "red"
    assert engine.light(Case.objects.get(pk=handled.pk), NOW) == "green"
    # The page reads the clock from ``timezone.now()``: give it NOW (the request machinery keeps the real time).
    monkeypatch.setattr(grid_views, "timezone", SimpleNamespace(now=lambda: NOW))
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
