"""The workbench lists at megacity scale (issue 7): a capped total instead of COUNT(*) of the whole history,
and the to-do queues sorted after matching (the same order as the deadline index gives)."""
import re

import pytest
from django.db.models import F

from urbangrid.cases import queries
from urbangrid.cases.models import Case
from urbangrid.cases.states import State
from urbangrid.cases.web import views

from test_web_views import actor, client, new_case

pytestmark = pytest.mark.django_db


def test_list_total_is_counted_up_to_the_cap(demo_city, monkeypatch):
    for _ in range(4):
        new_case()
    n = Case.objects.count()
    monkeypatch.setattr(views, "COUNT_CAP", n)
    page = client("leader").get("/cases/").content.decode()
    assert f'data-total="{n}"' in page and "超过" not in page  # exactly at the cap: the exact figure

    monkeypatch.setattr(views, "COUNT_CAP", n - 1)
    page = client("leader").get("/cases/").content.decode()
    assert f'data-total="{n - 1}"' in page and f"超过 {n - 1} 件" in page
    # Pages beyond the counted rows are not offered: the last page is the one the cap reaches.
    monkeypatch.setattr(views, "PER_PAGE", 1)
    page = client("leader").get("/cases/", {"page": "999"}).content.decode()
    assert re.search(rf"第 {n - 1} / {n - 1} 页", page)


def test_filtered_list_below_the_cap_is_exact(demo_city, monkeypatch):
    case = new_case()
    monkeypatch.setattr(views, "COUNT_CAP", 1)
    page = client("leader").get("/cases/", {"q": case.number}).content.decode()
    assert 'data-total="1"' in page and "超过" not in page


def test_intake_queue_keeps_deadline_order_with_undated_cases_last(demo_city):
    reported = [new_case() for _ in range(3)]
    closed = Case.objects.filter(pk=reported[0].pk)
    # A closed case awaiting its return visit (回访) is on the intake queue with no running clock.
    closed.update(state=State.CLOSED, needs_verification=True, satisfaction="", stage="", stage_deadline=None)
    expected = list(queries.todo(actor("intake_operator"))
                    .filter(state__in=views.BENCHES["centre"].states)
                    .order_by(F("stage_deadline").asc(nulls_last=True), "-created_at", "-pk")
                    .values_list("number", flat=True)[:views.PER_PAGE])
    assert len(expected) == 3 and expected[-1] == reported[0].number  # the undated case last
    page = client("intake_operator").get("/centre/").content.decode()
    assert re.findall(r'<tr data-number="(\d+)"', page) == expected
