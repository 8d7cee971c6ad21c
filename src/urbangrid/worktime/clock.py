"""Deadline arithmetic in working time (工作时/工作日) and natural time (自然时), Asia/Shanghai.

The core functions are plain Python: they take a ``Calendar`` (which days are working days and the
daily working periods) and never touch the database, so they are cheap and testable. ``get_calendar()``
builds one from the database, caches it per process and is reloaded on edits or after a TTL.

Definitions
- Working time is the union of the working periods (e.g. 08:30–12:00, 14:00–17:30) on working days.
- ``add_working_time(start, h)``: the instant at which ``h`` hours of working time have passed since
  ``start``; a start outside working time starts counting at the next working period. A limit that runs
  out exactly at the end of a period ends there (12:00, not 14:00). Adding zero returns ``start``.
- ``add_working_days(start, n)``: ``n`` × the working hours of one day (7 h with the defaults), i.e. the
  same clock time on the n-th following working day when ``start`` lies in working time (Fri 16:00 + 1
  工作日 = Mon 16:00). A start outside working time counts from the next period, and a deadline that falls
  on the start of a period is given as the end of the previous one (Mon 20:00 + 1 = Tue 17:30, not
  Wed 08:30; there is no working time between the two). Fractions work (0.5 工作日 = 3.5 工作时).
- Days not in the calendar fall back to Monday–Friday (a bare ``Calendar``), or to Monday–Friday less the
  statutory holidays (the calendar ``load_calendar`` builds, ``statutory.py``), so nothing ever fails for a
  year without data.
- Confirmed days: those an official notice (or a person) stands behind. ``unconfirmed_between`` says whether a
  span touches any other day: a deadline counted over such a day is 期限待确认 (docs/standards.md).
"""
import time as _time
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings

from urbangrid.core.tenancy import PerCity

from .signals import calendar_invalidated

TZ = ZoneInfo("Asia/Shanghai")
ONE_DAY = timedelta(days=1)
DEFAULT_PERIODS = ((time(8, 30), time(12, 0)), (time(14, 0), time(17, 30)))

# Units of a time limit (the values stored in TimeLimitSetting.unit and responsibility rules).
WORKING_HOURS = "working_hours"
WORKING_DAYS = "working_days"
CALENDAR_HOURS = "calendar_hours"

GREEN, YELLOW, RED = "green", "yellow", "red"


def _weekday(d):
    return d.weekday() < 5


class Calendar:
    """Working days (an explicit table, else ``fallback``: Monday–Friday unless given) and the daily working
    periods. ``confirmed``: the days of the table an official notice stands behind (default: all of them)."""

    def __init__(self, days=None, periods=DEFAULT_PERIODS, fallback=None, confirmed=None):
        self.days = dict(days or {})  # date -> is_workday
        self.periods = _normalise(periods) or _normalise(DEFAULT_PERIODS)  # never empty: no endless loop
        self.day_length = sum((_span(s, e) for s, e in self.periods), timedelta())
        self.fallback = fallback or _weekday
        self.confirmed = sorted(self.days if confirmed is None else confirmed)

    def is_workday(self, d: date) -> bool:
        found = self.days.get(d)
        return self.fallback(d) if found is None else found

    def unconfirmed_between(self, a, b) -> bool:
        """Whether any day from ``a`` to ``b`` (dates or aware datetimes, in either order) is not confirmed."""
        a, b = (_local(x).date() if isinstance(x, datetime) else x for x in (a, b))
        if b < a:
            a, b = b, a
        return bisect_right(self.confirmed, b) - bisect_left(self.confirmed, a) < (b - a).days + 1

    def periods_on(self, d: date):
        """The working periods of day ``d`` as aware local datetimes (none on a rest day)."""
        if not self.is_workday(d):
            return []
        return [(datetime.combine(d, s, TZ), datetime.combine(d, e, TZ)) for s, e in self.periods]

    # The arithmetic the workflow engine uses, as methods: a calendar with a faster way to the same answers
    # (the megacity generator's working-time axis, ``fabricate/generate/fastclock.py``) overrides them.
    def deadline(self, start, value, unit):
        return deadline(start, value, unit, self)

    def working_timedelta(self, a, b):
        return working_timedelta(a, b, self)

    def add_working_time(self, start, amount):
        return add_working_time(start, amount, self)

    def resume_deadline(self, deadline_, paused_at, resumed_at):
        return resume_deadline(deadline_, paused_at, resumed_at, self)


def _span(s, e):
    return datetime.combine(date.min, e) - datetime.combine(date.min, s)


def _normalise(periods):
    """Sorted, non-empty, merged periods, so arithmetic never counts an overlap twice."""
    merged = []
    for s, e in sorted((s, e) for s, e in periods if s < e):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return tuple(merged)


def _local(dt: datetime) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("an aware datetime is required")
    return dt.astimezone(TZ)


def to_timedelta(hours) -> timedelta:
    """Hours (Decimal, int, float, or a timedelta) as an exact timedelta, rounded to the microsecond."""
    if isinstance(hours, timedelta):
        return hours
    us = (Decimal(str(hours)) * 3_600_000_000).to_integral_value(ROUND_HALF_UP)  # str(): 0.1 stays 0.1
    return timedelta(microseconds=int(us))


# --- working time ------------------------------------------------------------------------------

def add_working_time(start: datetime, hours, calendar: Calendar) -> datetime:
    left = to_timedelta(hours)
    if left < timedelta():
        raise ValueError("working time to add must not be negative")
    cur = _local(start)
    if not left:
        return cur
    d = cur.date()
    while True:  # ends: days missing from the table are Mon–Fri and the periods are never empty
        for ps, pe in calendar.periods_on(d):
            s = max(ps, cur)
            if s >= pe:
                continue
            if left <= pe - s:
                return s + left
            left -= pe - s
        d += ONE_DAY


def next_working_instant(t: datetime, calendar: Calendar) -> datetime:
    """``t`` if it lies in working time, else the start of the next working period."""
    cur = _local(t)
    d = cur.date()
    while True:
        for ps, pe in calendar.periods_on(d):
            if cur < pe:
                return max(ps, cur)
        d += ONE_DAY


def add_working_days(start: datetime, days, calendar: Calendar) -> datetime:
    us = (Decimal(str(days)) * (calendar.day_length // timedelta(microseconds=1))).to_integral_value(ROUND_HALF_UP)
    return add_working_time(start, timedelta(microseconds=int(us)), calendar)


def add_calendar_hours(start: datetime, hours, calendar: Calendar = None) -> datetime:
    return _local(start) + to_timedelta(hours)


def deadline(start: datetime, value, unit: str, calendar: Calendar) -> datetime:
    """The deadline of a limit of ``value`` ``unit`` (working_hours / working_days / calendar_hours)."""
    try:
        add = {WORKING_HOURS: add_working_time, WORKING_DAYS: add_working_days, CALENDAR_HOURS: add_calendar_hours}[unit]
    except KeyError:
        raise ValueError(f"unknown time unit {unit!r}") from None
    return add(start, value, calendar)


def working_timedelta(a: datetime, b: datetime, calendar: Calendar) -> timedelta:
    """Working time from ``a`` to ``b``; negative when ``b`` is before ``a``."""
    a, b = _local(a), _local(b)
    if b < a:
        return -working_timedelta(b, a, calendar)
    total, d = timedelta(), a.date()
    while d <= b.date():
        for ps, pe in calendar.periods_on(d):
            lo, hi = max(ps, a), min(pe, b)
            if lo < hi:
                total += hi - lo
        d += ONE_DAY
    return total


def working_time_between(a: datetime, b: datetime, calendar: Calendar) -> float:
    """Seconds of working time from ``a`` to ``b`` (negative when ``b`` < ``a``), e.g. handling time."""
    return working_timedelta(a, b, calendar).total_seconds()


def _measure(a, b, calendar, natural):
    return _local(b) - _local(a) if natural else working_timedelta(a, b, calendar)


def _advance(t, amount: timedelta, calendar, natural):
    return _local(t) + amount if natural else add_working_time(t, amount, calendar)


def _is_yellow(remaining: timedelta, total: timedelta, yellow_share) -> bool:
    # Exact integer/Decimal comparison: no float rounding right at the threshold.
    one = timedelta(microseconds=1)
    return remaining // one < Decimal(str(yellow_share)) * (total // one)


def light(now, started, deadline, yellow_share, calendar: Calendar, natural=False) -> str:
    """红黄绿灯: red when ``now`` is past the deadline; yellow when the remaining time is below
    ``yellow_share`` × the whole limit (both measured in working time, or natural time for 自然时
    limits with ``natural=True``); green otherwise."""
    if _local(now) > _local(deadline):
        return RED
    total = _measure(started, deadline, calendar, natural)
    remaining = _measure(now, deadline, calendar, natural)
    return YELLOW if _is_yellow(remaining, total, yellow_share) else GREEN


def resume_deadline(deadline, paused_at, resumed_at, calendar: Calendar, natural=False) -> datetime:
    """The deadline after a suspension (挂账: the clock stops): the time remaining at the pause starts
    again at the resume. A clock already overdue at the pause stays overdue by the same amount."""
    remaining = _measure(paused_at, deadline, calendar, natural)
    if remaining > timedelta():
        return _advance(resumed_at, remaining, calendar, natural)
    return _advance(deadline, _measure(paused_at, resumed_at, calendar, natural), calendar, natural)


@dataclass(frozen=True)
class Clock:
    """One stage's clock: its deadline, its budget (the whole limit incl. extensions, the base of the
    yellow share), and whether it is paused. Immutable: each operation returns a new Clock."""

    deadline: datetime
    budget: timedelta
    calendar: Calendar
    natural: bool = False  # a 自然时 limit: measured in natural time
    paused_at: datetime | None = None

    @classmethod
    def start(cls, started, value, unit, calendar):
        natural = unit == CALENDAR_HOURS
        due = deadline(started, value, unit, calendar)
        return cls(due, _measure(started, due, calendar, natural), calendar, natural)

    def remaining(self, now) -> timedelta:
        """Time left (negative when overdue); frozen while paused."""
        return _measure(self.paused_at or now, self.deadline, self.calendar, self.natural)

    def pause(self, at):
        return self if self.paused_at else replace(self, paused_at=_local(at))

    def resume(self, at):
        if not self.paused_at:
            return self
        due = resume_deadline(self.deadline, self.paused_at, at, self.calendar, self.natural)
        return replace(self, deadline=due, paused_at=None)

    def extend(self, value, unit):
        """延期: the extra time is added after the current deadline."""
        due = deadline(self.deadline, value, unit, self.calendar)
        return replace(self, deadline=due, budget=self.budget + _measure(self.deadline, due, self.calendar, self.natural))

    def light(self, now, yellow_share) -> str:
        at = self.paused_at or _local(now)  # a paused clock keeps the light it had at the pause
        if at > self.deadline:
            return RED
        return YELLOW if _is_yellow(self.remaining(now), self.budget, yellow_share) else GREEN


# --- the calendar from the database, cached per process --------------------------------------

_cache = PerCity(lambda: {"calendar": None, "at": 0.0})  # each city its own calendar


# The function that reads the calendar from the database (store.read_calendar), set by worktime/apps.py: the
# arithmetic here stays free of models, which import it.
_reader = None


def load_calendar() -> Calendar:
    """The calendar as the database holds it now (uncached)."""
    return _reader()


def get_calendar() -> Calendar:
    """The cached Calendar; re-read after URBANGRID_WORKTIME_CALENDAR_TTL seconds (default 300) so
    edits made in another process show up, and at once after an edit in this process (signals)."""

    ttl = settings.URBANGRID_WORKTIME_CALENDAR_TTL
    if _cache["calendar"] is None or _time.monotonic() - _cache["at"] > ttl:
        reload_calendar()
    return _cache["calendar"]


def reload_calendar() -> Calendar:
    _cache["calendar"], _cache["at"] = load_calendar(), _time.monotonic()
    return _cache["calendar"]


def invalidate_calendar(**_):
    _cache["calendar"] = None
    calendar_invalidated.send(sender=None)  # e.g. the case service's stage limits, cached beside the calendar
