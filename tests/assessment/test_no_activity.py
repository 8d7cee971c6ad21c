"""Subjects without activity in the period: 无数据, no score, grade or rank, never an award candidate (issue 17, 4).

March 2026 on a log written by the case service: unit u1 gets one case (dispatched, fed back on time), u2 and
every other unit nothing; the log's dispatcher dispatches it, every other dispatcher does nothing."""
import io

import pytest
from openpyxl import load_workbook

from eval_helpers import T, Log
from ug_testing import login_client
from urbangrid.assessment.evaluation.evaluate import evaluation_for
from urbangrid.assessment.evaluation.rules import has_activity
from urbangrid.assessment.periods import period_of
from urbangrid.assessment.reviews import members, periodic
from urbangrid.org.reach import Reach

pytestmark = pytest.mark.django_db
MARCH = period_of("month", T(2026, 3, 15).date())
NOW = T(2026, 4, 2, 12)
Q = "period=month&date=2026-03-10"


def one_case():
    log = Log()
    c = log.dispatched(T(2026, 3, 2, 9), log.u1)
    log.feed_back(c, T(2026, 3, 2, 15))  # on time
    return log


def test_has_activity_is_any_counted_figure():
    assert not has_activity({"filed": 0, "closed": 0})
    assert not has_activity({})
    assert has_activity({"filed": 0, "overdue": 1})


@pytest.mark.usefixtures("both_sources")
def test_units_positions_regions_without_activity(demo_city):
    log = one_case()
    ev = evaluation_for(MARCH.start, MARCH.end, now=NOW)
    units = {r["unit_code"]: r for r in ev.units()}
    a, idle = units[log.u1.code], units[log.u2.code]
    assert (a["has_data"], a["score"], a["grade"], a["rank"]) == (True, 100.0, "A", 1)
    assert (idle["has_data"], idle["score"], idle["grade"], idle["rank"]) == (False, None, "", None)
    assert idle["filed_score"] is None and idle["filed"] == 0
    # one unit with activity: the only rank; nobody ties with it at #1
    assert [r["unit_code"] for r in units.values() if r["rank"] is not None] == [log.u1.code]
    disp = [r for r in ev.positions() if r["role"] == "dispatcher"]
    mine = next(r for r in disp if r["person_id"] == log.dispatcher.pk)
    assert (mine["has_data"], mine["rank"]) == (True, 1) and mine["indicators"]["dispatched"] == 1
    others = [r for r in disp if r["person_id"] != log.dispatcher.pk]
    assert others and all(r["score"] is None and r["rank"] is None and not r["has_data"] for r in others)
    districts = {r["code"]: r for r in ev.regions("district")}
    active = log.grid.community.parent.parent.code
    assert districts[active]["has_data"] and districts[active]["rank"] == 1
    quiet = [r for c, r in districts.items() if c != active]
    assert quiet and all(r["score"] is None and r["grade"] == "" and r["rank"] is None for r in quiet)


def test_api_page_and_export_say_no_data(demo_city, client):
    log = one_case()
    login_client(client, "leader")
    items = {r["unit_code"]: r for r in client.get(f"/api/v1/evaluation/units?{Q}").json()["items"]}
    assert items[log.u2.code]["score"] is None and items[log.u2.code]["has_data"] is False
    assert items[log.u2.code]["rank"] is None and items[log.u2.code]["grade"] == ""
    assert items[log.u1.code]["rank"] == 1
    page = client.get(f"/assessment/?{Q}").content.decode()
    assert "无数据" in page
    resp = client.get(f"/assessment/export/units.xlsx?{Q}")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.content)).active
    header = [c.value for c in ws[1]]
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows[log.u2.code][header.index("综合指标值")] == "无数据"
    assert rows[log.u2.code][header.index("等级")] == "无数据"
    assert rows[log.u1.code][header.index("综合指标值")] == 100


def test_awards_pay_and_rankings_leave_out_subjects_without_activity(demo_city):
    log = one_case()
    everything = Reach(everything=True)
    review = periodic.build("yearly", period_of("year", T(2026, 3, 1).date()), everything, now=NOW)
    awards = review.section("unit_awards").rows
    assert [r["code"] for r in awards] == [log.u1.code]  # not the bureau, sections or idle teams
    assert all(r["pay_score"] is not None for r in review.section("person_awards").rows)
    assert all(r["has_data"] for r in review.section("person_awards").rows + review.section("person_bottom").rows)
    idle_unit = next(r for r in review.section("units").rows if r["code"] == log.u2.code)
    assert idle_unit["pay_score"] is None and idle_unit["grade"] == ""
    # a post holder with no case work and no post activity: no pay score
    persons = {r["person_id"]: r for r in review.section("persons").rows}
    assert persons[log.dispatcher.pk]["pay_score"] is not None
    idle = [r for r in persons.values() if r["reports"] == r["verifications"] == r["checks"] == r["handled"] == 0
            and r["position_score"] is None]
    assert idle and all(r["pay_score"] is None and not r["has_data"] for r in idle)
    # rankings: only the unit with activity has a rank
    ranking = members.rankings("unit", MARCH, everything, now=NOW, trend_periods=2)
    ranked = [r for r in ranking["rows"] if r["rank"] is not None]
    assert [(r["code"], r["rank"]) for r in ranked] == [(log.u1.code, 1)]
    assert ranking["rows"][0]["code"] == log.u1.code
    assert ranking["grades"]["无数据"] == len(ranking["rows"]) - 1


def test_review_page_and_workbook_say_no_data(demo_city, client):
    log = one_case()
    login_client(client, "leader")
    page = client.get("/assessment/reviews/monthly/?period=month&date=2026-03-10").content.decode()
    assert "无数据" in page
    resp = client.get("/assessment/reviews/rankings.xlsx?dim=unit&period=month&date=2026-03-10")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.content)).active
    rows = {r[1]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows[log.u1.code][0] == 1
    assert rows[log.u2.code][0] is None and rows[log.u2.code][3] == "无数据"
