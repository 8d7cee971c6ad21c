"""Working-time arithmetic on a precomputed axis (工作时间轴) for the megacity generator.

``worktime.clock`` walks the calendar day by day and period by period for every deadline: exact, but a
20-working-day limit costs a few dozen steps, and the generator takes millions of them. Here working time
is laid out once as one axis: ``w(t)`` is the working time (µs) from a fixed origin to ``t`` (a moment
outside working time maps to the next working instant), and ``at_w(w)`` is the inverse, the instant at
which that much working time has passed. Adding ``h`` hours of working time is then
``at_w(w(t) + h)``, the same instant ``clock.add_working_time`` returns (an amount ending exactly at the
end of a period ends there, not at the start of the next), and the working time between two instants is
a subtraction. ``FastCalendar`` is a ``clock.Calendar`` with the same days and periods whose arithmetic
methods (``deadline``, ``working_timedelta``, ``add_working_time``, ``resume_deadline``) use the axis, so
``engine.apply`` runs on it unchanged; ``tests/fabricate/test_generate.py`` checks the axis against ``clock`` on many
instants.
"""
from bisect import bisect_left
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from urbangrid.worktime import clock as wt

TZ = wt.TZ
ORIGIN = date(1999, 1, 1)  # before anything the generator may produce (--start is 2000 or later)
_US = timedelta(microseconds=1)


def _us_of_day(t):
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


class FastCalendar(wt.Calendar):
    """``clock.Calendar`` with the same days and periods, its periods per day memoised and a working-time axis."""

    def __init__(self, calendar):
        super().__init__(calendar.days, calendar.periods, fallback=calendar.fallback, confirmed=calendar.confirmed)
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
                out = datetime(d.year, d.month, d.day, tzinfo=TZ) + timedelta(microseconds=s + r)
                self._memo = (out, w)  # the engine measures from a deadline just computed
                return out
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

    # ``clock.Calendar``'s arithmetic methods, which ``engine.apply`` calls, on the axis

    def working_timedelta(self, a, b):
        return timedelta(microseconds=self.w(b) - self.w(a))

    def add_working_time(self, start, amount):
        return self.add(start, amount // _US if isinstance(amount, timedelta) else self.hours_us(amount))

    def resume_deadline(self, deadline, paused_at, resumed_at):
        remaining = self.between_us(paused_at, deadline)
        if remaining > 0:
            return self.add(resumed_at, remaining)
        return self.add(deadline, self.between_us(paused_at, resumed_at))
