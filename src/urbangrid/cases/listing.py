"""案件查询: the one filter of case lists. The workbenches and the case list (web), the API's lists and the
drill-downs from figures all narrow and sort cases here, so a filter means the same on every door.

A door turns its parameters into a ``CaseFilter`` (``from_data``: a form's cleaned data or an API query's
fields; unknown keys are ignored, empty values mean "any") and calls ``narrow`` then ``ordered``. Who may see
which cases is not decided here: the caller passes the visible cases (``services.visible_cases`` or a to-do
list) as ``qs``.
"""
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta

from django.db.models import Case as CaseWhen
from django.db.models import F, IntegerField, Q, Value, When
from django.utils import timezone

from urbangrid.worktime.clock import TZ

from . import indicators, queries

DATE_FIELDS = ("created_at", "filed_at", "dispatched_at", "closed_at")
SORTS = ("deadline", "-deadline", "reported", "-reported")


@dataclass(frozen=True)
class CaseFilter:
    states: tuple = ()          # any of these states
    light: str = ""             # red / yellow / green (queries.light_q)
    grid: str = ""              # responsibility grid code
    unit: str = ""              # current unit code (for a figure's drill-down: the steps' unit)
    district: str = ""          # district region code
    class_code: str = ""
    source: str = ""
    catalog_version: str = ""
    archive_type: str = ""      # normal / overdue
    rework: bool = False        # only cases sent back at least once
    self_handled: str = ""      # "1" only 自行处置 cases, "0" none of them, "" both
    q: str = ""                 # number, description or address contains
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    date_field: str = "created_at"
    kpi: str = ""               # a figure's key (cases.indicators): the cases it counts over the dates
    sort: str = "deadline"

    @classmethod
    def from_data(cls, data, **defaults):
        """From a form's cleaned data or an API query's fields (``state`` may be one value or a list)."""
        data = {k: v for k, v in dict(data or {}).items() if v not in (None, "", [], ())}
        if isinstance(data.get("self_handled"), bool):
            data["self_handled"] = "1" if data["self_handled"] else "0"
        state = data.pop("state", None)
        if state is not None:
            data["states"] = tuple(state) if isinstance(state, (list, tuple)) else (state,)
        names = {f.name for f in fields(cls)}
        return cls(**{**defaults, **{k: v for k, v in data.items() if k in names}})

    def is_empty(self):
        """No narrowing asked (the sort is not a filter)."""
        return all(getattr(self, f.name) == f.default for f in fields(self) if f.name != "sort")


def _day_start(d):
    return datetime.combine(d, time.min, TZ)


def narrow(qs, f, now=None):
    """``qs`` narrowed by ``f``."""
    if f.states:
        qs = qs.filter(state__in=f.states)
    if f.light:
        qs = qs.filter(queries.light_q(f.light))
    for value, lookup in ((f.grid, "responsibility_grid__code"), (f.district, "district__code"),
                          (f.class_code, "class_code"), (f.source, "source"), (f.catalog_version, "catalog_version"),
                          (f.archive_type, "archive_type")):
        if value:
            qs = qs.filter(**{lookup: value})
    if f.rework:
        qs = qs.filter(rework_count__gt=0)
    if f.self_handled in ("0", "1"):
        qs = qs.filter(self_handled=f.self_handled == "1")
    indicator = indicators.get(f.kpi) if f.kpi else None
    if indicator is not None:  # a figure's drill-down: the very cases it counts (its unit: the steps' unit)
        start = _day_start(f.date_from or date(2000, 1, 1))
        end = _day_start((f.date_to or timezone.localdate()) + timedelta(days=1))
        qs = qs.filter(indicator.cases_q(start, end, now or timezone.now(), unit=f.unit or None))
    else:
        field = f.date_field if f.date_field in DATE_FIELDS else "created_at"
        if f.date_from:
            qs = qs.filter(**{f"{field}__gte": _day_start(f.date_from)})
        if f.date_to:
            qs = qs.filter(**{f"{field}__lt": _day_start(f.date_to + timedelta(days=1))})
        if f.unit:
            qs = qs.filter(current_unit__code=f.unit)
    if f.q:
        qs = qs.filter(Q(number__icontains=f.q) | Q(description__icontains=f.q) | Q(address__icontains=f.q))
    return qs


def ordered(qs, sort="deadline", queue=False):
    """``qs`` in the order ``sort`` names: by the running deadline (nearest first, or latest first), or by the
    report time. ``queue``: a to-do list, small by nature; it is sorted after the match rather than by walking
    the deadline index, which for the intake queue (closed cases awaiting a return visit, with no deadline:
    last in that index) would read the whole history to find fifty rows."""
    if sort in ("reported", "-reported"):  # oldest report first, or newest
        return qs.order_by("created_at", "pk") if sort == "reported" else qs.order_by("-created_at", "-pk")
    deadline = F("stage_deadline")
    order = deadline.desc(nulls_last=True) if sort == "-deadline" else deadline.asc(nulls_last=True)
    if queue:  # the same order ("nulls last" spelt out), which no index provides
        no_deadline = CaseWhen(When(stage_deadline__isnull=True, then=Value(1)), default=Value(0), output_field=IntegerField())
        return qs.order_by(no_deadline, order, "-created_at", "-pk")
    return qs.order_by(order, "-created_at", "-pk")
