"""城市综合评价 (the province's evaluation of its cities): per city and period (month, quarter or year, Asia/Shanghai
days), indicators counted from the province's own tables — the case summaries (``ProvinceCase``) and the daily
tallies (``ProvinceRegionDay``) — a weighted score 0–100, a rank and a grade A–E.

Plain Python. ``INDICATORS`` and ``GRADES`` are the whole rule (docs/province.md prints the same table); a query
counts every city at once (one grouped query per source, never one per city or per case).

Counts, for a period [start, end) and T = min(end, now):
- 上报数 ``reported``: summaries reported in the period; 立案数 ``filed``: filed in it;
- 结案数 ``closed``: closed (state ``closed``) in it; of those 按期结案数 ``ontime`` (结案类型 ``normal``: no clock
  was late up to the close, the city's own judgement), 返工结案数 ``reworked`` (``counts.rework`` > 0), rated
  ``rated`` (a satisfaction given) and satisfied ``satisfied`` (满意 or 基本满意);
- 立案已结数 ``filed_closed``: the period's filings closed before T;
- 超期未结数 ``overdue_open``: cases whose handling deadline had passed at T while the unit still held them at T
  (now in a handling state, or fed back at T or later). The summaries keep the last deadline only: a deadline
  extended after T judges the case by the new one. For the running period T is now: the exchange contract's
  reading (``handle_deadline`` against the province's clock).

An indicator whose denominator is zero has no value and is left out of the score, the others' weights scaled to
100 (a city that rated no case is neither rewarded nor punished for it). A city with no report, filing, closure
or overdue case in the period has no score, no grade and no rank (无数据).
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from urbangrid.core.bounds import date_in_range
from urbangrid.worktime import clock as wt
from urbangrid.worktime.periods import PeriodError, period_of

from .models import ProvinceCase, ProvinceCity, ProvinceRegionDay, ProvinceTallyDay

TZ = wt.TZ

# The wire's states (docs/exchange.md §2.1) in which the responsible unit holds the case; 挂账 (``suspended``)
# pauses the clock, so a suspended case is not overdue.
HANDLING_STATES = ("handling", "return_requested", "extension_requested", "suspension_requested")
ENDED_STATES = ("closed", "not_filed", "voided", "merged")
SATISFIED = ("satisfied", "basic")
RATED = ("satisfied", "basic", "dissatisfied")


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    weight: int  # points of 100
    numerator: str
    denominator: str  # a count, or "a+b" for a sum of counts
    inverse: bool = False  # a rate where less is better: it scores 100 × (1 − rate)


# The rule, one row per indicator (weights sum to 100); docs/province.md, "Evaluation".
INDICATORS = (
    Indicator("ontime_rate", gettext_lazy("按期结案率"), 35, "ontime", "closed"),
    Indicator("closure_rate", gettext_lazy("结案率"), 25, "filed_closed", "filed"),
    Indicator("rework_rate", gettext_lazy("返工率"), 15, "reworked", "closed", inverse=True),
    Indicator("overdue_rate", gettext_lazy("超期率"), 15, "overdue_open", "closed+overdue_open", inverse=True),
    Indicator("satisfaction_rate", gettext_lazy("满意率"), 10, "satisfied", "rated"),
)
# Grades by score: the first row whose minimum the score reaches (scores are rounded to 0.01 first).
GRADES = (("A", 90, "green"), ("B", 80, "blue"), ("C", 70, "yellow"), ("D", 60, "red"), ("E", 0, "black"))
COUNTS = ("reported", "filed", "filed_closed", "closed", "ontime", "reworked", "rated", "satisfied", "overdue_open")
ACTIVITY = ("reported", "filed", "closed", "overdue_open")
PERIOD_KINDS = ("month", "quarter", "year")
NO_DATA = gettext_lazy("无数据")

assert sum(i.weight for i in INDICATORS) == 100


def parse_period(kind=None, day=None, today=None):
    """The period of query parameters ``period`` (month, quarter, year; default month) and ``date`` (YYYY-MM-DD,
    default today): the one containing the date. PeriodError names the fields to fix."""
    fields = {}
    kind = kind or "month"
    if kind not in PERIOD_KINDS:
        fields["period"] = _("统计周期应为 month、quarter 或 year")
    if day:
        try:
            d = date.fromisoformat(day)
            if not date_in_range(d):
                raise ValueError(day)
        except ValueError:
            fields["date"] = _("日期应为 YYYY-MM-DD 格式的有效日期")
            d = None
    else:
        d = today or timezone.localtime(timezone.now(), TZ).date()
    if fields:
        raise PeriodError("; ".join(str(m) for m in fields.values()), fields)
    return period_of(kind, d)


def grade_of(score):
    """(grade, colour) of a score: A ≥ 90, B ≥ 80, C ≥ 70, D ≥ 60, E below (``GRADES``)."""
    for grade, minimum, color in GRADES:
        if score >= minimum:
            return grade, color
    return GRADES[-1][0], GRADES[-1][2]


def _value(counts, name):
    return sum(counts[n] for n in name.split("+"))


def score_row(counts):
    """The indicators, part scores, score and grade of one city's counts (``COUNTS``), as a dict."""
    row = dict(counts)
    parts, weight = {}, 0
    for ind in INDICATORS:
        den = _value(counts, ind.denominator)
        rate = None if not den else _value(counts, ind.numerator) / den
        row[ind.key] = rate
        if rate is not None:
            parts[ind.key] = round(100 * ((1 - rate) if ind.inverse else rate), 2)
            weight += ind.weight
    row["parts"] = parts
    row["has_data"] = any(counts[n] for n in ACTIVITY)
    if row["has_data"] and weight:
        row["score"] = round(sum(ind.weight * parts[ind.key] for ind in INDICATORS if ind.key in parts) / weight, 2)
        row["grade"], row["color"] = grade_of(row["score"])
    else:
        row["score"], row["grade"], row["color"] = None, "", ""
    return row


def with_ranks(rows):
    """Each row's ``rank`` among the rows with a score (ties share it; rows without a score have none)."""
    last, rank = None, 0
    for i, r in enumerate(sorted((r for r in rows if r["score"] is not None), key=lambda r: -r["score"]), start=1):
        if r["score"] != last:
            rank, last = i, r["score"]
        r["rank"] = rank
    for r in rows:
        r.setdefault("rank", None)
    return rows


def in_period(field, start, end):
    return Q(**{f"{field}__gte": start, f"{field}__lt": end})


def overdue_at(at):
    """The summaries overdue and still with the unit at instant ``at`` (see the module's docstring)."""
    return Q(handle_deadline__lt=at, dispatched_at__lt=at) & (Q(state__in=HANDLING_STATES) | Q(fed_back_at__gte=at))


def overdue_now(now):
    """The summaries overdue now (a handling state past its deadline): the drill-down's ``overdue`` filter."""
    return Q(state__in=HANDLING_STATES, handle_deadline__lt=now)


def case_counts(period, now=None, cities=None):
    """{city id: {count: n}} for ``COUNTS`` (two grouped queries whatever the number of cities and cases)."""
    now = now or timezone.now()
    start, end = period.start, period.end
    t = min(end, now)
    closed = Q(state="closed") & in_period("closed_at", start, end)
    filed = in_period("filed_at", start, end)
    counts = {
        "reported": Count("pk", filter=in_period("reported_at", start, end)),
        "filed": Count("pk", filter=filed),
        "filed_closed": Count("pk", filter=filed & Q(state="closed", closed_at__lt=t)),
        "closed": Count("pk", filter=closed),
        "ontime": Count("pk", filter=closed & Q(archive_type="normal")),
        "reworked": Count("pk", filter=closed & Q(counts__rework__gt=0)),
        "rated": Count("pk", filter=closed & Q(satisfaction__in=RATED)),
        "satisfied": Count("pk", filter=closed & Q(satisfaction__in=SATISFIED)),
    }
    # naming the cities lets each (city, time) index serve its range, city by city
    cities = list(ProvinceCity.objects.values_list("pk", flat=True)) if cities is None else cities
    qs = ProvinceCase.objects.filter(city__in=cities)
    out = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    # the city in each arm: PostgreSQL then ORs three (city, time) index scans instead of reading every summary
    mine = Q(city__in=cities)
    touched = (mine & in_period("reported_at", start, end)) | (mine & filed) | (mine & in_period("closed_at", start, end))
    for row in qs.filter(touched).values("city_id").annotate(**counts).order_by():
        out[row.pop("city_id")].update(row)
    # the running period asks about now: only the handling states can be overdue (the (city, state) index)
    overdue = overdue_now(now) if t == now else overdue_at(t)
    for row in (qs.filter(overdue).values("city_id").annotate(n=Count("pk")).order_by()):
        out[row["city_id"]]["overdue_open"] = row["n"]
    return out


def tally_figures(period, now=None, cities=None):
    """{city id: {...}} from the cities' own daily tallies (日统计) of the period's complete days: the days held,
    the city's 立案/结案/按期结案 counts and its average handling time (informative: not scored)."""
    now = now or timezone.now()
    last = min(period.last_day, timezone.localtime(now, TZ).date() - timedelta(days=1))
    days = {"day__gte": period.first_day, "day__lte": last}
    scope = {} if cities is None else {"city__in": cities}
    out = defaultdict(lambda: {"tally_days": 0, "t_filed": 0, "t_closed": 0, "t_ontime": 0, "handle_sum": 0,
                               "handle_n": 0})
    for row in ProvinceTallyDay.objects.filter(**days, **scope).values("city_id").annotate(n=Count("pk")).order_by():
        out[row["city_id"]]["tally_days"] = row["n"]
    sums = {"t_filed": Sum("filed"), "t_closed": Sum("closed"), "t_ontime": Sum("ontime"),
            "handle_sum": Sum("handle_sum"), "handle_n": Sum("handle_n")}
    for row in ProvinceRegionDay.objects.filter(**days, **scope).values("city_id").annotate(**sums).order_by():
        out[row.pop("city_id")].update({k: v or 0 for k, v in row.items()})
    for figures in out.values():
        figures["t_ontime_rate"] = figures["t_ontime"] / figures["t_closed"] if figures["t_closed"] else None
        figures["handle_hours"] = (round(figures["handle_sum"] / figures["handle_n"] / 3600, 2)
                                   if figures["handle_n"] else None)
    out.default_factory = None
    return out, max(0, (last - period.first_day).days + 1)


def evaluate(period, now=None):
    """The rows of every registered city for ``period``, best first (ranked; cities without a score last, by
    code): code, name, the counts, each indicator's rate, part scores, score, grade, colour, rank and the
    tally figures. Five queries."""
    now = now or timezone.now()
    cities = list(ProvinceCity.objects.order_by("code").values("pk", "code", "name"))
    ids = [c["pk"] for c in cities]
    counts = case_counts(period, now, ids)
    tallies, expected_days = tally_figures(period, now, ids)
    rows = []
    for city in cities:
        row = score_row(counts.get(city["pk"], dict.fromkeys(COUNTS, 0)))
        row.update(city_id=city["pk"], code=city["code"], name=city["name"], expected_days=expected_days,
                   **tallies.get(city["pk"], {"tally_days": 0, "t_ontime_rate": None, "handle_hours": None,
                                              "t_filed": 0, "t_closed": 0, "t_ontime": 0}))
        row.pop("handle_sum", None), row.pop("handle_n", None)
        rows.append(row)
    with_ranks(rows)
    rows.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["code"]))
    return rows


# --- what the page, the JSON and the workbook show ------------------------------------------------------

def columns():
    """(key, label, kind) of the evaluation table; kind: count, rate, score, text."""
    return [
        ("rank", _("排名"), "count"), ("code", _("城市代码"), "text"), ("name", _("城市名称"), "text"),
        ("reported", _("上报数"), "count"), ("filed", _("立案数"), "count"), ("closed", _("结案数"), "count"),
        ("ontime", _("按期结案数"), "count"), ("overdue_open", _("超期未结数"), "count"),
        *[(i.key, str(i.label), "rate") for i in INDICATORS],
        ("handle_hours", _("平均处置时长（小时）"), "score"), ("tally_days", _("日统计天数"), "count"),
        ("score", _("综合得分"), "score"), ("grade", _("等级"), "text"),
    ]


def as_json(row):
    """One city's row for the JSON answer (rates as fractions, ``null`` when they have no value)."""
    keys = ("rank", "code", "name", *COUNTS, *(i.key for i in INDICATORS), "parts", "score", "grade", "has_data",
            "tally_days", "expected_days", "t_filed", "t_closed", "t_ontime", "t_ontime_rate", "handle_hours")
    return {k: row.get(k) for k in keys}


def rule_table():
    """The weights and grades as the page and the JSON print them."""
    return {"indicators": [{"key": i.key, "label": str(i.label), "weight": i.weight, "numerator": i.numerator,
                            "denominator": i.denominator, "inverse": i.inverse} for i in INDICATORS],
            "grades": [{"grade": g, "min": m} for g, m, _c in GRADES]}
