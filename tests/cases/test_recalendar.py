"""A calendar that does not run out (issue 15, item 4) and the 处置 yellow share as a setting (item 5).

chinese_calendar 1.11 ends with the 2026 notice. A deadline counted into 2027 rests on the statutory holidays the
``holidays`` package computes, is marked 期限待确认 on the case page, the queues and the API, and moves — through
the workflow row ``recalendar``, with an event on the case — when the 2027 notice is imported (command or admin)
or a day is edited; the record still proves itself (``audit verify``). A bad notice file changes nothing."""
import io
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from urbangrid.cases import engine, services
from urbangrid.cases.models import Case, CaseEvent
from urbangrid.cases.replay import disagreements
from urbangrid.cases.workflow import Action
from urbangrid.catalog import responsibility
from urbangrid.catalog.models import CatalogClass, ResponsibilityRule
from urbangrid.org.models import RoleAssignment
from urbangrid.org.scope import actor_for
from urbangrid.worktime import clock as wt
from urbangrid.worktime.models import TimeLimitSetting, WorkCalendarDay
from urbangrid.worktime.notice import NoticeError, apply, read

from ug_testing import login_client

pytestmark = pytest.mark.django_db
INSIDE_WG01 = (117.2352, 31.8785)
BADGE = "期限待确认"
Kind, Source = WorkCalendarDay.Kind, WorkCalendarDay.Source

# A 2027 notice (made up for the test) that moves a day under the test case's clock: 元旦 1 – 4 January off
# (Monday the 4th bridged), made up on Saturday the 9th; the other holidays as the notices usually have them.
NOTICE_2027 = """date,kind,name
2027-01-01,holiday,元旦
2027-01-02,holiday,元旦
2027-01-03,holiday,元旦
2027-01-04,holiday,元旦
2027-01-09,makeup_workday,元旦
2027-02-05,holiday,春节
2027-02-06,holiday,春节
2027-02-07,holiday,春节
2027-02-08,holiday,春节
2027-02-09,holiday,春节
2027-02-10,holiday,春节
2027-02-11,holiday,春节
2027-02-12,holiday,春节
2027-02-20,makeup_workday,春节
2027-04-03,holiday,清明节
2027-04-04,holiday,清明节
2027-04-05,holiday,清明节
2027-05-01,holiday,劳动节
2027-05-02,holiday,劳动节
2027-05-03,holiday,劳动节
2027-05-04,holiday,劳动节
2027-05-05,holiday,劳动节
2027-04-25,makeup_workday,劳动节
2027-05-08,makeup_workday,劳动节
2027-06-09,holiday,端午节
2027-09-15,holiday,中秋节
2027-10-01,holiday,国庆节
2027-10-02,holiday,国庆节
2027-10-03,holiday,国庆节
2027-10-04,holiday,国庆节
2027-10-05,holiday,国庆节
2027-10-06,holiday,国庆节
2027-10-07,holiday,国庆节
2027-09-26,makeup_workday,国庆节
2027-10-09,makeup_workday,国庆节
"""


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=wt.TZ)


def actor(username):
    return actor_for(get_user_model().objects.get(username=username))


def handler_unit():
    return RoleAssignment.objects.get(person__user__username="unit_handler", role="unit_handler").unit.code


def handled_from(dispatched_at, limit=(Decimal("1"), wt.WORKING_DAYS)):
    """A case in WG01 dispatched to the demo unit at ``dispatched_at`` with a handling limit of ``limit`` (the
    class's rule set to it, no auto-dispatch), reported, accepted and filed an hour before."""
    cls = CatalogClass.objects.get(version__code="local-demo", code="0401")
    ResponsibilityRule.objects.filter(catalog_class=cls).update(time_limit_value=limit[0], time_limit_unit=limit[1],
                                                                auto_dispatch=False)
    responsibility.invalidate()
    case, _ = services.report(actor("inspector"), catalog_class=cls, lon=INSIDE_WG01[0], lat=INSIDE_WG01[1],
                              description="路面塌陷", source="inspector", require_photos=False,
                              at=dispatched_at - timedelta(hours=1))
    services.transition(actor("intake_operator"), case.number, Action.ACCEPT, at=dispatched_at - timedelta(minutes=40))
    services.transition(actor("shift_lead"), case.number, Action.FILE, at=dispatched_at - timedelta(minutes=20))
    services.transition(actor("dispatcher"), case.number, Action.DISPATCH, {"unit": handler_unit()}, at=dispatched_at)
    return Case.objects.get(pk=case.pk)


def proves_itself(case, now):
    events = list(CaseEvent.objects.filter(case=case).order_by("seq"))
    assert disagreements(Case.objects.get(pk=case.pk), events, now) == []
    return events


def test_the_two_packages_cover_what_the_docs_say():
    import chinese_calendar

    from urbangrid.worktime import statutory

    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 4))
    assert chinese_calendar.is_workday(date(2026, 12, 31))
    assert statutory.statutory_days(2027)[date(2027, 1, 1)] == "元旦"
    assert statutory.supported(1950) and statutory.supported(2100) and not statutory.supported(2101)
    assert not statutory.is_workday(date(2027, 1, 1)) and statutory.is_workday(date(2027, 1, 4))
    assert date(2027, 1, 1).weekday() == 4  # a Friday: + 1 working day from Thursday the 31st is Monday the 4th


@pytest.mark.parametrize("seeded", [True, False], ids=["2027-seeded", "2027-missing"])
def test_new_year_2027_is_a_holiday_and_the_deadline_over_it_is_unconfirmed(demo_city, seeded):
    if not seeded:  # no row for 2027 at all: the calendar falls back to the statutory days, not Monday–Friday
        WorkCalendarDay.objects.filter(date__year=2027).delete()
    else:
        assert WorkCalendarDay.objects.get(date=date(2027, 1, 1)).source == Source.HOLIDAYS
    cal = wt.load_calendar()
    assert wt.deadline(at("2026-12-31 10:00"), 1, wt.WORKING_DAYS, cal) == at("2027-01-04 10:00")
    assert cal.unconfirmed_between(at("2026-12-31 10:00"), at("2027-01-04 10:00"))
    assert not cal.unconfirmed_between(at("2026-12-01 10:00"), at("2026-12-31 17:30"))

    case = handled_from(at("2026-12-31 10:00"))
    assert (case.stage, case.stage_deadline, case.handle_deadline) == ("handle", at("2027-01-04 10:00"),
                                                                       at("2027-01-04 10:00"))
    assert services.deadline_unconfirmed(case)
    # a case whose clock stays inside 2026 is not marked
    settled = handled_from(at("2026-12-28 10:00"))
    assert settled.stage_deadline == at("2026-12-29 10:00") and not services.deadline_unconfirmed(settled)

    dispatcher = login_client(Client(), "dispatcher")
    page = dispatcher.get(f"/cases/{case.number}/").content.decode()
    assert BADGE in page and 'data-unconfirmed="1"' in page and "尚未由国务院放假通知确认" in page  # the tooltip
    assert BADGE not in dispatcher.get(f"/cases/{settled.number}/").content.decode()
    bench = dispatcher.get("/cases/", {"state": "handling"}).content.decode()
    row = bench[bench.index(f'data-number="{case.number}"'):]
    assert BADGE in row[:row.index("</tr>")]
    row = bench[bench.index(f'data-number="{settled.number}"'):]
    assert BADGE not in row[:row.index("</tr>")]
    api = dispatcher.get(f"/api/v1/cases/{case.number}").json()
    assert api["deadline_unconfirmed"] is True and api["stage_deadline"].startswith("2027-01-04T")
    assert dispatcher.get(f"/api/v1/cases/{settled.number}").json()["deadline_unconfirmed"] is False


def verify_task_from(sent_at):
    """A hotline report in WG01 sent to its inspector for verification at ``sent_at`` (核实: half a working hour)."""
    cls = CatalogClass.objects.get(version__code="local-demo", code="0102")
    case, _ = services.report(actor("intake_operator"), catalog_class=cls, lon=INSIDE_WG01[0], lat=INSIDE_WG01[1],
                              description="市民来电：路边有垃圾", source="hotline_12345", reporter_name="市民",
                              reporter_contact="13800000000", require_photos=False, at=sent_at - timedelta(minutes=5))
    services.transition(actor("intake_operator"), case.number, Action.SEND_VERIFY, at=sent_at)
    return Case.objects.get(pk=case.pk)


def _row(page, number, end="</tr>"):
    row = page[page.index(f'data-number="{number}"'):]
    return row[:row.index(end)]


def test_the_badge_on_the_grid_page_and_the_inspector_tasks(demo_city):
    """期限待确认 wherever a deadline is shown: the grid page's open cases, the inspector's task list (the API the
    phone app renders it from; tests/browser/test_mobile.py renders it) and the task page."""
    case, settled = handled_from(at("2026-12-31 10:00")), handled_from(at("2026-12-28 10:00"))
    grid = login_client(Client(), "leader").get("/grids/WG01/").content.decode()
    assert BADGE in _row(grid, case.number) and 'data-unconfirmed="1"' in _row(grid, case.number)
    assert BADGE not in _row(grid, settled.number)

    task = verify_task_from(at("2026-12-31 17:20"))  # due Monday 4 January 08:50, across the unconfirmed 元旦
    assert task.stage_deadline == at("2027-01-04 08:50")
    plain = verify_task_from(at("2026-12-28 09:00"))  # due 09:30 the same day
    inspector = login_client(Client(), "inspector")
    items = {c["number"]: c for c in inspector.get("/api/v1/cases/todo", {"limit": 100}).json()["items"]}
    assert items[task.number]["deadline_unconfirmed"] is True and items[plain.number]["deadline_unconfirmed"] is False
    page = inspector.get(f"/m/tasks/{task.number}/").content.decode()
    assert "2027-01-04 08:50" in page and BADGE in page and "尚未由国务院放假通知确认" in page
    page = inspector.get(f"/m/tasks/{plain.number}/").content.decode()
    assert "2026-12-28 09:30" in page and BADGE not in page


def test_importing_the_2027_notice_moves_the_deadline_and_the_light_with_an_event(demo_city):
    case = handled_from(at("2026-12-31 10:00"))
    look = at("2027-01-04 09:00")  # the morning the old deadline falls on
    assert engine.light(case, look) == wt.YELLOW and case.stage_yellow_at == at("2027-01-04 08:36")
    events_before = case.version
    out = StringIO()
    path = _file("notice-2027.csv", NOTICE_2027)
    call_command("worktime", "import-notice", str(path), "--year", "2027", "--dry-run", stdout=out)
    assert "dry run" in out.getvalue() and Case.objects.get(pk=case.pk).version == events_before
    counts = apply(read(NOTICE_2027.encode(), 2027), at=at("2026-12-31 16:00"))
    assert counts["cases"] >= 1 and {date(2027, 1, 4), date(2027, 1, 9), date(2027, 2, 20)} <= set(counts["changed"])
    assert date(2027, 1, 1) not in counts["changed"]  # a statutory day off either way
    assert WorkCalendarDay.objects.get(date=date(2027, 1, 4)).source == Source.NOTICE

    case = Case.objects.get(pk=case.pk)
    assert case.stage_deadline == case.handle_deadline == at("2027-01-05 10:00")
    assert case.handle_first_deadline == at("2027-01-05 10:00")
    assert case.stage_yellow_at == at("2027-01-05 08:36") and engine.light(case, look) == wt.GREEN
    assert engine.light(case, at("2027-01-05 09:00")) == wt.YELLOW
    assert not services.deadline_unconfirmed(case)  # the notice stands behind every day of the span now
    last = CaseEvent.objects.filter(case=case).order_by("-seq").first()
    assert (last.seq, last.action, last.from_state, last.to_state) == (events_before + 1, Action.RECALENDAR, "handling",
                                                                       "handling")
    assert (last.stage, last.deadline, last.public, last.at) == ("handle", at("2027-01-05 10:00"), False,
                                                                 at("2026-12-31 16:00"))
    assert last.data["deadline_from"] == "2027-01-04T02:00:00+00:00" and "2027" in last.note
    proves_itself(case, at("2026-12-31 16:00"))
    call_command("audit", "verify", "--case", case.number, "--quiet", stdout=StringIO())
    # importing the same notice again moves nothing and records nothing
    assert apply(read(NOTICE_2027.encode(), 2027), at=at("2026-12-31 17:00"))["cases"] == 0
    assert Case.objects.get(pk=case.pk).version == events_before + 1

    # The loop goes on from the recomputed deadline: feedback on the 5th at 09:30 is on time.
    services.transition(actor("unit_handler"), case.number, Action.FEED_BACK, {"opinion": "已修复"},
                        at=at("2027-01-05 09:30"), require_photos=False)
    fed = CaseEvent.objects.filter(case=case, action=Action.FEED_BACK).get()
    assert fed.data["stopped"][0]["on_time"] is True
    proves_itself(case, at("2027-01-05 10:00"))


def test_the_command_imports_and_the_admin_edit_recomputes(demo_city, tmp_path):
    case = handled_from(at("2026-12-31 10:00"))
    out = StringIO()
    call_command("worktime", "import-notice", str(_file("n.csv", NOTICE_2027, tmp_path)), "--year", "2027", stdout=out)
    assert "1 open cases' deadlines recomputed" in out.getvalue()
    case = Case.objects.get(pk=case.pk)
    assert case.stage_deadline == at("2027-01-05 10:00")
    assert CaseEvent.objects.filter(case=case, action=Action.RECALENDAR).count() == 1

    # The city declares Tuesday the 5th a day off by hand in the admin: the deadline moves on to the 6th.
    admin = _admin_client()
    day = WorkCalendarDay.objects.get(date=date(2027, 1, 5))
    r = admin.post(f"/admin/worktime/workcalendarday/{day.pk}/change/",
                   {"date": "2027-01-05", "kind": "holiday", "holiday_name": "城市纪念日"})
    assert r.status_code == 302
    case = Case.objects.get(pk=case.pk)
    assert case.stage_deadline == at("2027-01-06 10:00")
    assert CaseEvent.objects.filter(case=case, action=Action.RECALENDAR).count() == 2
    proves_itself(case, at("2027-01-01 12:00"))


def test_the_admin_imports_a_notice_and_refuses_a_bad_one(demo_city):
    case = handled_from(at("2026-12-31 10:00"))
    admin = _admin_client()
    assert "导入放假通知" in admin.get("/admin/worktime/workcalendarday/").content.decode()
    assert admin.get("/admin/worktime/workcalendarday/import-notice/").status_code == 200
    bad = NOTICE_2027.replace("2027-01-09,makeup_workday", "2027-01-08,makeup_workday")
    r = admin.post("/admin/worktime/workcalendarday/import-notice/",
                   {"year": "2027", "file": SimpleUploadedFile("n.csv", bad.encode(), "text/csv")})
    assert r.status_code == 422 and "第 6 行" in r.content.decode() and "不是周六或周日" in r.content.decode()
    assert WorkCalendarDay.objects.get(date=date(2027, 1, 4)).source == Source.HOLIDAYS
    r = admin.post("/admin/worktime/workcalendarday/import-notice/",
                   {"year": "2027", "file": SimpleUploadedFile("n.csv", NOTICE_2027.encode(), "text/csv")})
    assert r.status_code == 302
    assert Case.objects.get(pk=case.pk).stage_deadline == at("2027-01-05 10:00")
    assert WorkCalendarDay.objects.filter(date__year=2027, source=Source.NOTICE).count() == 365


def test_a_bad_notice_is_refused_with_row_errors_and_changes_nothing(demo_city, tmp_path):
    case = handled_from(at("2026-12-31 10:00"))
    days_before = list(WorkCalendarDay.objects.filter(date__year=2027).values_list("date", "kind", "source"))
    bad = ("date,kind,name\n"
           "2027-01-01,holiday,元旦\n"
           "2026-12-31,holiday,元旦\n"          # row 3: not in 2027
           "2027-13-01,holiday,\n"               # row 4: not a date
           "2027-02-20,makeup_workday,春节\n"
           "2027-02-20,holiday,春节\n"           # row 6: both off and a working day
           "2027-01-01,holiday,元旦\n"           # row 7: twice
           "2027-01-05,makeup_workday,\n"        # row 8: a Tuesday
           "2027-02-06,rest,春节\n")             # row 9: unknown kind
    with pytest.raises(NoticeError) as refused:
        read(bad.encode(), 2027)
    errors = refused.value.errors
    assert [e.split("：")[0] for e in errors] == ["第 3 行", "第 4 行", "第 6 行", "第 7 行", "第 8 行", "第 9 行"]
    assert "不在 2027 年" in errors[0] and "无效" in errors[1] and "既是放假日又是调休上班日" in errors[2]
    assert "重复" in errors[3] and "不是周六或周日" in errors[4] and "类型“rest”无效" in errors[5]
    err = StringIO()
    with pytest.raises(CommandError, match="refused, nothing imported"):
        call_command("worktime", "import-notice", str(_file("bad.csv", bad, tmp_path)), "--year", "2027", stderr=err)
    assert "第 8 行" in err.getvalue()
    for data, problem in ((b"", "空"), (b"day,what\n2027-01-01,holiday\n", "表头"), (b"\xff\xfe", "UTF-8"),
                          (b"date,kind\n2027-02-20,makeup_workday\n", "没有放假日"),
                          (b'{"year": 2028, "days": []}', "不符"), (b"[1, 2]", "第 1 条")):
        with pytest.raises(NoticeError, match=problem):
            read(data, 2027, "x.json" if data.startswith((b"{", b"[")) else "x.csv")
    assert list(WorkCalendarDay.objects.filter(date__year=2027).values_list("date", "kind", "source")) == days_before
    after = Case.objects.get(pk=case.pk)
    assert (after.version, after.stage_deadline) == (case.version, case.stage_deadline)


def test_json_and_excel_notices_read_like_the_csv():
    from openpyxl import Workbook

    rows = [line.split(",") for line in NOTICE_2027.strip().splitlines()]
    expected = read(NOTICE_2027.encode(), 2027).days
    as_json = json.dumps({"year": 2027, "days": [dict(zip(rows[0], r)) for r in rows[1:]]}, ensure_ascii=False)
    assert read(as_json.encode(), 2027, "notice.json").days == expected
    wb = Workbook()
    wb.active.append(["日期", "类型", "名称"])
    for d, kind, name in rows[1:]:
        wb.active.append([date.fromisoformat(d), {"holiday": "放假", "makeup_workday": "调休上班"}[kind], name])
    buf = io.BytesIO()
    wb.save(buf)
    assert read(buf.getvalue(), 2027, "notice.xlsx").days == expected


def test_the_handle_yellow_share_is_a_setting(demo_city):
    default = handled_from(at("2026-12-28 10:00"))  # 1 working day: deadline Tue 29th 10:00
    assert default.stage_deadline == at("2026-12-29 10:00")
    assert default.stage_yellow_at == at("2026-12-29 08:36")  # 0.2 × 7 h = 1 h 24 min of working time before it
    row = TimeLimitSetting.objects.get(stage="handle")
    assert (row.value, row.unit, row.yellow_share) == (None, "", Decimal("0.2"))
    row.yellow_share = Decimal("0.5")
    row.full_clean()
    row.save()  # the signal drops the cached limits
    assert services.Context.load().limits.handle_yellow_share == Decimal("0.5")
    half = handled_from(at("2026-12-28 10:00"))
    assert half.stage_deadline == at("2026-12-29 10:00")
    assert half.stage_yellow_at == at("2026-12-28 15:30")  # 3 h 30 min of working time before the deadline
    assert engine.light(half, at("2026-12-28 16:30")) == wt.YELLOW
    assert engine.light(default, at("2026-12-28 16:30")) == wt.GREEN
    proves_itself(half, at("2026-12-28 16:30"))
    row.value = Decimal("3")  # its limit is the responsibility list's
    with pytest.raises(Exception, match="责任清单"):
        row.full_clean()


def test_an_overdue_flag_set_on_the_old_deadline_is_cleared_when_the_new_one_has_not_passed(demo_city):
    case = handled_from(at("2026-12-31 10:00"))
    from urbangrid.cases.sweep import sweep

    sweep(now=at("2027-01-04 11:00"))  # past the provisional deadline: flagged
    assert Case.objects.get(pk=case.pk).is_overdue
    apply(read(NOTICE_2027.encode(), 2027), at=at("2027-01-04 11:30"))  # the notice arrives late
    case = Case.objects.get(pk=case.pk)
    assert case.stage_deadline == at("2027-01-05 10:00") and not case.is_overdue
    assert engine.light(case, at("2027-01-04 11:30")) == wt.GREEN
    proves_itself(case, at("2027-01-04 11:30"))


def test_the_evaluation_follows_the_recomputed_handling_deadline():
    from urbangrid.assessment.evaluation.rules import handle_clocks

    start, old, new = at("2026-12-31 10:00"), at("2027-01-04 10:00"), at("2027-01-05 10:00")
    evs = [(Action.DISPATCH, start, 5, old, "handle"), (Action.RECALENDAR, at("2027-01-04 11:30"), None, new, "handle")]
    assert handle_clocks(evs, end=at("2027-01-05 09:00"))[0]["overdue_at"] is None
    assert handle_clocks(evs, end=at("2027-01-05 12:00"))[0]["overdue_at"] == new
    assert handle_clocks(evs[:1], end=at("2027-01-05 09:00"))[0]["overdue_at"] == old  # as the log stood before


def _file(name, text, directory=None):
    import tempfile
    from pathlib import Path

    directory = Path(directory or tempfile.mkdtemp())
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def _admin_client():
    user = get_user_model().objects.create_superuser("calroot", "calroot@example.com", "a-long-password-1")
    c = Client()
    c.force_login(user)
    return c


def test_an_import_that_fails_while_recomputing_leaves_the_calendar_and_its_cache_as_they_were(demo_city, monkeypatch):
    case = handled_from(at("2026-12-31 10:00"))
    assert wt.get_calendar().is_workday(date(2027, 1, 4))  # cached before the import

    def broken(*args, **kwargs):
        assert not wt.load_calendar().is_workday(date(2027, 1, 4))  # the new days are written by now
        raise RuntimeError("recompute failed")

    monkeypatch.setattr(services, "recalendar", broken)
    with pytest.raises(RuntimeError):
        apply(read(NOTICE_2027.encode(), 2027), at=at("2026-12-31 16:00"))
    assert WorkCalendarDay.objects.get(date=date(2027, 1, 4)).source == Source.HOLIDAYS
    assert wt.get_calendar().is_workday(date(2027, 1, 4))
    assert Case.objects.get(pk=case.pk).version == case.version
