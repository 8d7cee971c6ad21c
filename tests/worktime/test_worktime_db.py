"""Seeding, the cached calendar, settings, the command and the admin (database)."""
from datetime import date, time, timedelta
from decimal import Decimal
from io import StringIO

import chinese_calendar
import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from urbangrid.worktime import clock
from urbangrid.worktime.models import Stage, TimeLimitSetting, WorkCalendarDay, WorkingPeriod
from urbangrid.worktime.seeding import fallback_years, missing_years, provisional_years, seed_calendar

from .helpers import at

pytestmark = pytest.mark.django_db
Kind, Source = WorkCalendarDay.Kind, WorkCalendarDay.Source
FALLBACK_WARNING = "以下年份没有法定节假日数据"
PROVISIONAL_WARNING = "以下年份尚未导入国务院放假通知"


def day(iso):
    return WorkCalendarDay.objects.get(date=date.fromisoformat(iso))


def test_seed_2026_kinds_and_names():
    counts = seed_calendar([2026])
    assert counts["created"] == 365 and counts["fallback_years"] == []
    assert (day("2026-10-01").kind, day("2026-10-01").holiday_name, day("2026-10-01").is_workday) == (Kind.HOLIDAY, "国庆节", False)
    assert (day("2026-10-10").kind, day("2026-10-10").is_workday) == (Kind.MAKEUP_WORKDAY, True)  # Saturday
    assert (day("2026-09-20").kind, day("2026-09-20").is_workday) == (Kind.MAKEUP_WORKDAY, True)  # Sunday
    assert (day("2026-09-25").kind, day("2026-09-25").holiday_name) == (Kind.HOLIDAY, "中秋")
    assert (day("2026-02-14").kind, day("2026-02-14").holiday_name) == (Kind.MAKEUP_WORKDAY, "春节")
    assert day("2026-03-07").kind == Kind.WEEKEND and day("2026-03-09").kind == Kind.WORKDAY
    assert day("2026-03-09").source == Source.CHINESE_CALENDAR
    workdays = chinese_calendar.get_workdays(date(2026, 1, 1), date(2026, 12, 31))
    assert WorkCalendarDay.objects.filter(date__year=2026, is_workday=True).count() == len(workdays) == 248


def test_seeding_is_idempotent_and_keeps_manual_days():
    seed_calendar([2026])
    again = seed_calendar([2026])
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 365)
    manual = day("2026-10-09")
    manual.kind, manual.holiday_name, manual.source = Kind.HOLIDAY, "城市纪念日", Source.MANUAL
    manual.save()
    WorkCalendarDay.objects.filter(date=date(2026, 10, 10)).update(kind=Kind.WEEKEND, is_workday=False)  # drift
    counts = seed_calendar([2026])
    assert (counts["updated"], counts["manual_kept"], counts["unchanged"]) == (1, 1, 363)
    assert (day("2026-10-09").kind, day("2026-10-09").is_workday, day("2026-10-09").source) == (Kind.HOLIDAY, False, Source.MANUAL)
    assert day("2026-10-10").kind == Kind.MAKEUP_WORKDAY and day("2026-10-10").is_workday
    assert WorkCalendarDay.objects.count() == 365


def test_2027_takes_the_statutory_holidays_and_manual_edits_survive():
    """chinese_calendar 1.11 has no 2027 notice: the year gets the statutory days off the ``holidays`` package
    computes (补假 included, no 调休), unconfirmed."""
    counts = seed_calendar([2027])
    assert counts["provisional_years"] == [2027] and provisional_years() == [2027]
    assert counts["fallback_years"] == [] and fallback_years() == []
    new_year = day("2027-01-01")  # a Friday
    assert (new_year.kind, new_year.holiday_name, new_year.source, new_year.is_workday) == (
        Kind.HOLIDAY, "元旦", Source.HOLIDAYS, False)
    assert day("2027-01-02").kind == Kind.WEEKEND and day("2027-01-04").kind == Kind.WORKDAY
    # 春节 2027-02-06/07 fall on a weekend: made up on the next working days (放假办法 art. 6)
    assert [day(f"2027-02-{n:02d}").kind for n in range(5, 12)] == [Kind.HOLIDAY] * 6 + [Kind.WORKDAY]
    assert day("2027-02-09").holiday_name == "春节（补假）"
    # the law's 13 days off, each on a weekday once the 补假 are counted
    off = WorkCalendarDay.objects.filter(date__year=2027, kind=Kind.HOLIDAY).values_list("date", flat=True)
    assert len([d for d in off if d.weekday() < 5]) == 13
    monday = day("2027-01-04")
    monday.kind, monday.holiday_name, monday.source = Kind.HOLIDAY, "元旦", Source.MANUAL
    monday.save()
    seed_calendar([2027])
    assert day("2027-01-04").kind == Kind.HOLIDAY and provisional_years() == [2027]


def test_a_year_no_package_covers_falls_back_to_weekdays():
    counts = seed_calendar([2101])
    assert counts["fallback_years"] == [2101] and fallback_years() == [2101] and provisional_years() == []
    assert (day("2101-01-03").kind, day("2101-01-03").source) == (Kind.WORKDAY, Source.WEEKDAY_FALLBACK)  # a Monday
    assert day("2101-01-01").kind == Kind.WEEKEND  # a Saturday


def test_cached_calendar_follows_edits():
    seed_calendar([2026])
    cal = clock.get_calendar()
    assert clock.get_calendar() is cal  # cached
    assert clock.add_working_time(at("2026-10-08 17:00"), 1, cal) == at("2026-10-09 09:00")
    d = day("2026-10-09")
    d.kind, d.source = Kind.HOLIDAY, Source.MANUAL
    d.save()  # the signal drops the cache
    fresh = clock.get_calendar()
    assert fresh is not cal and not fresh.is_workday(date(2026, 10, 9))
    assert clock.add_working_time(at("2026-10-08 17:00"), 1, fresh) == at("2026-10-10 09:00")  # Sat 调休
    assert fresh.is_workday(date(2031, 1, 6)) and not fresh.is_workday(date(2031, 1, 5))  # no data: Mon–Fri


def test_default_periods_and_their_edits():
    assert list(WorkingPeriod.objects.values_list("start", "end")) == [(time(8, 30), time(12)), (time(14), time(17, 30))]
    assert clock.get_calendar().day_length == timedelta(hours=7)
    afternoon = WorkingPeriod.objects.get(start=time(14))
    afternoon.start = time(13, 30)
    afternoon.save()
    assert clock.get_calendar().day_length == timedelta(hours=7.5)


def test_period_validation():
    with pytest.raises(ValidationError):
        WorkingPeriod(start=time(12), end=time(9)).full_clean()
    with pytest.raises(ValidationError):
        WorkingPeriod(start=time(11), end=time(15)).full_clean()  # overlaps both defaults
    WorkingPeriod(start=time(18), end=time(20)).full_clean()


def test_default_limits():
    rows = {s.stage: (s.value, s.unit, s.yellow_share) for s in TimeLimitSetting.objects.all()}
    h = "working_hours"
    assert rows == {
        "locate": (Decimal("1"), h, Decimal("0.2")),  # 定位 of a report whose address was not placed (待定位)
        "accept": (Decimal("1"), h, Decimal("0.2")), "verify": (Decimal("0.5"), h, Decimal("0.2")),
        "file": (Decimal("1"), h, Decimal("0.2")), "dispatch": (Decimal("1"), h, Decimal("0.2")),
        "second_dispatch": (Decimal("1"), h, Decimal("0.2")), "send_check": (Decimal("1"), h, Decimal("0.2")), "check": (Decimal("0.5"), h, Decimal("0.2")),
        "close": (Decimal("1"), h, Decimal("0.2")),
        "handle": (None, "", Decimal("0.2")),  # its limit is the responsibility list's; the yellow share is set here
    }
    verify = TimeLimitSetting.for_stage(Stage.VERIFY)
    assert verify.deadline(at("2026-03-16 11:45")) == at("2026-03-16 14:15")
    assert verify.start_clock(at("2026-03-16 11:45")).budget == timedelta(minutes=30)
    TimeLimitSetting.objects.filter(stage=Stage.CLOSE).delete()
    missing = TimeLimitSetting.for_stage("close")  # never fails: the built-in default
    assert missing.pk is None and missing.value == 1 and str(missing) == "结案 1 工作时"


def test_command_seed_and_status():
    out = StringIO()
    call_command("worktime", "seed", "--from", "2026", "--to", "2027", stdout=out)
    assert "730 created" in out.getvalue() and "2027" in out.getvalue()
    out = StringIO()
    call_command("worktime", "seed", "--from", "2026", "--to", "2027", stdout=out)
    assert "0 created, 0 updated, 730 unchanged" in out.getvalue()
    out = StringIO()
    call_command("worktime", "status", stdout=out)
    assert "2026 chinese-calendar: 365" in out.getvalue() and "2027 holidays: 365" in out.getvalue()
    assert "(unconfirmed): 2027" in out.getvalue()


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "a-long-password-1")
    client.force_login(user)
    return client


def warnings(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_admin_warns_about_fallback_and_provisional_years(admin_client):
    seed_calendar([2026, 2027, 2101])
    response = admin_client.get("/admin/worktime/workcalendarday/")
    assert response.status_code == 200
    fallback = [m for m in warnings(response) if FALLBACK_WARNING in m]
    assert len(fallback) == 1 and "2101" in fallback[0] and "2026" not in fallback[0] and "2027" not in fallback[0]
    provisional = [m for m in warnings(response) if PROVISIONAL_WARNING in m]
    assert len(provisional) == 1 and "2027" in provisional[0] and "2026" not in provisional[0]


def test_admin_no_fallback_warning_with_full_data(admin_client):
    seed_calendar([2026])
    response = admin_client.get("/admin/worktime/workcalendarday/")
    assert not [m for m in warnings(response) if FALLBACK_WARNING in m]
    this = timezone.localdate().year
    assert missing_years() == [y for y in (this, this + 1) if y != 2026]


def test_admin_edit_marks_the_day_manual(admin_client):
    seed_calendar([2026])
    d = day("2026-10-09")
    response = admin_client.post(f"/admin/worktime/workcalendarday/{d.pk}/change/",
                                 {"date": "2026-10-09", "kind": "holiday", "holiday_name": "城市纪念日"})
    assert response.status_code == 302
    d.refresh_from_db()
    assert (d.kind, d.is_workday, d.source) == (Kind.HOLIDAY, False, Source.MANUAL)
    seed_calendar([2026])
    assert day("2026-10-09").kind == Kind.HOLIDAY


def test_admin_pages_load(admin_client):
    for url in ("/admin/worktime/workingperiod/", "/admin/worktime/timelimitsetting/",
                "/admin/worktime/workcalendarday/add/"):
        assert admin_client.get(url).status_code == 200
