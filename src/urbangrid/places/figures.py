"""A responsibility grid's figures for this day, week or month (the grid page), with the dashboard's
definitions (dashboard/metrics.py; docs/standards.md, Dashboard and grid-page figures): received = reported in the period; closed = closed
in the period; on-time rate = closed 正常 / closed; rework = closed cases that were reworked; overdue =
open cases whose clock shows red now. Two aggregate queries, whatever the history's size.
"""
from datetime import datetime, time, timedelta

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from urbangrid.cases.models import Case
from urbangrid.cases.queries import light_q
from urbangrid.cases.states import OPEN, ArchiveType, State
from urbangrid.worktime.clock import TZ

PERIODS = {"day": _("今日"), "week": _("本周"), "month": _("本月")}


def period_bounds(period, now=None):
    """[start, end) of today, this week (from Monday) or this month, in Asia/Shanghai."""
    if period not in PERIODS:
        raise ValueError(period)
    today = (now or timezone.now()).astimezone(TZ).date()
    if period == "day":
        first = today
    elif period == "week":
        first = today - timedelta(days=today.weekday())
    else:
        first = today.replace(day=1)
    start = datetime.combine(first, time.min, TZ)
    if period == "day":
        end = start + timedelta(days=1)
    elif period == "week":
        end = start + timedelta(days=7)
    else:
        end = datetime.combine((first + timedelta(days=32)).replace(day=1), time.min, TZ)
    return start, end


def grid_figures(grid, period="month", now=None):
    now = now or timezone.now()
    start, end = period_bounds(period, now)
    cases = Case.objects.filter(responsibility_grid=grid).order_by()
    created = Q(created_at__gte=start, created_at__lt=end)
    closed = Q(state=State.CLOSED, closed_at__gte=start, closed_at__lt=end)
    agg = cases.filter(created | Q(closed_at__gte=start, closed_at__lt=end)).aggregate(
        received=Count("pk", filter=created), closed=Count("pk", filter=closed),
        ontime=Count("pk", filter=closed & Q(archive_type=ArchiveType.NORMAL)),
        rework=Count("pk", filter=closed & Q(rework_count__gt=0)))
    live = cases.filter(state__in=OPEN).aggregate(open=Count("pk"), overdue=Count("pk", filter=light_q("red", now)))
    rate = round(agg["ontime"] / agg["closed"], 4) if agg["closed"] else None
    return {**agg, **live, "ontime_rate": rate, "ontime_pct": None if rate is None else round(rate * 100, 1),
            "start": start, "end": end - timedelta(microseconds=1)}
