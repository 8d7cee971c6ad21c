"""The working calendar as stored (WorkCalendarDay, WorkingPeriod): the one place that reads it."""
from . import statutory
from .clock import Calendar
from .models import WorkCalendarDay, WorkingPeriod


def read_calendar() -> Calendar:
    """Build a Calendar from WorkCalendarDay and WorkingPeriod; days not in the table are Monday–Friday less the
    statutory holidays, unconfirmed."""
    days, confirmed = {}, []
    for d, workday, source in WorkCalendarDay.objects.values_list("date", "is_workday", "source"):
        days[d] = workday
        if source not in WorkCalendarDay.UNCONFIRMED_SOURCES:
            confirmed.append(d)
    periods = list(WorkingPeriod.objects.order_by("order", "start").values_list("start", "end"))
    return Calendar(days, periods, fallback=statutory.is_workday, confirmed=confirmed)
