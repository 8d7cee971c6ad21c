from datetime import date, datetime, timedelta

from urbangrid.worktime import clock
from urbangrid.worktime.models import WorkCalendarDay
from urbangrid.worktime.seeding import day_from_package


def cn_calendar(first=2025, last=2026):
    """A pure Calendar from the chinese_calendar data, with no database (2027+ left to the fallback)."""
    days, d = {}, date(first, 1, 1)
    while d <= date(last, 12, 31):
        days[d] = day_from_package(d)[0] in WorkCalendarDay.WORKING_KINDS
        d += timedelta(days=1)
    return clock.Calendar(days)


CN = cn_calendar()
H = 3600  # seconds


def at(text):
    """'2026-09-30 16:00' as an aware Asia/Shanghai datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=clock.TZ)
