"""What the working calendar tells the apps above it (worktime imports none of them).

- ``days_changed``: days of the calendar changed inside the caller's transaction (a notice imported, days
  re-seeded, a person's edit, or an explicit recompute with ``dates=None``). Receivers recompute what rests on
  those days and return how many things moved (cases: the open cases' clocks, ``cases/apps.py``).
- ``calendar_invalidated``: the cached calendar was dropped; receivers drop what they cached beside it.
"""
from django.dispatch import Signal

days_changed = Signal()          # kwargs: dates (iterable of date, or None for all), note, calendar, at (or None)
calendar_invalidated = Signal()


def recompute_dependents(dates=None, note="", calendar=None, at=None):
    """Send ``days_changed`` and return the total the receivers moved."""
    return sum(n or 0 for _, n in days_changed.send(sender=None, dates=dates, note=note, calendar=calendar, at=at))
