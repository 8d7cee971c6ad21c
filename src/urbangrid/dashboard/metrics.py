"""Leaders' dashboard (领导驾驶舱) figures: KPI tiles, trends, top classes, rankings and the open-case map.

Every figure is an ORM aggregate over the period's rows only: cases by ``created_at`` (受理) or
``closed_at`` (结案), both indexed, and case events by the ``(action, at)`` index (立案, 派遣), so the
cost grows with the period's data, not with the whole history. Open cases (the map, 超期) are found by
``state``. Periods are calendar dates in Asia/Shanghai: ``[date_from 00:00, date_to + 1 day 00:00)``.

Definitions (docs/standards.md, Dashboard and grid-page figures):
- 受理数 received: cases reported in the period;
- 立案数 filed / 派遣数 dispatched: cases with a ``file`` / ``dispatch`` event in the period (the event
  log is the source of truth; a case dispatched twice counts once);
- 结案数 closed: cases in state closed whose ``closed_at`` is in the period;
- 按期结案率 on-time closure rate = closed with archive type 正常 / closed;
- 返工率 rework rate = closed cases that had at least one rework / closed;
- 超期 overdue now: open cases whose clock shows red (``queries.light_q``), at the moment of asking.
A rate with a zero denominator is ``None`` (shown as "—"), never 0 % or 100 %.
"""
import hashlib
import math
import time as _time
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db import connection
from django.db.models import CharField, Count, F, Func, Q
from django.db.models.functions import Round, TruncDay, TruncMonth, TruncWeek
from django.db.models.lookups import Exact
from django.utils import timezone

from urbangrid.cases import indicators
from urbangrid.cases.models import Case, CaseEvent
from urbangrid.cases.services import visible_cases
from urbangrid.cases.states import OPEN, ArchiveType, Source, State
from urbangrid.catalog.models import CatalogClass
from urbangrid.core.tenancy import PerCity
from urbangrid.org.reach import reach_of

TZ = ZoneInfo("Asia/Shanghai")
PRESETS = ("month", "30d", "year", "custom")
GRAINS = ("day", "week", "month")
MAP_LIMIT = 5000
HEAT_LIMIT = 5000
HEAT_DIGITS = 3
TOP_CLASSES = 10
_TRUNC = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}


def _plain(field):
    """``field`` as an expression no index can serve: filters by source, class, district or state must not lead the
    plan (SQLite, without statistics, would prefer ``source = 'inspector'``, 93 % of all cases, over the period's
    ``created_at`` range); the period's indexed range does."""
    return Func(F(field), template="(%(expressions)s || '')", output_field=CharField())


def _eq(field, value):
    return Q(Exact(_plain(field), value))


def today():
    return timezone.now().astimezone(TZ).date()


def _parse_date(value):
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None


@dataclass
class Filters:
    """A period (calendar dates, both included) and the optional filters of the dashboard."""

    date_from: date
    date_to: date
    preset: str = "custom"
    district: str = ""  # region code of a district
    class_code: str = ""
    catalog_version: str = ""  # with class_code: one class of one catalogue version
    source: str = ""
    grain: str = ""  # "" = chosen from the period's length
    errors: list = field(default_factory=list)

    @property
    def start(self):
        return datetime.combine(self.date_from, time.min, tzinfo=TZ)

    @property
    def end(self):  # exclusive
        return datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=TZ)

    @property
    def days(self):
        return (self.date_to - self.date_from).days + 1

    @property
    def trend_grain(self):
        if self.grain in GRAINS:
            return self.grain
        if self.days <= 62:
            return "day"
        if self.days <= 190:
            return "week"
        return "month"

    @property
    def class_value(self):
        """The class select's value: ``code@version`` (or the bare code)."""
        if not self.class_code:
            return ""
        return f"{self.class_code}@{self.catalog_version}" if self.catalog_version else self.class_code

    def case_q(self, prefix=""):
        """The non-period filters as a Q on Case (``prefix`` e.g. ``"case__"`` from an event)."""
        q = Q()
        if self.district:
            q &= _eq(f"{prefix}district__code", self.district)
        if self.class_code:
            q &= _eq(f"{prefix}class_code", self.class_code)
            if self.catalog_version:
                q &= _eq(f"{prefix}catalog_version", self.catalog_version)
        if self.source:
            q &= _eq(f"{prefix}source", self.source)
        return q

    def query_params(self):
        """The filters as dashboard GET parameters (for links that keep them)."""
        params = {"period": self.preset}
        if self.preset == "custom":
            params.update({"from": self.date_from.isoformat(), "to": self.date_to.isoformat()})
        for key, value in (("district", self.district), ("class", self.class_value), ("source", self.source),
                           ("grain", self.grain)):
            if value:
                params[key] = value
        return params

    def as_dict(self):
        return {"preset": self.preset, "from": self.date_from.isoformat(), "to": self.date_to.isoformat(),
                "days": self.days, "grain": self.trend_grain, "district": self.district, "class_code": self.class_code,
                "catalog_version": self.catalog_version, "source": self.source}


def period_for(preset, on=None):
    """(from, to) of a preset period ending today (Asia/Shanghai)."""
    on = on or today()
    if preset == "30d":
        return on - timedelta(days=29), on
    if preset == "year":
        return on.replace(month=1, day=1), on
    return on.replace(day=1), on  # "month"


def parse_filters(params, on=None):
    """Filters from GET parameters: period=month|30d|year|custom, from, to, district, class, source, grain.
    Anything invalid falls back to a sensible default and is reported in ``errors``."""
    on = on or today()
    errors = []
    preset = params.get("period") or ""
    d_from, d_to = _parse_date(params.get("from")), _parse_date(params.get("to"))
    if preset not in PRESETS:
        preset = "custom" if (d_from or d_to) and not preset else "month"
    if preset == "custom":
        if not d_from and not d_to:
            errors.append("period")
            preset = "month"
            d_from, d_to = period_for(preset, on)
        else:
            d_from = d_from or d_to
            d_to = d_to or d_from
            if d_from > d_to:
                d_from, d_to = d_to, d_from
            if (d_to - d_from).days > 366 * 5:  # a dashboard, not an archive export
                d_from = d_to - timedelta(days=366 * 5)
                errors.append("period")
    else:
        d_from, d_to = period_for(preset, on)
    source = params.get("source") or ""
    if source and source not in Source.values:
        errors.append("source")
        source = ""
    class_code, _, version = (params.get("class") or params.get("class_code") or "").partition("@")
    version = version or params.get("catalog_version") or ""
    if class_code and not class_code.isdigit():
        errors.append("class")
        class_code = version = ""
    district = (params.get("district") or "").strip()
    if district and not district.isdigit():
        errors.append("district")
        district = ""
    grain = params.get("grain") or ""
    if grain not in GRAINS:
        grain = ""
    return Filters(date_from=d_from, date_to=d_to, preset=preset, district=district, class_code=class_code.strip(),
                   catalog_version=version.strip(), source=source, grain=grain, errors=errors)


def scoped_cases(actor, f):
    """Cases the actor may see, narrowed by the filters (not by the period)."""
    qs = Case.objects.all() if actor is None else visible_cases(actor)
    return qs.filter(f.case_q()).order_by()


def _events(actor, f):
    qs = CaseEvent.objects.filter(at__gte=f.start, at__lt=f.end).filter(f.case_q("case__"))
    if actor is not None and not reach_of(actor, "case.view").everything:
        qs = qs.filter(case__in=visible_cases(actor).values("pk"))
    return qs.order_by()


def _rate(num, den):
    return None if not den else round(num / den, 4)


def _created_q(f):
    return Q(created_at__gte=f.start, created_at__lt=f.end)


def _closed_q(f):
    return _eq("state", State.CLOSED) & Q(closed_at__gte=f.start, closed_at__lt=f.end)


KPI_KEYS = ("received", "filed", "dispatched", "closed", "ontime", "rework", "open", "overdue", "yellow")


def kpis(actor, f, now=None):
    """The KPI tiles, as ``cases.indicators`` defines each figure: three queries (the period's cases, the
    period's events, the open cases)."""
    now = now or timezone.now()
    counted = indicators.count_many(scoped_cases(actor, f), _events(actor, f), f.start, f.end, now, KPI_KEYS)
    return {**counted, "ontime_rate": _rate(counted["ontime"], counted["closed"]),
            "rework_rate": _rate(counted["rework"], counted["closed"])}


def _buckets(f, grain):
    if grain == "day":
        d = f.date_from
    elif grain == "week":
        d = f.date_from - timedelta(days=f.date_from.weekday())
    else:
        d = f.date_from.replace(day=1)
    out = []
    while d <= f.date_to:
        out.append(d)
        if grain == "day":
            d += timedelta(days=1)
        elif grain == "week":
            d += timedelta(days=7)
        else:
            d = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
    return out


def _bucket_key(value):
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = value.astimezone(TZ)
        return value.date()
    return value


def trend(actor, f):
    """Received and closed per day, week (from Monday) or month of the period, with empty buckets as 0."""
    grain = f.trend_grain
    trunc = _TRUNC[grain]
    cases = scoped_cases(actor, f)
    received = {_bucket_key(r["b"]): r["n"] for r in cases.filter(_created_q(f))
                .annotate(b=trunc("created_at", tzinfo=TZ)).values("b").annotate(n=Count("pk")).order_by()}
    closed = {_bucket_key(r["b"]): r["n"] for r in cases.filter(_closed_q(f))
              .annotate(b=trunc("closed_at", tzinfo=TZ)).values("b").annotate(n=Count("pk")).order_by()}
    buckets = _buckets(f, grain)
    return {
        "grain": grain,
        "labels": [b.strftime("%Y-%m") if grain == "month" else b.isoformat() for b in buckets],
        "received": [received.get(b, 0) for b in buckets],
        "closed": [closed.get(b, 0) for b in buckets],
    }


def top_classes(actor, f, limit=TOP_CLASSES):
    """The commonest classes among the period's received cases (class code and catalogue version as filed)."""

    rows = list(scoped_cases(actor, f).filter(_created_q(f)).values("class_code", "catalog_version")
                .annotate(n=Count("pk")).order_by("-n", "class_code", "catalog_version")[:limit])
    names = {}
    if rows:
        q = Q()
        for r in rows:
            q |= Q(code=r["class_code"], version__code=r["catalog_version"])
        for code, version, name in CatalogClass.objects.filter(q).values_list("code", "version__code", "name"):
            names.setdefault((code, version), name)
    return [{"code": r["class_code"], "version": r["catalog_version"], "name": names.get((r["class_code"], r["catalog_version"]), ""),
             "n": r["n"]} for r in rows]


RANK_DIMENSIONS = {
    # key: (id field, code field, name field)
    "grid": ("responsibility_grid_id", "responsibility_grid__code", "responsibility_grid__name"),
    "unit": ("current_unit_id", "current_unit__code", "current_unit__name"),
    "district": ("district_id", "district__code", "district__name"),
}


def rankings(actor, f):
    """Per responsibility grid, current unit and district: received, closed, on time and the on-time rate.
    One grouped query per dimension; rows sorted by received (the page re-sorts by the chosen measure)."""
    cases = scoped_cases(actor, f)
    created, closed = _created_q(f), _closed_q(f)
    period = cases.filter(Q(created_at__gte=f.start, created_at__lt=f.end) | Q(closed_at__gte=f.start, closed_at__lt=f.end))
    out = {}
    for key, (id_field, code_field, name_field) in RANK_DIMENSIONS.items():
        rows = (period.filter(**{f"{id_field}__isnull": False}).values(id_field, code_field, name_field)
                .annotate(received=Count("pk", filter=created), closed=Count("pk", filter=closed),
                          ontime=Count("pk", filter=closed & Q(archive_type=ArchiveType.NORMAL))).order_by())
        items = [{"code": r[code_field] or "", "name": r[name_field] or "", "received": r["received"], "closed": r["closed"],
                  "ontime": r["ontime"], "ontime_rate": _rate(r["ontime"], r["closed"])} for r in rows]
        items.sort(key=lambda r: (-r["received"], -r["closed"], r["code"]))
        out[key] = items
    return out


def open_case_map(actor, f, now=None, limit=MAP_LIMIT):
    """Open cases as compact rows [lon, lat, light, number] (newest first, at most ``limit``), their total,
    and the number of open cases per responsibility grid code (for shading)."""
    now = now or timezone.now()
    open_cases = scoped_cases(actor, f).filter(state__in=OPEN)
    rows = []
    for lon, lat, stage, deadline, yellow_at, paused_at, number in (
            open_cases.filter(lon__isnull=False).order_by("-created_at").values_list("lon", "lat", "stage", "stage_deadline", "stage_yellow_at",
                                                           "stage_paused_at", "number")[:limit]):
        rows.append([round(lon, 6), round(lat, 6), _light(stage, deadline, yellow_at, paused_at, now), number])
    per_grid = {code: n for code, n in open_cases.filter(responsibility_grid__isnull=False)
                .values_list("responsibility_grid__code").annotate(n=Count("pk")).order_by() if code}
    total = len(rows) if len(rows) < limit else open_cases.filter(lon__isnull=False).count()
    return {"cases": rows, "total": total, "truncated": total > len(rows), "grid_open": per_grid}


def _light(stage, deadline, yellow_at, paused_at, now):
    """Same rule as ``engine.light`` / ``queries.light_q``; "" when no clock runs."""
    if not stage or not deadline:
        return ""
    at = paused_at or now
    if at > deadline:
        return "red"
    if yellow_at and at > yellow_at:
        return "yellow"
    return "green"


def heat_points(actor, f, limit=HEAT_LIMIT, digits=HEAT_DIGITS):
    """Where the period's cases were reported, for the heatmap: [lon, lat, n] per cell of ``digits`` decimals
    (3 ≈ 100 m), counted in SQL, so a year of cases costs one grouped query and a payload of at most ``limit``
    cells (the busiest ones)."""
    rows = (scoped_cases(actor, f).filter(_created_q(f), lon__isnull=False).values(hlon=Round("lon", digits), hlat=Round("lat", digits))
            .annotate(n=Count("pk")).order_by("-n", "hlon", "hlat")[:limit])
    return [[round(float(r["hlon"]), digits), round(float(r["hlat"]), digits), r["n"]] for r in rows]


# --- a megacity's history: the same figures, computed once a minute --------------------------------------

# At 3 million cases a year a month is 250,000 cases: each aggregate above then reads that many rows
# (seconds under load). Leaders look at the same period and scope: above this many cases (the planner's
# estimate, PostgreSQL only) the figures are computed once per scope, filters and minute and shared
# through the cache (Redis in production); a small city, SQLite and the tests always compute them live.
CACHE_FROM_CASES = 200_000
CACHE_SECONDS = 60
_size = PerCity(lambda: {"at": -math.inf, "large": False})  # each city its own case table; never read yet


def large_history():
    """Whether the case table holds more than ``CACHE_FROM_CASES`` rows by PostgreSQL's estimate
    (``pg_class.reltuples``, no scan), asked at most once a minute per process."""

    if connection.vendor != "postgresql":
        return False
    if _time.monotonic() - _size["at"] > 60:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [Case._meta.db_table])
            row = cursor.fetchone()
        _size.update(at=_time.monotonic(), large=bool(row and row[0] >= CACHE_FROM_CASES))
    return _size["large"]


def _scope_key(actor):
    """Who sees what: every city-wide actor sees the same cases; anyone else by login and scope."""
    if actor is None:
        return "city"
    reach = reach_of(actor, "case.view")
    return "city" if reach.everything else hashlib.sha1(reach.key().encode()).hexdigest()


def cached(name, actor, f, compute):
    """``compute()`` or, for a large history, its result of the last minute for the same scope and filters.
    When that result is older than ``CACHE_SECONDS`` one request (holding a short lock) recomputes it while
    the others still answer with it, so the workers do not all recompute at the same moment."""
    if not large_history():
        return compute()

    key = "dashboard:" + hashlib.sha1(repr((name, _scope_key(actor), sorted(f.as_dict().items()))).encode()).hexdigest()
    hit = cache.get(key)
    if hit is not None and (_time.time() - hit[0] < CACHE_SECONDS or not cache.add(key + ":lock", 1, 120)):
        return hit[1]
    try:
        value = compute()
        cache.set(key, (_time.time(), value), CACHE_SECONDS * 10)
    finally:
        if hit is not None:
            cache.delete(key + ":lock")
    return value


def dashboard_data(actor, f, now=None):
    """Everything ``/dashboard/data.json`` returns."""
    now = now or timezone.now()
    case_map = open_case_map(actor, f, now)
    case_map["heat"] = heat_points(actor, f)
    return {
        "period": f.as_dict(),
        "kpi": kpis(actor, f, now),
        "trend": trend(actor, f),
        "top_classes": top_classes(actor, f),
        "rankings": rankings(actor, f),
        "map": case_map,
        "generated_at": now.astimezone(TZ).isoformat(timespec="seconds"),
    }
