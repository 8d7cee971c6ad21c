"""Member records (民主评议), party roll-ups, person score tables and rankings on event logs written by the case
service."""
import io

import pytest
from django.test import override_settings
from openpyxl import load_workbook

from eval_helpers import T, Log
from test_reviews_support import deduction
from ug_testing import assert_matches_openapi, login_client
from urbangrid.assessment.evaluation.evaluate import evaluation_for
from urbangrid.assessment.periods import period_of
from urbangrid.org.models import PartyOrganization, Person

pytestmark = pytest.mark.django_db
YEAR = "period=year&date=2026-03-02"


def member_log():
    """The grid's inspector reports, verifies and checks; a handler feeds back; citizens rate the grid. Every step
    through the case service, the on-time verdicts the engine's (verify and check: half a working hour)."""
    log = Log()
    g = log.grid.responsibility_grid
    p = log.inspector
    handler = log.handler(log.u1)
    a = log.case(T(2026, 3, 2, 8), reporter=p)
    log.ev(a, "accept", T(2026, 3, 2, 8, 10))
    log.ev(a, "file", T(2026, 3, 2, 8, 20))
    log.dispatch(a, T(2026, 3, 2, 9), log.u1)  # due 3 March 09:00
    log.feed_back(a, T(2026, 3, 3, 9), person=handler)  # on time
    log.ev(a, "send_check", T(2026, 3, 3, 9, 20))
    log.ev(a, "check_pass", T(2026, 3, 3, 10), person=p)  # late (due 09:50)
    log.ev(a, "close", T(2026, 3, 3, 10, 30))
    b = log.case(T(2026, 3, 2, 9), reporter=p)
    log.ev(b, "send_verify", T(2026, 3, 2, 9, 40))
    log.ev(b, "verify", T(2026, 3, 2, 10), person=p, confirmed=True)  # on time (due 10:10)
    log.ev(b, "file", T(2026, 3, 2, 10, 30))
    log.dispatch(b, T(2026, 3, 2, 11), log.u2)  # another unit: the handler above fed back once
    log.feed_back(b, T(2026, 3, 4, 9, 30))
    log.ev(b, "send_check", T(2026, 3, 4, 9, 40))
    log.ev(b, "check_fail", T(2026, 3, 4, 10), person=p)  # on time (due 10:10)
    log.case(T(2025, 12, 31, 23, 59), reporter=p)  # last year in Shanghai
    # A citizen rates a first (市民评价 only once, before any verdict), then three 回访 answers.
    log.ev(a, "rate", T(2026, 3, 4, 10), satisfaction="satisfied")
    for s in ("satisfied", "basic", "dissatisfied"):
        log.ev(a, "callback", T(2026, 3, 5, 10), satisfaction=s)
    deduction("grid", T(2026, 3, 3, 10), 4, grid=g)
    deduction("person", T(2026, 3, 3, 10), 3, person=p)
    return log, g, p, handler


def _member(client, person_id, query=YEAR):
    r = client.get(f"/api/v1/members/{person_id}?{query}")
    assert r.status_code == 200, r.content[:300]
    return r.json()["record"]


def test_member_record_figures_and_score(demo_city, client, openapi_doc):
    log, g, p, handler = member_log()
    login_client(client, "leader")
    body = client.get(f"/api/v1/members/{p.pk}?{YEAR}").json()
    assert_matches_openapi(openapi_doc, "/api/v1/members/{person_id}", "get", 200, body)
    r = body["record"]
    assert (r["reports"], r["verifications"], r["checks"], r["handled"]) == (2, 1, 2, 0)
    assert (r["timed"], r["ontime"]) == (3, 2) and r["ontime_rate"] == pytest.approx(2 / 3)
    assert (r["satisfied"], r["basic"], r["dissatisfied"]) == (2, 1, 1)
    assert r["satisfaction_rate"] == pytest.approx(3 / 4)
    assert r["grid_deduction_points"] == 4 and r["grid_deductions"] == 1 and r["personal_deduction_points"] == 3
    assert g.code in r["grids"].split()
    year = period_of("year", T(2026, 3, 2).date())
    position = max(x["score"] for x in evaluation_for(year.start, year.end).positions() if x["person_id"] == p.pk)
    assert r["position_score"] == position
    n_grids = len(r["grids"].split())
    grid_part = round((96 + 100 * (n_grids - 1)) / n_grids, 2)
    expected = round((30 * 66.67 + 20 * 75 + 20 * grid_part + 10 * 97 + 20 * position) / 100, 2)
    assert r["pay_score"] == pytest.approx(expected, abs=0.01)
    h = _member(client, handler.pk)
    assert (h["handled"], h["timed"], h["ontime"], h["ontime_rate"]) == (1, 1, 1, 1.0)
    # last year holds only the report at 23:59 on 31 December
    old = _member(client, p.pk, "period=year&date=2025-06-01")
    assert (old["reports"], old["verifications"], old["checks"]) == (1, 0, 0)
    # weights from settings, without a migration
    with override_settings(URBANGRID_REVIEW_WEIGHTS={"person": {"ontime": 100, "satisfaction": 0, "grid_deductions": 0,
                                                                "personal_deductions": 0, "position": 0}}):
        assert _member(client, p.pk)["pay_score"] == pytest.approx(66.67)


def test_member_list_page_and_excel_agree(demo_city, client, openapi_doc):
    log, g, p, handler = member_log()
    login_client(client, "leader")
    body = client.get(f"/api/v1/members?{YEAR}").json()
    assert_matches_openapi(openapi_doc, "/api/v1/members", "get", 200, body)
    items = {m["employee_no"]: m for m in body["items"]}
    assert len(items) == Person.objects.filter(is_party_member=True).count()
    assert items[p.employee_no]["reports"] == 2
    wb = load_workbook(io.BytesIO(client.get(f"/assessment/members.xlsx?{YEAR}").content))
    rows = list(wb.active.iter_rows(values_only=True))
    head = list(rows[0])
    assert head[:2] == ["工号", "姓名"]
    got = {r[0]: dict(zip(head, r)) for r in rows[1:]}
    assert got.keys() == items.keys()
    x = got[p.employee_no]
    m = items[p.employee_no]
    assert (x["上报"], x["核实"], x["核查"], x["网格扣分"], x["绩效得分"], x["等级"]) == (
        m["reports"], m["verifications"], m["checks"], m["grid_deduction_points"], m["pay_score"], m["grade"])
    assert x["按时率"] == pytest.approx(m["ontime_rate"]) and x["群众满意率"] == pytest.approx(m["satisfaction_rate"])
    html = client.get(f"/assessment/members/?{YEAR}").content.decode()
    assert p.employee_no in html and f"/assessment/members/{p.pk}/" in html
    page = client.get(f"/assessment/members/{p.pk}/?{YEAR}")
    assert page.status_code == 200 and "66.67%" in page.content.decode()


def test_party_rollups_from_grids_and_segments(demo_city, client, openapi_doc):
    log, g, p, handler = member_log()  # a and b filed in the grid, a closed
    group = PartyOrganization.objects.get(level="group", grids=g)
    branch, general = group.parent, group.parent.parent
    deduction("party", T(2026, 4, 1, 9), 6, party_organization=branch)
    login_client(client, "leader")
    body = client.get(f"/api/v1/party?{YEAR}").json()
    assert_matches_openapi(openapi_doc, "/api/v1/party", "get", 200, body)
    rows = {r["code"]: r for r in body["items"]}
    assert len(rows) == PartyOrganization.objects.count()
    year = period_of("year", T(2026, 3, 2).date())
    region = {r["code"]: r for r in evaluation_for(year.start, year.end).regions("responsibility_grid")}
    grp = rows[group.code]
    assert (grp["grids"], grp["filed"], grp["closed"]) == (1, region[g.code]["filed"], region[g.code]["closed"]) == (1, 2, 1)
    assert grp["region_score"] == region[g.code]["score"]
    assert grp["members"] == Person.objects.filter(party_organization=group).count()
    groups = list(branch.children.all())
    br = rows[branch.code]
    assert br["grids"] == sum(rows[x.code]["grids"] for x in groups)
    assert br["filed"] == 2 and rows[general.code]["filed"] == 2
    assert br["members"] == Person.objects.filter(party_organization__in=[branch, *groups]).count()
    assert br["segments"] == branch.road_segments.count() + sum(x.road_segments.count() for x in groups)
    assert br["party_deduction_points"] == 6 and grp["party_deduction_points"] == 0
    assert grp["grid_deduction_points"] == 4 and br["grid_deduction_points"] == 4
    scores = [rows[x.code]["region_score"] for x in groups if rows[x.code]["grids"]]
    mine = Person.objects.filter(party_organization__in=[branch, *groups]).values_list("employee_no", flat=True)
    members = {m["employee_no"]: m["pay_score"] for m in client.get(f"/api/v1/members?{YEAR}").json()["items"]}
    scored = [members[e] for e in mine if members[e] is not None]  # members without activity: no input
    member_avg = round(sum(scored) / len(scored), 2)
    grid_scores = [region[rg.code]["score"] for grp_ in groups for rg in grp_.grids.all() if region[rg.code]["score"] is not None]
    region_avg = round(sum(grid_scores) / len(grid_scores), 2)
    assert scores and br["region_score"] == region_avg
    assert br["pay_score"] == pytest.approx(round((50 * region_avg + 30 * 94 + 20 * member_avg) / 100, 2), abs=0.01)
    only = client.get(f"/api/v1/party/{branch.code}?{YEAR}").json()["items"]
    assert [r["code"] for r in only] == [branch.code] and only[0]["pay_score"] == br["pay_score"]
    groups_only = client.get(f"/api/v1/party?level=group&{YEAR}").json()["items"]
    assert {r["level"] for r in groups_only} == {"group"}
    # Excel and page
    wb = load_workbook(io.BytesIO(client.get(f"/assessment/party.xlsx?{YEAR}").content))
    xrows = list(wb.active.iter_rows(values_only=True))
    got = {r[0]: dict(zip(xrows[0], r)) for r in xrows[1:]}
    assert got[branch.code]["综合得分"] == br["pay_score"] and got[branch.code]["立案数"] == 2
    html = client.get(f"/assessment/party/{branch.code}/?{YEAR}").content.decode()
    assert group.code in html and 'data-section="members"' in html


def test_yearly_person_scores_api(demo_city, client, openapi_doc):
    log, g, p, handler = member_log()
    login_client(client, "leader")
    body = client.get(f"/api/v1/reviews/scores?{YEAR}").json()
    assert_matches_openapi(openapi_doc, "/api/v1/reviews/scores", "get", 200, body)
    persons = {r["employee_no"]: r for r in body["persons"]}
    assert persons[p.employee_no]["pay_score"] == _member(client, p.pk)["pay_score"]
    assert handler.employee_no in persons  # not only party members: everyone with a role


def test_rankings_with_previous_period_and_trend(demo_city, client, openapi_doc):
    log = Log()
    # March: u1 closes on time, u2 misses a deadline; February: nothing
    a = log.dispatched(T(2026, 3, 2, 9), log.u1)  # due 3 March 09:00
    log.feed_back(a, T(2026, 3, 2, 15))
    log.dispatched(T(2026, 3, 2, 9), log.u2)  # due 3 March 09:00, never fed back
    login_client(client, "leader")
    body = client.get("/api/v1/reviews/rankings?dim=unit&period=month&date=2026-03-10").json()
    assert_matches_openapi(openapi_doc, "/api/v1/reviews/rankings", "get", 200, body)
    rows = {r["code"]: r for r in body["rows"]}
    march = period_of("month", T(2026, 3, 10).date())
    ev = {r["unit_code"]: r["score"] for r in evaluation_for(march.start, march.end).units()}
    assert rows[log.u1.code]["score"] == ev[log.u1.code] and rows[log.u2.code]["score"] == ev[log.u2.code]
    # ranked among the units with activity only: u1 first, the overdue u2 second, the others unranked (无数据)
    assert (rows[log.u1.code]["rank"], rows[log.u2.code]["rank"]) == (1, 2)
    assert [r["code"] for r in body["rows"][:2]] == [log.u1.code, log.u2.code]
    assert all(r["rank"] is None and r["score"] is None and not r["has_data"] for r in body["rows"][2:])
    # February had no activity: no previous rank, no change
    assert rows[log.u2.code]["previous_rank"] is None and rows[log.u2.code]["rank_change"] is None
    assert rows[log.u2.code]["score_change"] is None
    assert sum(body["grades"].values()) == len(rows)
    assert body["trend"]["categories"] == ["2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"]
    assert len(body["trend"]["series"]) == 2  # the top five with a rank: the two units with activity
    for dim in ("grid", "district", "branch", "position"):
        r = client.get(f"/api/v1/reviews/rankings?dim={dim}&period=month&date=2026-03-10")
        assert r.status_code == 200 and r.json()["rows"], dim
    html = client.get("/assessment/reviews/rankings/?dim=unit&period=month&date=2026-03-10").content.decode()
    assert 'data-chart="trend"' in html and f"unit={log.u2.code}" in html
    wb = load_workbook(io.BytesIO(client.get("/assessment/reviews/rankings.xlsx?dim=unit&period=month&date=2026-03-10").content))
    xrows = list(wb.active.iter_rows(values_only=True))
    assert [(r[0], r[1], r[3]) for r in xrows[1:]] == [(r["rank"], r["code"], r["score"] if r["has_data"] else "无数据")
                                                       for r in body["rows"]]
