"""The figures the bureau reads (指标: 受理数, 立案数, 派遣数, 结案数, 按期结案数 …), each defined once.

An ``Indicator`` is the set of cases it counts over a period, as a condition on cases (``cases_q``: what a
drill-down list shows) and as a count (``count_many``, ``count_by``: what a tile, a review or a ranking
shows). Counting may take a faster road than listing (distinct case ids of the period's events rather than a
subquery per case), and the tests hold every figure to the length of the list its link opens, on the demo city.

Event indicators count a case once in a period when a step of that kind happened in it (a case dispatched,
returned and dispatched again in one month counts once; dispatched in May and again in June counts in both);
``unit`` narrows them to steps concerning that unit. Case indicators look at the case row (its report time, its
current closure with its archive type, its light now); ``unit`` narrows them to the unit holding the case.

结案数 has two readings, both here: the dashboard and the reviews count the cases whose current closure falls in
the period (``closed``: a case reopened since is not closed; 按期结案数 is a part of it), the standard evaluation
counts the closing steps of the period (``closings``: it keeps March's figure when a case closed in March is
reopened in April).
"""
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from .models import CaseEvent
from .queries import light_q
from .states import OPEN, ArchiveType, State
from .workflow import Action


@dataclass(frozen=True)
class Indicator:
    key: str
    label: object
    actions: tuple = ()  # event indicators: the steps that put a case in the set
    periodic: bool = True  # False: a state now (open, red, yellow), the period does not apply

    def _events(self, start, end, unit=None):
        qs = CaseEvent.objects.filter(action__in=self.actions, at__gte=start, at__lt=end)
        return qs.filter(unit__code=unit) if unit else qs

    def cases_q(self, start, end, now, unit=None):
        """The cases this indicator counts in [start, end) (``now`` for the lights)."""
        if self.actions:
            # ``pk IN (the period's steps)``, not a correlated EXISTS: SQLite runs EXISTS once per case, each run
            # reading the whole period's steps through (action, at) (a year's list of a 3,000-case city: 6 s);
            # the IN list is read once through that index (2 ms). PostgreSQL plans both as the same semi-join.
            return Q(pk__in=self._events(start, end, unit).values("case_id"))
        q = _CASE_Q[self.key](start, end, now)
        return q & Q(current_unit__code=unit) if unit else q


def _closed(start, end, now):
    return Q(state=State.CLOSED, closed_at__gte=start, closed_at__lt=end)


_CASE_Q = {
    "received": lambda start, end, now: Q(created_at__gte=start, created_at__lt=end),
    "closed": _closed,
    "ontime": lambda start, end, now: _closed(start, end, now) & Q(archive_type=ArchiveType.NORMAL),
    "rework": lambda start, end, now: _closed(start, end, now) & Q(rework_count__gt=0),
    "reported_open": lambda start, end, now: Q(created_at__gte=start, created_at__lt=end, state__in=OPEN),
    "open": lambda start, end, now: Q(state__in=OPEN),
    "overdue": lambda start, end, now: Q(state__in=OPEN) & light_q("red", now),
    "yellow": lambda start, end, now: Q(state__in=OPEN) & light_q("yellow", now),
}

INDICATORS = {i.key: i for i in (
    Indicator("received", _("受理数")),
    Indicator("filed", _("立案数"), actions=(Action.FILE,)),
    Indicator("dispatched", _("派遣数"), actions=(Action.DISPATCH, Action.DISPATCH_SECOND)),
    Indicator("handled", _("处置数"), actions=(Action.FEED_BACK,)),
    Indicator("closed", _("结案数")),
    Indicator("closings", _("结案数（评价口径）"), actions=(Action.CLOSE,)),
    Indicator("ontime", _("按期结案数")),
    Indicator("rework", _("返工结案数")),
    Indicator("reported_open", _("期间上报仍未结")),
    Indicator("open", _("在办数"), periodic=False),
    Indicator("overdue", _("超期在办数"), periodic=False),
    Indicator("yellow", _("临期在办数"), periodic=False),
)}


def get(key):
    return INDICATORS.get(key)


def count_many(cases, events, start, end, now, keys=None):
    """{key: figure} for ``keys`` (all by default) in three queries: ``cases`` (scoped and filtered) reported or
    closed in the period, the open ones, and ``events`` (the same scope, already limited to the period).
    The periodic case indicators count only cases reported or closed in the period, which is what lets the
    first query skip the rest of the history."""
    keys = list(keys or INDICATORS)
    chosen = [INDICATORS[k] for k in keys]
    out = {}
    periodic = [i for i in chosen if not i.actions and i.periodic]
    if periodic:
        window = Q(created_at__gte=start, created_at__lt=end) | Q(closed_at__gte=start, closed_at__lt=end)
        out.update(cases.filter(window).aggregate(
            **{i.key: Count("pk", filter=i.cases_q(start, end, now)) for i in periodic}))
    live = [i for i in chosen if not i.periodic]
    if live:
        out.update(cases.filter(state__in=OPEN).aggregate(
            **{i.key: Count("pk", filter=i.cases_q(start, end, now)) for i in live}))
    evented = [i for i in chosen if i.actions]
    if evented:
        actions = sorted({a for i in evented for a in i.actions})
        out.update(events.filter(action__in=actions).aggregate(
            **{i.key: Count("case_id", filter=Q(action__in=i.actions), distinct=True) for i in evented}))
    return {k: out[k] for k in keys}


def count_by(key, cases, events, start, end, now, by):
    """{group: figure} of indicator ``key`` grouped by a case field ``by`` (e.g. ``responsibility_grid_id``), or
    by the steps' unit (``by="unit"``, event indicators) / the holding unit (``by="unit"``, case indicators)."""
    i = INDICATORS[key]
    if i.actions:
        field = "unit_id" if by == "unit" else f"case__{by}"
        rows = events.filter(action__in=i.actions).values(field).annotate(n=Count("case_id", distinct=True))
    else:
        field = "current_unit_id" if by == "unit" else by
        rows = cases.filter(i.cases_q(start, end, now)).values(field).annotate(n=Count("pk"))
    return {r[field]: r["n"] for r in rows.order_by()}
