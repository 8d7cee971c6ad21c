"""Working-time arithmetic on a precomputed axis (工作时间轴) for the megacity generator.

``worktime.clock`` walks the calendar day by day and period by period for every deadline: exact, but a
20-working-day limit costs a few dozen steps, and the generator takes millions of them. Here working time
is laid out once as one axis: ``w(t)`` is the working time (µs) from a fixed origin to ``t`` (a moment
outside working time maps to the next working instant), and ``at_w(w)`` is the inverse, the instant at
which that much working time has passed. Adding ``h`` hours of working time is then
``at_w(w(t) + h)``, the same instant ``clock.add_working_time`` returns (an amount ending exactly at the
end of a period ends there, not at the start of the next), and the working time between two instants is
a subtraction. ``FastCalendar`` is a ``clock.Calendar`` with the same days and periods, so the engine can
take it as it is; ``tests/test_generate.py`` checks the axis against ``clock`` on many instants.
"""
from bisect import bisect_left
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from urbangrid.cases import engine
from urbangrid.cases.states import ArchiveType, Stage
from urbangrid.cases.workflow import clock_started, target_of
from urbangrid.worktime import clock as wt

TZ = wt.TZ
ORIGIN = date(1999, 1, 1)  # before anything the generator may produce (--start is 2000 or later)
_US = timedelta(microseconds=1)


def _us_of_day(t):
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


class FastCalendar(wt.Calendar):
    """``clock.Calendar`` with the same days and periods, its periods per day memoised and a working-time axis."""

    def __init__(self, calendar):
        super().__init__(calendar.days, calendar.periods)
        self._periods_on = {}
        # periods as (start, end) µs of the day; the calendar has already sorted and merged them
        self._spans = tuple((_us_of_day(s), _us_of_day(e)) for s, e in self.periods)
        self.day_us = sum(e - s for s, e in self._spans)
        self._days = {}  # date -> (axis value at midnight, is a working day)
        self._wd_dates, self._wd_end = [], []  # working days in order, axis value at the end of each
        self._last, self._w_last = ORIGIN - timedelta(days=1), 0
        self._amounts = {}
        self._memo = (None, 0)  # the last instant given to w() and its value: steps ask for the same one often

    def periods_on(self, d):
        try:
            return self._periods_on[d]
        except KeyError:
            out = self._periods_on[d] = super().periods_on(d)
            return out

    def _extend(self, until):
        d, w = self._last, self._w_last
        while d < until:
            d += timedelta(days=1)
            work = self.is_workday(d)
            self._days[d] = (w, work)
            if work:
                w += self.day_us
                self._wd_dates.append(d)
                self._wd_end.append(w)
        self._last, self._w_last = d, w

    def w(self, t):
        """Working time (µs) from the origin to ``t``."""
        memo_t, memo_w = self._memo
        if t is memo_t:
            return memo_w
        given, t = t, t.astimezone(TZ)
        d = t.date()
        try:
            base, work = self._days[d]
        except KeyError:
            if d < ORIGIN:
                raise ValueError(f"{t} is before the generator's working-time axis") from None
            self._extend(d + timedelta(days=400))
            base, work = self._days[d]
        if work:
            tod = _us_of_day(t)
            for s, e in self._spans:
                if tod <= s:
                    break
                base += (tod if tod < e else e) - s
        self._memo = (given, base)
        return base

    def at_w(self, w):
        """The instant at which ``w`` µs of working time have passed since the origin (``w`` > 0)."""
        i = bisect_left(self._wd_end, w)
        while i == len(self._wd_end):
            self._extend(self._last + timedelta(days=400))
            i = bisect_left(self._wd_end, w)
        d = self._wd_dates[i]
        r = w - (self._wd_end[i] - self.day_us)
        for s, e in self._spans:
            if r <= e - s:
                return datetime(d.year, d.month, d.day, tzinfo=TZ) + timedelta(microseconds=s + r)
            r -= e - s
        raise AssertionError("unreachable: r is at most the day's working time")

    def add(self, start, amount_us):
        """``clock.add_working_time(start, amount)`` for an amount in µs."""
        if amount_us <= 0:
            if amount_us < 0:
                raise ValueError("working time to add must not be negative")
            return start.astimezone(TZ)
        return self.at_w(self.w(start) + amount_us)

    def hours_us(self, hours):
        """``clock.to_timedelta(hours)`` in µs (Decimal, int or float hours)."""
        return (Decimal(str(hours)) * 3_600_000_000).to_integral_value(ROUND_HALF_UP).__int__()

    def limit_us(self, value, unit):
        """A working-time limit in µs (working hours or days), memoised per (value, unit)."""
        key = (value, unit)
        try:
            return self._amounts[key]
        except KeyError:
            if unit == wt.WORKING_HOURS:
                us = self.hours_us(value)
            elif unit == wt.WORKING_DAYS:
                us = int((Decimal(str(value)) * self.day_us).to_integral_value(ROUND_HALF_UP))
            else:
                raise ValueError(f"not a working-time unit: {unit!r}")
            self._amounts[key] = us
            return us

    def deadline(self, start, value, unit):
        """``clock.deadline(start, value, unit, calendar)``."""
        if unit == wt.CALENDAR_HOURS:
            return start.astimezone(TZ) + timedelta(microseconds=self.hours_us(value))
        return self.add(start, self.limit_us(value, unit))

    def between_us(self, a, b):
        """``clock.working_timedelta(a, b)`` in µs (negative when ``b`` is before ``a``)."""
        return self.w(b) - self.w(a)


# --- engine.apply on the axis ----------------------------------------------------------------------

def apply(case, t, inputs, at, fc, limits):
    """``cases.engine.apply`` with the deadline arithmetic on ``fc``'s axis: the same rules, in the same
    order, with the same results (the generator replays the first case of every shape through
    ``engine.apply`` itself and stops on any difference). Clocks are stopped by the engine's own code."""
    out = engine.Outcome(to_state=target_of(t, inputs) or case.state)
    if t.stops and case.stage in t.stops:
        out.stopped.append(engine._stop_clock(case, at))
    special = t.clock
    if special == "extend":
        extra_value, extra_unit = inputs["extra_time"]
        due = fc.deadline(case.stage_deadline, extra_value, extra_unit)
        out.data["extended_from"] = case.stage_deadline.isoformat()
        case.stage_budget_seconds += fc.between_us(case.stage_deadline, due) / 1_000_000
        case.stage_deadline = case.handle_deadline = due
        _set_yellow(case, at, fc, limits.handle_yellow_share)
    elif special == "pause":
        case.stage_paused_at = at
    elif special == "resume":
        deadline, paused = case.stage_deadline, case.stage_paused_at
        remaining = fc.between_us(paused, deadline)
        due = fc.add(at, remaining) if remaining > 0 else fc.add(deadline, fc.between_us(paused, at))
        out.data["paused_from"] = paused.isoformat()
        case.stage_deadline = case.handle_deadline = due
        case.stage_paused_at = None
        _set_yellow(case, at, fc, limits.handle_yellow_share)
    elif special == "restart_handle":
        first = case.handle_first_deadline
        _start_clock(case, Stage.HANDLE, at, fc, limits)
        if limits.rework_keeps_first_deadline and first:
            case.stage_deadline = case.handle_deadline = first
    started = clock_started(t, inputs)
    if started:
        _start_clock(case, started, at, fc, limits)
    for counter in t.increments:
        setattr(case, counter, getattr(case, counter) + 1)
    if t.action == "close":
        case.archive_type = ArchiveType.OVERDUE if (case.is_overdue or case.handle_overdue) else ArchiveType.NORMAL
        case.closed_at = at
    out.data["counts"] = list(t.counts)
    if out.stopped:
        out.data["stopped"] = out.stopped
    return out


def _start_clock(case, stage, at, fc, limits):
    if stage == Stage.HANDLE:
        value = case.handle_limit_value if case.handle_limit_value is not None else engine.FALLBACK_HANDLE[0]
        unit = case.handle_limit_unit or engine.FALLBACK_HANDLE[1]
    else:
        value, unit, _share = limits.of(stage)
    if unit == wt.CALENDAR_HOURS:
        due = fc.deadline(at, value, unit)
        budget = (due - at).total_seconds()
    else:
        limit = fc.limit_us(value, unit)
        due = fc.add(at, limit)
        budget = limit / 1_000_000  # on the axis the deadline is exactly ``limit`` after ``at``
    case.stage = stage
    case.stage_started_at = at
    case.stage_deadline = due
    case.stage_paused_at = None
    case.stage_budget_seconds = budget
    _set_yellow(case, at, fc, limits.of(stage)[2] if stage != Stage.HANDLE else limits.handle_yellow_share)
    if stage == Stage.HANDLE:
        case.handle_deadline = due
        if case.handle_first_deadline is None:
            case.handle_first_deadline = due


def _set_yellow(case, at, fc, share):
    # timedelta arithmetic as in engine._set_yellow: the same rounding of the float share
    remaining = timedelta(microseconds=fc.between_us(at, case.stage_deadline))
    before_yellow = remaining - timedelta(seconds=case.stage_budget_seconds) * float(share)
    case.stage_yellow_at = fc.add(at, before_yellow // _US) if before_yellow > timedelta() else at
