"""The evaluation API, the page, the Excel exports, periods and the scheme."""
import io
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from eval_helpers import T, Log
from ug_testing import assert_matches_openapi, login_client
from urbangrid.assessment.periods import PeriodError, parse_period, period_of
from urbangrid.assessment.models import EvaluationScheme
from urbangrid.worktime.clock import TZ

pytestmark = pytest.mark.django_db
Q = "period=month&date=2026-03-10"


def small_log():
    log = Log()
    a = log.case(T(2026, 3, 2, 8, 40))  # by the grid's inspector
    log.ev(a, "accept", T(2026, 3, 2, 8, 50))
    log.ev(a, "file", T(2026, 3, 2, 9))
    log.dispatch(a, T(2026, 3, 2, 9, 10), log.u1)  # due 3 March 09:10 (1 工作日)
    log.feed_back(a, T(2026, 3, 3, 10))  # late
    log.close(a, T(2026, 3, 3, 11, 30))  # sent to check 11:00, checked 11:10, closed within the hour: on time
    # b is filed in February (March has a's filing only) and dispatched on 5 March: due 6 March 09:00, never fed back
    b = log.filed(T(2026, 2, 27, 16), grid=log.other_grid)
    log.dispatch(b, T(2026, 3, 5, 9), log.u2)
    return log


# --- periods --------------------------------------------------------------------------------------

def test_periods():
    assert period_of("month", date(2026, 12, 5)).last_day == date(2026, 12, 31)
    q = period_of("quarter", date(2026, 11, 2))
    assert (q.first_day, q.last_day) == (date(2026, 10, 1), date(2026, 12, 31))
    w = period_of("week", date(2026, 3, 4))  # Wednesday
    assert (w.first_day, w.last_day) == (date(2026, 3, 2), date(2026, 3, 8))
    y = period_of("year", date(2025, 6, 1))
    assert y.start == datetime(2025, 1, 1, tzinfo=TZ) and y.end == datetime(2026, 1, 1, tzinfo=TZ)
    d = period_of("day", date(2026, 3, 1))
    assert d.start.astimezone(TZ).hour == 0 and (d.end - d.start) == timedelta(days=1)
    assert d.start == datetime(2026, 2, 28, 16, tzinfo=dt_timezone.utc)  # local midnight = 16:00 UTC the day before
    custom = parse_period(date_from="2026-03-01", date_to="2026-03-31")
    assert custom.start == T(2026, 3, 1) and custom.end == T(2026, 4, 1)  # the last day is included
    now = T(2026, 3, 10, 12)
    assert parse_period(now=now).first_day == date(2026, 3, 1)  # this month by default
    for kwargs in ({"date_from": "2026-03-10", "date_to": "2026-03-01"}, {"date_from": "2026-03-01"},
                   {"period": "decade"}, {"period": "month", "day": "10/03/2026"}, {"period": "day", "day": "2026-03-11"}):
        with pytest.raises(PeriodError):
            parse_period(now=now, **kwargs)


# --- API ------------------------------------------------------------------------------------------

def test_api_permissions(demo_city, client):
    small_log()
    assert Client().get(f"/api/v1/evaluation/units?{Q}").status_code == 401
    login_client(client, "inspector")  # no assessment.view
    for path in ("units", "positions", "regions"):
        resp = client.get(f"/api/v1/evaluation/{path}?{Q}")
        assert resp.status_code == 403, path
    client.logout()
    login_client(client, "leader")
    for path in ("units", "positions", "regions"):
        assert client.get(f"/api/v1/evaluation/{path}?{Q}").status_code == 200


def test_api_bad_periods(demo_city, client):
    login_client(client, "leader")
    future = (timezone.localdate() + timedelta(days=40)).replace(day=1)
    cases = {
        f"period=month&date={future}": "尚未开始",
        "from=2026-03-10&to=2026-03-01": "晚于",
        "from=2026-03-10": "同时提供",
        "period=fortnight": "day、week",
        "period=month&date=2026-13-01": "YYYY-MM-DD",
    }
    for query, text in cases.items():
        resp = client.get(f"/api/v1/evaluation/units?{query}")
        assert resp.status_code == 422, query
        assert text in resp.json()["detail"], (query, resp.json())
    resp = client.get(f"/api/v1/evaluation/regions?{Q}&level=planet")
    assert resp.status_code == 422 and "grid" in resp.json()["detail"]


def test_api_bodies(demo_city, client, openapi_doc):
    log = small_log()
    login_client(client, "leader")
    body = client.get(f"/api/v1/evaluation/units?{Q}").json()
    assert body["period"]["first_day"] == "2026-03-01" and body["period"]["last_day"] == "2026-03-31"
    assert_matches_openapi(openapi_doc, "/api/v1/evaluation/units", "get", 200, body)
    u1 = next(r for r in body["items"] if r["unit_code"] == log.u1.code)
    assert (u1["filed"], u1["closed"], u1["handled"], u1["ontime_handled"]) == (1, 1, 1, 0)
    assert u1["ontime_handle_rate"] == 0 and u1["close_rate"] == 1
    u2 = next(r for r in body["items"] if r["unit_code"] == log.u2.code)
    assert u2["due_closed"] == 1 and u2["close_rate"] == 0  # b's deadline passed unhandled
    body = client.get(f"/api/v1/evaluation/positions?{Q}").json()
    assert_matches_openapi(openapi_doc, "/api/v1/evaluation/positions", "get", 200, body)
    shift = next(r for r in body["items"] if r["role"] == "shift_lead" and r["person_id"] == log.shift.pk)
    assert shift["indicators"]["filed"] == 1 and shift["indicators"]["ontime_close_rate"] == 1
    for level in ("grid", "responsibility_grid", "community", "street", "district"):
        body = client.get(f"/api/v1/evaluation/regions?{Q}&level={level}").json()
        assert body["level"] == level
        assert sum(r["filed"] for r in body["items"]) == 1
    assert_matches_openapi(openapi_doc, "/api/v1/evaluation/regions", "get", 200, body)
    body = client.get("/api/v1/evaluation/units?from=2026-03-03&to=2026-03-03").json()
    u1 = next(r for r in body["items"] if r["unit_code"] == log.u1.code)
    assert (u1["filed"], u1["handled"]) == (0, 1)


# --- page and Excel -----------------------------------------------------------------------------

def _sheet_rows(content, sheet=None):
    wb = load_workbook(io.BytesIO(content))
    ws = wb[sheet] if sheet else wb.active
    rows = list(ws.iter_rows(values_only=True))
    return rows[0], rows[1:]


def _num(value):
    return None if value is None else float(value) if isinstance(value, (int, float)) else value


def _api_cell(item, key):
    """The API's value as the workbook shows it: a subject without activity has "无数据" for score and grade."""
    if key in ("score", "grade") and item.get("has_data") is False:
        return "无数据"
    return item[key]


def test_page_and_excel_match_api(demo_city, client):
    log = small_log()
    assert client.get("/assessment/").status_code == 302  # login first
    login_client(client, "inspector")
    assert client.get("/assessment/").status_code == 403
    assert client.get(f"/assessment/export/units.xlsx?{Q}").status_code == 403
    client.logout()
    login_client(client, "leader")
    page = client.get(f"/assessment/?{Q}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "部门评价" in html and "岗位评价" in html and "区域评价" in html and "grade-" in html
    assert log.u1.name in html and 'href="/assessment/export/units.xlsx?' in html
    bad = client.get("/assessment/?from=2026-03-10&to=2026-03-01")
    assert bad.status_code == 422 and "晚于" in bad.content.decode()
    assert client.get(f"/assessment/export/nothing.xlsx?{Q}").status_code == 404
    assert client.get("/assessment/export/units.xlsx?period=eon").status_code == 422

    api = client.get(f"/api/v1/evaluation/units?{Q}").json()["items"]
    resp = client.get(f"/assessment/export/units.xlsx?{Q}")
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    header, rows = _sheet_rows(resp.content)
    assert header[:3] == ("单位编码", "单位名称", "立案数") and header[-2:] == ("综合指标值", "等级")
    keys = ["unit_code", "unit_name", "filed", "closed", "due_closed", "close_rate", "handled", "ontime_handled",
            "due_handled", "ontime_handle_rate", "rework", "rework_rate", "filed_score", "close_rate_score",
            "ontime_handle_rate_score", "rework_rate_score", "score", "grade"]
    assert len(rows) == len(api)
    for row, item in zip(rows, api):
        assert [_num(v) for v in row] == [_num(_api_cell(item, k)) for k in keys]

    api = client.get(f"/api/v1/evaluation/regions?{Q}&level=street").json()["items"]
    header, rows = _sheet_rows(client.get(f"/assessment/export/regions.xlsx?{Q}&level=street").content)
    keys = ["code", "name", "region_class", "verified_reports", "filed", "report_rate", "closed", "due_closed",
            "close_rate", "ontime_closed", "ontime_close_rate", "avg_handle_hours", "self_handled_closed", "score", "grade"]
    assert len(rows) == len(api)
    for row, item in zip(rows, api):
        assert [_num(v) for v in row] == [_num(_api_cell(item, k)) for k in keys]

    api = client.get(f"/api/v1/evaluation/positions?{Q}").json()["items"]
    content = client.get(f"/assessment/export/positions.xlsx?{Q}").content
    header, rows = _sheet_rows(content, "值班长")
    shift = [r for r in api if r["role"] == "shift_lead"]
    assert len(rows) == len(shift)
    for row, item in zip(rows, shift):
        assert row[0] == item["employee_no"] and row[1] == item["name"]
        assert row[2] == item["indicators"]["filed"]
        assert _num(row[-2]) == _num(_api_cell(item, "score")) and row[-1] == _api_cell(item, "grade")
    assert load_workbook(io.BytesIO(content)).sheetnames == ["巡查员", "受理员", "值班长", "派遣员"]


# --- the scheme ---------------------------------------------------------------------------------

def test_default_scheme_seeded_and_validated(admin_client):
    scheme = EvaluationScheme.objects.get(active=True)
    assert scheme.unit_weights == {"filed": 10, "close_rate": 30, "ontime_handle_rate": 30, "rework_rate": 30}
    assert scheme.position_weights["inspector"]["valid_report_rate"] == 40
    assert sum(scheme.region_weights.values()) == 100
    assert [b["grade"] for b in scheme.grade_bands] == list("ABCDE")
    scheme.full_clean()
    scheme.unit_weights = {"filed": 10, "close_rate": 30, "ontime_handle_rate": 30, "rework_rate": 20}
    with pytest.raises(ValidationError) as exc:
        scheme.full_clean()
    assert "unit_weights" in exc.value.message_dict
    scheme.unit_weights = {"filed": 100}
    scheme.accept_bands = [{"max": 3, "score": 1}]
    with pytest.raises(ValidationError) as exc:
        scheme.full_clean()
    assert {"unit_weights", "accept_bands"} <= set(exc.value.message_dict)
    assert admin_client.get("/admin/assessment/evaluationscheme/").status_code == 200
    assert admin_client.get(f"/admin/assessment/evaluationscheme/{scheme.pk}/change/").status_code == 200
