"""Which source answers an evaluation (统计口径来源): the daily tallies (``tallies.TallyEvaluation``) when they
hold the period, else the raw event log (``rules.EventEvaluation``); both apply the same rules (one
``Judge``) and give the same tables. ``evaluation_for`` chooses; ``tracking_gaps`` collects the days a request
could not count."""
import contextvars
from contextlib import contextmanager
from datetime import time, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from ..periods import TZ
from .rules import EventEvaluation
from .tallies import TallyEvaluation, raw_affordable


def use_tallies(start, end, now=None):
    """Whether an evaluation can come from the daily tallies: they hold whole days, so the period must end
    at a midnight or now (an explicit ``now`` in the past, mid-day, needs the raw events)."""
    real_now = timezone.now()
    if not settings.URBANGRID_EVALUATION_TALLIES:
        return False
    eff_end = min(end, now or real_now)
    local = eff_end.astimezone(TZ)
    return local.time() == time(0) or eff_end >= real_now - timedelta(seconds=5)


# Batch code may let every evaluation_for() tally what it misses first (the test suite's ``both_sources``
# fixture does, to run hand-built logs through the tallies). Never set in the server: requests do not tally.
BUILD_TALLIES = False


def evaluation_for(start, end, scheme=None, calendar=None, now=None, build=False):
    """The period's evaluation: from the daily tallies (``TallyEvaluation``) when they can answer it,
    else from the raw events (``EventEvaluation``); both give the same tables.

    ``build=False`` (pages, the API, reviews): nothing is tallied here. Days without a ready tally are
    answered from the raw events when the period is small (at most ``URBANGRID_EVALUATION_RAW_MAX_EVENTS``
    events: exact, bounded cost), else left out and listed in ``ev.missing`` (and in the ``tracking_gaps()``
    of the request, if any). ``build=True`` (worker, commands, tests): tally them first."""
    if not use_tallies(start, end, now):
        return EventEvaluation(start, end, scheme=scheme, calendar=calendar, now=now)
    ev = TallyEvaluation(start, end, scheme=scheme, calendar=calendar, now=now, build=build or BUILD_TALLIES)
    if ev.missing:
        if raw_affordable(ev.start, ev.eff_end):
            return EventEvaluation(start, end, scheme=ev.scheme, calendar=calendar, now=now)
        gaps = _GAPS.get()
        if gaps is not None:
            gaps.days.update(ev.missing)
    return ev


def evaluate(start, end, scheme=None, now=None):
    """An evaluation for batch code (commands, scripts, tests): tallies what is missing first."""
    return evaluation_for(start, end, scheme=scheme, now=now, build=True)


# --- days an answer could not count ---------------------------------------------------------------

_GAPS = contextvars.ContextVar("urbangrid_evaluation_gaps", default=None)
RUNS_SHOWN = 8


class TallyGaps:
    """The days that the evaluations of one page or API answer left out (no ready tally and too many
    events to count them from the raw log in a request)."""

    def __init__(self):
        self.days = set()

    def __bool__(self):
        return bool(self.days)

    @property
    def complete(self):
        return not self.days

    @property
    def count(self):
        return len(self.days)

    def sorted(self):
        return sorted(self.days)

    def label(self):
        """The days as runs: 2026-03-03、2026-03-05 — 2026-03-31 (the first few runs)."""
        runs = []
        for d in self.sorted():
            if runs and runs[-1][1] + timedelta(days=1) == d:
                runs[-1][1] = d
            else:
                runs.append([d, d])
        text = "、".join(f"{a}" if a == b else f"{a} — {b}" for a, b in runs[:RUNS_SHOWN])
        return text + ("…" if len(runs) > RUNS_SHOWN else "")

    def message(self):
        return _("日统计尚未就绪的日期：%(days)s（共 %(n)s 天）。本页数字未包含（或未完全包含）这些日期的记录；"
                 "后台任务会自动补算，请稍后刷新。") % {"days": self.label(), "n": self.count}

    def export_message(self):
        return _("日统计尚未就绪的日期：%(days)s（共 %(n)s 天），导出的数字会不完整；后台任务补算后请重试。") % {
            "days": self.label(), "n": self.count}

    def as_dict(self):
        """The fields an API answer adds: ``complete`` and ``missing_days``."""
        return {"complete": self.complete, "missing_days": self.sorted()}


@contextmanager
def tracking_gaps():
    """Collect the days left out by every ``evaluation_for()`` made inside the block (one request)."""
    gaps = TallyGaps()
    token = _GAPS.set(gaps)
    try:
        yield gaps
    finally:
        _GAPS.reset(token)


# Column specifications shared by the page, the API documentation and the Excel export.
