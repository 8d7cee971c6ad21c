"""The periodic reviews (日讲评 … 年考核) on event logs written by the case service: figures, Asia/Shanghai midnight, the API
schema, pages, print and Excel exports with the same numbers."""
import io

import pytest
from django.test import override_settings
from openpyxl import load_workbook

from eval_helpers import T, Log, set_stage_limit
from test_reviews_support import by_first, deduction, section, summary
from ug_testing import assert_matches_openapi, login_client
from urbangrid.assessment.evaluation.evaluate import evaluation_for
from urbangrid.assessment.periods import period_of
from urbangrid.catalog.models import CatalogClass
from urbangrid.worktime import clock as wt

pytestmark = pytest.mark.django_db


def xl(value):
    return None if value == "" else value  # an empty text cell reads back as None


def api(client, path, status=200):
    r = client.get(path)
    assert r.status_code == status, r.content[:500]
    return r.json()


def daily_log():
    """2026-03-02 (a Monday): reports either side of both midnights, a self-handled case closed that day, open
    cases. Every step through the case service; the lights are those of the clocks the engine left."""
    log = Log()
    g = log.grid.responsibility_grid
    # a: reported, filed and dispatched to u1 in the last seconds of Sunday 1 March — the day before; still
    # handling, overdue: 1 工作日 from Sunday night is Monday 17:30
    a = log.case(T(2026, 3, 1, 23, 59, 56))
    log.ev(a, "accept", T(2026, 3, 1, 23, 59, 57))
    log.ev(a, "file", T(2026, 3, 1, 23, 59, 58))
    log.dispatch(a, T(2026, 3, 1, 23, 59, 59), log.u1)
    # b: reported at midnight: counts for 2 March; filed that night, dispatched to u1 at 09:00 (due 3 March
    # 09:00): overdue now
    b = log.case(T(2026, 3, 2, 0, 0))
    log.ev(b, "accept", T(2026, 3, 2, 0, 0, 1))
    log.ev(b, "file", T(2026, 3, 2, 0, 0, 2))
    log.dispatch(b, T(2026, 3, 2, 9), log.u1)
    # c: reported one second before the next midnight, filed just after it; its dispatch clock still runs (a
    # dispatch limit of 999,999 自然时 — into the 2140s — while it is filed, so it stays green whenever the test
    # runs; calendar hours, as a limit of centuries in 工作日 is walked day by day, seconds a case)
    c = log.case(T(2026, 3, 2, 23, 59, 59))
    log.ev(c, "accept", T(2026, 3, 2, 23, 59, 59, 500000))
    old = set_stage_limit("dispatch", 999999, wt.CALENDAR_HOURS)
    log.ev(c, "file", T(2026, 3, 3, 0, 0))
    set_stage_limit("dispatch", *old)
    # d: reported (as self-handled) in February, accepted and closed on 2 March: 2 March's filing is b's
    d = log.case(T(2026, 2, 20, 9), self_handled=True)
    log.ev(d, "accept", T(2026, 3, 2, 10))
    log.ev(d, "close", T(2026, 3, 2, 16))
    return log, g, (a, b, c, d)


def test_daily_review_by_grid_unit_open_and_overdue(demo_city, client):
    log, g, (a, b, c, d) = daily_log()
    login_client(client, "leader")
    body = api(client, "/api/v1/reviews/daily?period=day&date=2026-03-02")
    assert body["period"]["first_day"] == "2026-03-02" and body["period"]["last_day"] == "2026-03-02"
    s = summary(body)
    assert (s["reported"], s["filed"], s["closed"], s["still_open"], s["overdue_now"]) == (2, 1, 1, 2, 2)
    grid = by_first(section(body, "by_grid"))[g.code]
    assert (grid["reported"], grid["filed"], grid["closed"], grid["open"], grid["red"], grid["yellow"]) == (2, 1, 1, 2, 1, 0)
    unit = by_first(section(body, "by_unit"))[log.u1.code]
    assert (unit["dispatched"], unit["handled"], unit["open"], unit["red"]) == (1, 0, 2, 2)
    still = by_first(section(body, "still_open"))
    assert set(still) == {b.number, c.number}
    assert still[b.number]["light_label"] == "红灯" and still[c.number]["light_label"] == "绿灯"
    overdue = section(body, "overdue")
    assert [r["cells"]["number"] for r in overdue["rows"]] == [a.number, b.number]  # by deadline
    assert overdue["rows"][0]["links"]["number"] == f"/cases/{a.number}/"
    # drill-down: the grid's figure links to the case list with the grid and the day
    link = section(body, "by_grid")["rows"][0]["links"]["reported"]
    assert f"grid={g.code}" in link and "date_from=2026-03-02" in link and "date_to=2026-03-02" in link
    # the day before sees a only; the day after c's filing
    prev = api(client, "/api/v1/reviews/daily?period=day&date=2026-03-01")
    assert summary(prev)["reported"] == 1
    nxt = api(client, "/api/v1/reviews/daily?period=day&date=2026-03-03")
    assert (summary(nxt)["reported"], summary(nxt)["filed"]) == (0, 1)


def test_daily_review_defaults_to_yesterday(demo_city, client):
    from datetime import timedelta

    from django.utils import timezone

    from urbangrid.worktime.clock import TZ

    login_client(client, "leader")
    body = api(client, "/api/v1/reviews/daily")
    assert body["period"]["first_day"] == str((timezone.now().astimezone(TZ) - timedelta(days=1)).date())


def test_weekly_inspection_supervised_rework_deductions(demo_city, client):
    log = Log()
    g = log.grid.responsibility_grid
    e = log.dispatched(T(2026, 3, 2, 9), log.u1)
    log.ev(e, "supervise", T(2026, 3, 3, 10))
    log.ev(e, "supervise", T(2026, 3, 4, 10))
    log.ev(e, "supervise", T(2026, 3, 9, 0, 0))  # next Monday: another week
    log.feed_back(e, T(2026, 3, 5, 9))
    log.check(e, T(2026, 3, 5, 10), passed=False)  # 返工: handling again
    deduction("grid", T(2026, 3, 3, 10), 2, grid=g)
    deduction("grid", T(2026, 3, 9, 0, 0), 5, grid=g)  # next week
    login_client(client, "leader")
    body = api(client, "/api/v1/reviews/weekly?period=week&date=2026-03-04")
    assert body["period"]["first_day"] == "2026-03-02" and body["period"]["last_day"] == "2026-03-08"
    s = summary(body)
    assert (s["supervised"], s["rework"]) == (2, 1)
    assert by_first(section(body, "supervised"))[e.number]["times"] == 2
    assert by_first(section(body, "rework"))[e.number]["times"] == 1
    week = period_of("week", T(2026, 3, 4).date())
    expected = {r["unit_code"]: r for r in evaluation_for(week.start, week.end).units()}[log.u1.code]
    row = by_first(section(body, "units"))[log.u1.code]
    assert (row["filed"], row["rework"], row["score"], row["grade"]) == (1, 1, expected["score"], expected["grade"])
    ded = [r["cells"] for r in section(body, "deductions")["rows"] if r["cells"]["target_label"] == "责任网格"]
    assert len(ded) == 1 and ded[0]["points"] == 2 and ded[0]["score"] == 98
    assert {r["cells"]["code"] for r in section(body, "districts")["rows"]}  # every district listed


def _classes():
    return list(CatalogClass.objects.order_by("pk")[:2])


def test_monthly_summary_trend_and_top_classes(demo_city, client):
    log = Log()
    k1, k2 = _classes()
    feb = log.case(T(2026, 2, 27, 9), cls=k1)
    log.ev(feb, "accept", T(2026, 2, 27, 9, 30))
    log.ev(feb, "file", T(2026, 2, 27, 10))
    for i, k in enumerate([k1, k2, k2]):
        c = log.case(T(2026, 3, 2 + i, 9), cls=k)
        log.ev(c, "accept", T(2026, 3, 2 + i, 9, 30))
        log.ev(c, "file", T(2026, 3, 2 + i, 10))
    log.case(T(2026, 3, 31, 23, 59))  # still March in Shanghai
    login_client(client, "leader")
    body = api(client, "/api/v1/reviews/monthly?period=month&date=2026-03-10")
    trend = {r["cells"]["indicator"]: r["cells"] for r in section(body, "trend")["rows"]}
    assert (trend["上报数"]["current"], trend["上报数"]["previous"], trend["上报数"]["change"]) == (4, 1, 3)
    assert (trend["立案数"]["current"], trend["立案数"]["previous"]) == (3, 1)
    classes = section(body, "classes")["rows"]
    assert [(r["cells"]["class_code"], r["cells"]["filed"], r["cells"]["previous"]) for r in classes] == [
        (k2.code, 2, 0), (k1.code, 1, 1)]
    grades = by_first(section(body, "grades"))
    units = section(body, "units")["rows"]
    assert sum(v for k, v in grades["部门"].items() if k.startswith("grade_")) == len(units)
    positions = section(body, "positions")["rows"]
    assert sum(v for k, v in grades["岗位"].items() if k.startswith("grade_")) == len(positions)
    assert body["charts"]["classes"]["series"][0]["data"][0] == 2


def test_quarterly_month_by_month_hotspots_recurring_backlog(demo_city, client):
    log = Log()
    g = log.grid.responsibility_grid
    jan = log.dispatched(T(2026, 1, 5, 9), log.u1, source="inspector")  # reported in the grid on 5 January
    log.feed_back(jan, T(2026, 1, 5, 15))
    log.check(jan, T(2026, 1, 5, 15, 30))
    log.ev(jan, "close", T(2026, 2, 27, 16))  # closed within the 30 days before m2's report
    m1 = log.case(T(2026, 3, 2, 8))  # elsewhere in the grid: not a recurrence; open and overdue
    m2 = log.case(T(2026, 3, 2, 8), place_of=jan)  # where jan was: the report records the recurrence (反复)
    assert m2.recurrence_of_id == jan.pk and m1.recurrence_of_id is None
    for c in (m1, m2):
        log.ev(c, "accept", T(2026, 3, 2, 8, 20))
        log.ev(c, "file", T(2026, 3, 2, 8, 40))
        log.dispatch(c, T(2026, 3, 2, 9), log.u1)  # due 3 March 09:00
    log.feed_back(m2, T(2026, 3, 2, 15))
    log.close(m2, T(2026, 3, 2, 16))  # m2 no longer open: the unit's backlog is m1
    log.case(T(2026, 2, 2, 8), grid=log.other_grid)  # by that grid's inspector
    login_client(client, "leader")
    body = api(client, "/api/v1/reviews/quarterly?period=quarter&date=2026-02-14")
    assert body["period"]["first_day"] == "2026-01-01" and body["period"]["last_day"] == "2026-03-31"
    units = section(body, "units")
    assert [c["label"] for c in units["columns"][-3:]] == ["2026-01", "2026-02", "2026-03"]
    row = by_first(units)[log.u1.code]
    assert row["filed"] == 3
    months = [period_of("month", T(2026, m, 10).date()) for m in (1, 2, 3)]
    scores = [{r["unit_code"]: r for r in evaluation_for(p.start, p.end).units()}[log.u1.code]["score"] for p in months]
    assert [row["m1"], row["m2"], row["m3"]] == scores
    series = {s["name"]: s["data"] for s in body["charts"]["months"]["series"]}
    assert series[log.u1.name] == [1, 0, 2]
    hot = by_first(section(body, "hotspots"))
    assert (hot[g.code]["reported"], hot[g.code]["recurring"]) == (3, 1)  # jan, m1, m2; m2 recurs
    assert hot[log.other_grid.responsibility_grid.code]["reported"] == 1
    assert list(hot)[0] == g.code  # most reports first
    rec = section(body, "recurring")["rows"]
    assert rec[0]["cells"]["grid"] == g.code and rec[0]["cells"]["recurring"] == 1
    backlog = by_first(section(body, "backlog"))
    assert backlog[log.u1.code]["overdue"] == 1
    assert section(body, "backlog")["rows"][0]["links"]["overdue"] == f"/cases/?unit={log.u1.code}&light=red"


def test_yearly_assessment_scores_awards_and_weights(demo_city, client):
    log = Log()
    c = log.dispatched(T(2026, 3, 2, 9), log.u1)  # reported (a public report) on 2 March; due 3 March 09:00
    log.feed_back(c, T(2026, 3, 4, 9))  # late
    deduction("unit", T(2026, 5, 1, 9), 5, unit=log.u1)
    log.case(T(2026, 3, 31, 23, 59))  # March in Shanghai, 15:59 UTC
    log.case(T(2026, 4, 1, 0, 0))  # April in Shanghai, still 31 March in UTC
    login_client(client, "leader")
    body = api(client, "/api/v1/reviews/yearly?period=year&date=2026-06-01")
    year = period_of("year", T(2026, 6, 1).date())
    ev = {r["unit_code"]: r for r in evaluation_for(year.start, year.end).units()}
    units = by_first(section(body, "units"))
    u1 = units[log.u1.code]
    assert u1["eval_score"] == ev[log.u1.code]["score"] and u1["deduction_score"] == 95
    assert u1["pay_score"] == round((70 * ev[log.u1.code]["score"] + 30 * 95) / 100, 2)
    awards = [r["cells"]["pay_score"] for r in section(body, "unit_awards")["rows"]]
    bottom = [r["cells"]["pay_score"] for r in section(body, "unit_bottom")["rows"]]
    # candidates among the units with activity only: u1 alone (the bureau, sections and idle teams have 无数据)
    active = [r for r in units.values() if r["pay_score"] is not None]
    assert [r["code"] for r in active] == [log.u1.code]
    assert awards == sorted(awards, reverse=True) and bottom == sorted(bottom) and len(awards) == min(10, len(active))
    assert bottom[0] == min(r["pay_score"] for r in active)
    assert u1["pay_score"] in bottom
    assert body["charts"]["trend"]["categories"][0] == "2026-01" and len(body["charts"]["trend"]["categories"]) == 12
    # reports by Asia/Shanghai month: c's and the one at 23:59 on 31 March in March, the one at midnight in April
    assert body["charts"]["trend"]["series"][0]["data"][1:5] == [0, 2, 1, 0]
    assert body["charts"]["trend"]["series"][2]["data"][2] == 0  # no close events
    three = api(client, "/api/v1/reviews/yearly?period=year&date=2026-06-01&top=3")
    assert [r["cells"]["pay_score"] for r in section(three, "unit_bottom")["rows"]] == bottom[:3]
    assert len(section(three, "person_awards")["rows"]) == 3
    with override_settings(URBANGRID_REVIEW_WEIGHTS={"unit": {"evaluation": 100, "deductions": 0}}):
        body = api(client, "/api/v1/reviews/yearly?period=year&date=2026-06-01")
    assert by_first(section(body, "units"))[log.u1.code]["pay_score"] == ev[log.u1.code]["score"]


def shown(row, key):
    """An API cell as the workbook shows it: score and grade of a subject without activity read "无数据"."""
    if key in ("score", "grade", "pay_score", "eval_score") and row.get("has_data") is False:
        return "无数据"
    return xl(row["cells"][key])


@pytest.mark.parametrize("kind,query", [
    ("daily", "period=day&date=2026-03-02"), ("weekly", "period=week&date=2026-03-02"),
    ("monthly", "period=month&date=2026-03-02"), ("quarterly", "period=quarter&date=2026-03-02"),
    ("yearly", "period=year&date=2026-03-02"), ("monthly", "from=2026-02-25&to=2026-03-03"),
])
def test_page_print_excel_and_api_agree(demo_city, client, openapi_doc, kind, query):
    daily_log()
    login_client(client, "leader")
    body = api(client, f"/api/v1/reviews/{kind}?{query}")
    assert_matches_openapi(openapi_doc, f"/api/v1/reviews/{kind}", "get", 200, body)
    page = client.get(f"/assessment/reviews/{kind}/?{query}")
    assert page.status_code == 200
    html = page.content.decode()
    for sec in body["sections"]:
        assert f'data-section="{sec["key"]}"' in html
    assert 'id="review-charts"' in html and "<script>" not in html.replace('<script src=', '')
    printed = client.get(f"/assessment/reviews/{kind}/print/?{query}")
    assert printed.status_code == 200 and "print.css" in printed.content.decode()
    for sec in body["sections"]:
        assert f'data-section="{sec["key"]}"' in printed.content.decode()
    x = client.get(f"/assessment/reviews/{kind}.xlsx?{query}")
    assert x.status_code == 200
    wb = load_workbook(io.BytesIO(x.content))
    sheets = wb.worksheets[1:] if body["summary"] else wb.worksheets
    if body["summary"]:
        got = {r[0]: r[1] for r in wb.worksheets[0].iter_rows(min_row=2, values_only=True)}
        assert got == {s["label"]: s["value"] for s in body["summary"]}
    assert len(sheets) == len(body["sections"])
    for ws, sec in zip(sheets, body["sections"]):
        rows = list(ws.iter_rows(values_only=True))
        assert list(rows[0]) == [c["label"] for c in sec["columns"]]
        assert [list(r) for r in rows[1:]] == [[shown(r, c["key"]) for c in sec["columns"]] for r in sec["rows"]]
        for i, col in enumerate(sec["columns"], start=1):
            if col["kind"] == "rate" and len(rows) > 1:
                assert ws.cell(row=2, column=i).number_format == "0.00%"


def test_page_numbers_are_the_api_numbers(demo_city, client):
    log, g, _cases = daily_log()
    login_client(client, "leader")
    html = client.get("/assessment/reviews/daily/?period=day&date=2026-03-02").content.decode()
    assert 'data-kpi="reported"' in html
    import re

    m = re.search(r'data-kpi="reported".*?rv-kpi-value">(\d+)<', html, re.S)
    assert m and m.group(1) == "2"
    row = re.search(rf'<td class="k-text" data-key="grid">{g.code}</td>(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r'data-key="(\w+)">(?:<a href="[^"]*">)?([^<]*)<', row)
    got = dict(cells)
    assert (got["reported"], got["filed"], got["closed"], got["open"], got["red"]) == ("2", "1", "1", "2", "1")


def test_review_index_links(demo_city, client):
    login_client(client, "leader")
    html = client.get("/assessment/reviews/").content.decode()
    for kind in ("daily", "weekly", "monthly", "quarterly", "yearly"):
        assert f"/assessment/reviews/{kind}/" in html
    assert "/assessment/members/" in html and "/assessment/party/" in html and "/assessment/reviews/rankings/" in html
