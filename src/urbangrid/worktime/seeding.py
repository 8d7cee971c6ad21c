"""Fill WorkCalendarDay from the ``chinese_calendar`` package (the official notices: holidays and 调休 workdays).

Years the package does not know (it raises NotImplementedError) get the statutory holidays the ``holidays``
package computes (``statutory.py``), marked "holidays": unconfirmed, no 调休 known, flagged by the admin and on
every deadline counted over them until the year's notice is imported (``notice.py``). A year neither package
covers (before 1950, after 2100) gets Monday–Friday, marked "weekday-fallback". Rows edited by hand (source
"manual") and rows of an imported notice are never touched, so a city's own overrides survive re-seeding;
re-seeding is idempotent.
"""
from datetime import date, timedelta

import chinese_calendar
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import clock, statutory
from .models import WorkCalendarDay
from .signals import recompute_dependents

Kind, Source = WorkCalendarDay.Kind, WorkCalendarDay.Source


def default_years():
    this = timezone.localdate().year
    return range(this - 1, this + 2)


def _holiday_name(english):
    try:
        return chinese_calendar.Holiday(english).chinese
    except ValueError:
        return english or ""


def day_from_package(d):
    """(kind, holiday name, source) for ``d``: the official notice's day from chinese_calendar; for a year it has
    no notice for, the statutory day (unconfirmed); the Mon–Fri fallback for a year neither package covers."""
    try:
        workday = chinese_calendar.is_workday(d)
        _holiday, name = chinese_calendar.get_holiday_detail(d)
    except NotImplementedError:
        days = statutory.statutory_days(d.year)
        if days is None:
            return (Kind.WORKDAY if d.weekday() < 5 else Kind.WEEKEND), "", Source.WEEKDAY_FALLBACK
        if d in days:
            return Kind.HOLIDAY, days[d][:50], Source.HOLIDAYS
        return (Kind.WORKDAY if d.weekday() < 5 else Kind.WEEKEND), "", Source.HOLIDAYS
    weekend = d.weekday() >= 5
    if workday:
        kind = Kind.MAKEUP_WORKDAY if weekend else Kind.WORKDAY
    else:
        kind = Kind.HOLIDAY if (name or not weekend) else Kind.WEEKEND
    return kind, _holiday_name(name) if name else "", Source.CHINESE_CALENDAR


def seed_calendar(years=None, recompute=False):
    """Create or refresh the days of ``years`` (default: last, this and next year). Returns counts, with the years
    on the statutory estimate (``provisional_years``) or the Mon–Fri fallback and the ``dates`` written. With
    ``recompute`` the open cases' clocks over those dates are recomputed in the same transaction
    (``signals.days_changed``; ``cases``: how many moved)."""
    years = sorted(set(years or default_years()))
    counts = {"created": 0, "updated": 0, "unchanged": 0, "manual_kept": 0, "notice_kept": 0, "fallback_years": [],
              "provisional_years": [], "dates": [], "cases": 0}
    with transaction.atomic():
        for year in years:
            first, last = date(year, 1, 1), date(year, 12, 31)
            existing = {row.date: row for row in WorkCalendarDay.objects.filter(date__range=(first, last))}
            new, changed = [], []
            d = first
            while d <= last:
                kind, name, source = day_from_package(d)
                row = existing.get(d)
                if row is None:
                    new.append(WorkCalendarDay(date=d, kind=kind, is_workday=kind in WorkCalendarDay.WORKING_KINDS,
                                               holiday_name=name, source=source))
                elif row.source == Source.MANUAL:
                    counts["manual_kept"] += 1
                elif row.source == Source.NOTICE:
                    counts["notice_kept"] += 1
                elif (row.kind, row.holiday_name, row.source) != (kind, name, source):
                    row.kind, row.holiday_name, row.source = kind, name, source
                    row.is_workday = kind in WorkCalendarDay.WORKING_KINDS
                    row.updated_at = timezone.now()  # bulk_update skips auto_now
                    changed.append(row)
                else:
                    counts["unchanged"] += 1
                d += timedelta(days=1)
            WorkCalendarDay.objects.bulk_create(new)
            WorkCalendarDay.objects.bulk_update(changed, ["kind", "is_workday", "holiday_name", "source", "updated_at"])
            counts["created"] += len(new)
            counts["updated"] += len(changed)
            counts["dates"] += [row.date for row in new] + [row.date for row in changed]
            source = day_from_package(first)[2]
            if source == Source.WEEKDAY_FALLBACK:
                counts["fallback_years"].append(year)
            elif source == Source.HOLIDAYS:
                counts["provisional_years"].append(year)
        clock.invalidate_calendar()  # bulk writes send no signals
        if recompute and counts["dates"]:
            counts["cases"] = recompute_dependents(dates=counts["dates"], note=_("工作日历重新生成"), calendar=clock.load_calendar())
        transaction.on_commit(clock.invalidate_calendar)
    clock.invalidate_calendar()
    return counts


def fallback_years():
    """Years that have days still on the Mon–Fri fallback (no statutory holiday data)."""
    rows = WorkCalendarDay.objects.filter(source=Source.WEEKDAY_FALLBACK).dates("date", "year")
    return [d.year for d in rows]


def provisional_years():
    """Years that have days on the statutory estimate (no notice imported yet: 调休 unknown)."""
    rows = WorkCalendarDay.objects.filter(source=Source.HOLIDAYS).dates("date", "year")
    return [d.year for d in rows]


def missing_years(years=None):
    """Of ``years`` (default: this and next year), those with no day in the table at all."""
    this = timezone.localdate().year
    years = years or (this, this + 1)
    present = {d.year for d in WorkCalendarDay.objects.dates("date", "year")}
    return [y for y in years if y not in present]
