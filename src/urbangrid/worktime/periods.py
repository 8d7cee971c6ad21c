"""统计期间 as calendar arithmetic: a period's bounds (day, week, month, quarter, year, or an explicit range) at
the city's local midnights. The city's assessment (``assessment/periods.py``: parameters, limits, running
periods) and the province's evaluation of its cities both build on it."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils.translation import gettext as _

from .clock import TZ

KINDS = ("day", "week", "month", "quarter", "year")


class PeriodError(ValueError):
    """A period (or another evaluation parameter) that cannot be answered; ``fields``: {parameter: message}."""

    def __init__(self, message, fields=None):
        super().__init__(message)
        self.fields = dict(fields or {})


@dataclass(frozen=True)
class Period:
    start: datetime  # aware, local midnight, included
    end: datetime  # aware, local midnight, excluded
    kind: str = "custom"

    @property
    def first_day(self):
        return self.start.astimezone(TZ).date()

    @property
    def last_day(self):
        return (self.end.astimezone(TZ) - timedelta(days=1)).date()

    def label(self):
        return f"{self.first_day:%Y-%m-%d} — {self.last_day:%Y-%m-%d}"

    def short_label(self):
        """2026-03, 2026Q1, 2026 for a month, quarter, year; else the range."""
        d = self.first_day
        if self.kind == "month":
            return f"{d:%Y-%m}"
        if self.kind == "quarter":
            return f"{d.year}Q{(d.month - 1) // 3 + 1}"
        if self.kind == "year":
            return f"{d.year}"
        return self.label()

    def days(self):
        return [self.first_day + timedelta(days=i) for i in range((self.last_day - self.first_day).days + 1)]


def midnight(d):
    return datetime.combine(d, time(0), TZ)


def period_of(kind, day):
    """The day/week (Monday first)/month/quarter/year containing ``day``."""
    if kind == "day":
        a, b = day, day + timedelta(days=1)
    elif kind == "week":
        a = day - timedelta(days=day.weekday())
        b = a + timedelta(days=7)
    elif kind == "month":
        a = day.replace(day=1)
        b = date(a.year + (a.month == 12), a.month % 12 + 1, 1)
    elif kind == "quarter":
        m = (day.month - 1) // 3 * 3 + 1
        a = date(day.year, m, 1)
        b = date(a.year + (m == 10), (m + 2) % 12 + 1, 1)
    elif kind == "year":
        a, b = date(day.year, 1, 1), date(day.year + 1, 1, 1)
    else:
        msg = _("统计周期应为 day、week、month、quarter 或 year")
        raise PeriodError(msg, {"period": msg})
    return Period(midnight(a), midnight(b), kind)
