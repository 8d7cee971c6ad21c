"""Periodic reviews (讲评/督查/总结/调度/考核) built from the case event log for any period.

The cadence of local practice (docs/standards.md, Deductions): 日讲评 (daily review), 周督查 (weekly inspection), 月总结 (monthly summary),
季调度 (quarterly scheduling) and 年考核 (yearly assessment). Each ``build(kind, period, scope)`` returns
one ``Review``: a few summary figures, a list of ``Section`` tables (columns + rows + drill-down links to
the cases behind a figure) and chart data. The page, the printable page, the Excel export and the API
all render that one structure, so they always show the same numbers.

Sources: the standard evaluation (``evaluation.Evaluation``: units, regions, positions, from CaseEvent rows
of the period), GROUP BY queries over ``CaseEvent`` by the ``(action, at)`` index bounded by the period,
open cases by ``state`` with their lights (``queries.light_q``), and the deduction scores
(``scoring.target_scores``; an empty list is fine). The cost is a fixed number of queries per review.

Scope (``ReviewScope``): leaders, centre staff and admin see everything; a unit's staff the rows of
their unit; grid leaders (网格长, 副网格长, 网格联络员, 分网格长) the rows of their grids; a party secretary
(书记 in the person's title, as for deductions) his organisation, its sub-organisations, their grids and
members. City-wide rows (districts, streets, classes, totals) are for the full scope only.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from urbangrid.cases import indicators
from urbangrid.cases.engine import light
from urbangrid.cases.models import Case, CaseEvent
from urbangrid.cases.queries import light_q
from urbangrid.cases.states import OPEN, State
from urbangrid.cases.workflow import Action
from urbangrid.org.roles import Role

from .evaluation import NO_DATA, TZ, Evaluation, Period, PeriodError, period_of

KINDS = {  # review kind -> (period kind, title)
    "daily": ("day", gettext_lazy("日讲评")),
    "weekly": ("week", gettext_lazy("周督查")),
    "monthly": ("month", gettext_lazy("月总结")),
    "quarterly": ("quarter", gettext_lazy("季调度")),
    "yearly": ("year", gettext_lazy("年考核")),
}
LIST_LIMIT = 500  # case lists (open, overdue, supervised) show the first rows; the drill-down link has them all
TOP_N = 10
SCOPE_GRID_ROLES = (Role.GRID_LEADER, Role.DEPUTY_GRID_LEADER, Role.GRID_LIAISON, Role.SUB_GRID_LEADER)
LIGHT_LABELS = {"red": gettext_lazy("红灯"), "yellow": gettext_lazy("黄灯"), "green": gettext_lazy("绿灯"), "": "—"}


# --- scope --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReviewScope:
    """What one actor may see in the reviews."""

    everything: bool = False
    unit_ids: frozenset = frozenset()
    grid_ids: frozenset = frozenset()
    party_ids: frozenset = frozenset()  # the secretary's organisation and its sub-organisations
    person_id: int | None = None

    @property
    def empty(self):
        return not (self.everything or self.unit_ids or self.grid_ids or self.party_ids)

    def unit(self, unit_id):
        return self.everything or unit_id in self.unit_ids

    def grid(self, grid_id):
        return self.everything or grid_id in self.grid_ids

    def party(self, org_id):
        return self.everything or org_id in self.party_ids

    def case(self, grid_id, unit_id):
        return self.everything or grid_id in self.grid_ids or unit_id in self.unit_ids


def party_tree():
    """{org id: (code, name, level, parent id, unit id)} and {org id: [child ids]} in two queries."""
    from urbangrid.org.models import PartyOrganization

    orgs = {r[0]: r[1:] for r in PartyOrganization.objects.order_by("code").values_list(
        "pk", "code", "name", "level", "parent_id", "unit_id")}
    children = defaultdict(list)
    for pk, (_c, _n, _l, parent, _u) in orgs.items():
        if parent:
            children[parent].append(pk)
    return orgs, children


def subtree(org_id, children):
    out, frontier = {org_id}, [org_id]
    while frontier:
        frontier = [c for p in frontier for c in children.get(p, ())]
        out.update(frontier)
    return out


def owned_grids(org_ids):
    """{org id: set of responsibility grid ids it owns itself} (one query)."""
    from urbangrid.org.models import PartyOrganization

    out = defaultdict(set)
    for pk, grid_id in PartyOrganization.grids.through.objects.filter(partyorganization_id__in=org_ids).values_list(
            "partyorganization_id", "responsibilitygrid_id"):
        out[pk].add(grid_id)
    return out


def scope_of(actor):
    """The actor's ReviewScope (empty: he may not open the reviews)."""
    if not actor.is_authenticated:
        return ReviewScope()
    person = actor.person
    if actor.city_wide or actor.can("dashboard.view") or actor.can("assessment.review_appeal"):
        return ReviewScope(everything=True, person_id=getattr(person, "pk", None))
    grids = set()
    for role in SCOPE_GRID_ROLES:
        grids |= actor.grids_as(role)
    parties = set()
    if person is not None and person.party_organization_id and "书记" in (person.title or ""):
        _orgs, children = party_tree()
        parties = subtree(person.party_organization_id, children)
        for gs in owned_grids(parties).values():
            grids |= gs
    return ReviewScope(unit_ids=frozenset(actor.unit_ids), grid_ids=frozenset(grids), party_ids=frozenset(parties),
                       person_id=getattr(person, "pk", None))


# --- the table structure ------------------------------------------------------------------------

# The columns that read "无数据" in a row without activity (``has_data`` false; see ``evaluation.has_activity``).
NO_DATA_KEYS = frozenset({"score", "grade", "pay_score", "eval_score"})


def shown(row, key):
    """A row's value for a page or workbook cell: "无数据" for the score and grade of a subject without activity."""
    if key in NO_DATA_KEYS and row.get("has_data") is False:
        return str(NO_DATA)
    return row.get(key)


# column kinds: text, int, float, rate (a fraction shown as %), grade, light, date
@dataclass
class Section:
    key: str
    title: str
    columns: list  # [(key, label, kind)]
    rows: list  # dicts keyed by column key; "_links" {column key: url}; "color" for grades
    note: str = ""

    def as_dict(self):
        return {"key": self.key, "title": str(self.title), "note": str(self.note),
                "columns": [{"key": k, "label": str(label), "kind": kind} for k, label, kind in self.columns],
                "rows": [{"cells": {k: r.get(k) for k, _l, _k in self.columns}, "links": r.get("_links", {}),
                          "color": r.get("color", ""), "kind": r.get("kind", ""), "has_data": r.get("has_data", True)}
                         for r in self.rows]}


@dataclass
class Review:
    kind: str
    title: str
    period: Period
    summary: list = field(default_factory=list)  # [(key, label, value, kind, link)]
    sections: list = field(default_factory=list)
    charts: dict = field(default_factory=dict)
    generated_at: object = None
    partial: str = ""  # a period still running: "截至12月3日（本月进行中）"
    span_note: str = ""  # what the summary compares: the periods, or the same span of the previous one

    def section(self, key):
        return next(s for s in self.sections if s.key == key)

    def as_dict(self):
        return {"kind": self.kind, "title": str(self.title), "period": period_out(self.period),
                "generated_at": self.generated_at.isoformat() if self.generated_at else None,
                "summary": [{"key": k, "label": str(label), "value": v, "kind": kind, "link": link}
                            for k, label, v, kind, link in self.summary],
                "sections": [s.as_dict() for s in self.sections], "charts": self.charts,
                "partial": str(self.partial), "comparison": str(self.span_note)}


def period_out(p):
    return {"kind": p.kind, "first_day": p.first_day, "last_day": p.last_day, "start": p.start.isoformat(),
            "end": p.end.isoformat(), "label": p.label()}


def cases_url(**params):
    """A drill-down link to the case list (/cases/) with its filter parameters."""
    return "/cases/?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})


def kpi_url(p, key, **params):
    """The drill-down of a figure defined in ``cases.indicators``: exactly the cases it counts in ``p``."""
    return cases_url(kpi=key, date_from=p.first_day.isoformat(), date_to=p.last_day.isoformat(), **params)


def figures(p, now, keys):
    """City figures of ``p`` as ``cases.indicators`` defines them (what their links list)."""
    return indicators.count_many(Case.objects.all(), CaseEvent.objects.filter(at__gte=p.start, at__lt=p.end).order_by(),
                                 p.start, p.end, now, keys)


def figures_by(p, now, key, by):
    return indicators.count_by(key, Case.objects.all(), CaseEvent.objects.filter(at__gte=p.start, at__lt=p.end),
                               p.start, p.end, now, by)


def period_params(p, date_field="created_at"):
    return {"date_from": p.first_day.isoformat(), "date_to": p.last_day.isoformat(), "date_field": date_field}


def ratio(num, den):
    return None if not den else num / den


def _grade_counts(rows):
    out = defaultdict(int)
    for r in rows:
        out[r.get("grade") or (str(NO_DATA) if r.get("has_data") is False else "—")] += 1
    return dict(sorted(out.items()))


# --- shared figures -----------------------------------------------------------------------------

def _events(p, actions):
    return CaseEvent.objects.filter(action__in=actions, at__gte=p.start, at__lt=p.end).order_by()


def event_counts(p, actions, by):
    """{(group value, action): n} for the period's events of ``actions`` grouped by ``by`` (one GROUP BY)."""
    rows = _events(p, actions).values(by, "action").annotate(n=Count("pk"))
    return {(r[by], r["action"]): r["n"] for r in rows}


def totals(p):
    """City totals of the period in one GROUP BY: 上报, 立案, 派遣, 处置, 返工, 结案, 督办."""
    actions = (Action.REPORT, Action.FILE, Action.DISPATCH, Action.FEED_BACK, Action.CHECK_FAIL, Action.CLOSE,
               Action.SUPERVISE)
    n = dict(_events(p, actions).values_list("action").annotate(n=Count("pk")))
    return {a: n.get(a, 0) for a in actions}


def _grids():
    from urbangrid.grids.models import ResponsibilityGrid

    return {pk: (code, name) for pk, code, name in ResponsibilityGrid.objects.order_by("code").values_list("pk", "code", "name")}


def _units():
    from urbangrid.org.models import Unit

    return {pk: (code, name) for pk, code, name in Unit.objects.order_by("code").values_list("pk", "code", "name")}


def _case_rows(qs, now, scope, grids, units, extra=None):
    """Case list rows with lights, for open/overdue/supervised lists (LIST_LIMIT rows)."""
    rows = []
    for c in _scoped(qs, scope).only("pk", "number", "state", "class_code", "address", "responsibility_grid_id", "current_unit_id",
                                     "stage", "stage_deadline", "stage_yellow_at", "stage_paused_at", "created_at")[:LIST_LIMIT]:
        lt = light(c, now)
        g, u = grids.get(c.responsibility_grid_id, ("", "")), units.get(c.current_unit_id, ("", ""))
        overdue_h = None
        if lt == "red" and c.stage_deadline:
            overdue_h = round(((c.stage_paused_at or now) - c.stage_deadline).total_seconds() / 3600, 1)
        row = {"number": c.number, "grid": g[0], "unit": u[1], "class_code": c.class_code, "state": str(State(c.state).label),
               "light": lt, "light_label": str(LIGHT_LABELS.get(lt, "")), "reported_at": c.created_at.astimezone(TZ).strftime("%Y-%m-%d %H:%M"),
               "deadline": c.stage_deadline.astimezone(TZ).strftime("%Y-%m-%d %H:%M") if c.stage_deadline else None,
               "overdue_hours": overdue_h, "color": lt, "_links": {"number": f"/cases/{c.number}/"}}
        if extra:
            row.update(extra.get(c.pk, {}))
        rows.append(row)
    return rows


CASE_COLUMNS = [("number", gettext_lazy("案件编号"), "text"), ("grid", gettext_lazy("责任网格"), "text"),
                ("unit", gettext_lazy("处置单位"), "text"), ("class_code", gettext_lazy("小类代码"), "text"),
                ("state", gettext_lazy("状态"), "text"), ("light_label", gettext_lazy("灯"), "light"),
                ("reported_at", gettext_lazy("上报时间"), "text"), ("deadline", gettext_lazy("环节时限"), "text")]


def _scoped(qs, scope):
    """Cases in the scope's grids or at its units (all for the full scope)."""
    if scope.everything:
        return qs
    return qs.filter(Q(responsibility_grid_id__in=scope.grid_ids) | Q(current_unit_id__in=scope.unit_ids))


def _visible_open(scope):
    return _scoped(Case.objects.filter(state__in=OPEN), scope)


def _eval_cols(level):
    if level == "unit":
        return [("unit_code", gettext_lazy("单位编码"), "text"), ("unit_name", gettext_lazy("单位名称"), "text"),
                ("filed", gettext_lazy("立案数"), "int"), ("closed", gettext_lazy("结案数"), "int"),
                ("due_closed", gettext_lazy("应结案数"), "int"), ("close_rate", gettext_lazy("结案率"), "rate"),
                ("ontime_handle_rate", gettext_lazy("按期处置率"), "rate"), ("rework", gettext_lazy("返工数"), "int"),
                ("rework_rate", gettext_lazy("返工率"), "rate"), ("score", gettext_lazy("综合指标值"), "float"),
                ("grade", gettext_lazy("等级"), "grade")]
    return [("code", gettext_lazy("代码"), "text"), ("name", gettext_lazy("名称"), "text"),
            ("verified_reports", gettext_lazy("监督举报核实数"), "int"), ("filed", gettext_lazy("立案数"), "int"),
            ("closed", gettext_lazy("结案数"), "int"), ("due_closed", gettext_lazy("应结案数"), "int"),
            ("close_rate", gettext_lazy("结案率"), "rate"), ("ontime_close_rate", gettext_lazy("按期结案率"), "rate"),
            ("score", gettext_lazy("综合指标值"), "float"), ("grade", gettext_lazy("等级"), "grade")]


def _unit_rows(ev, p, scope, unit_pk):
    rows = []
    for r in ev.units():
        pk = unit_pk.get(r["unit_code"])
        if not scope.unit(pk):
            continue
        r = dict(r)
        # 立案数 of a unit: the cases dispatched to it; 结案数: the cases it fed back (evaluation.unit_counts)
        r["_links"] = {"filed": kpi_url(p, "dispatched", unit=r["unit_code"]),
                       "closed": kpi_url(p, "handled", unit=r["unit_code"])}
        rows.append(r)
    return rows


def _region_rows(ev, p, level, scope):
    """District or street rows (city-wide figures: the full scope only)."""
    if not scope.everything:
        return []
    rows = []
    param = {"district": "district"}.get(level)  # the case list filters by district code
    for r in ev.regions(level):
        r = dict(r)
        if param:
            r["_links"] = {"filed": kpi_url(p, "filed", **{param: r["code"]}),
                           "closed": kpi_url(p, "closings", **{param: r["code"]})}
        rows.append(r)
    return rows


def _deduction_section(p, scope):
    from .scoring import target_scores

    labels = {"grid": _("责任网格"), "segment": _("路段"), "unit": _("责任单位"), "party": _("党组织"), "person": _("人员")}
    rows = []
    for d in target_scores(p.start, p.end) or []:
        tt, tid = d["target_type"], d["target_id"]
        ok = (scope.everything or (tt == "grid" and scope.grid(tid)) or (tt == "unit" and scope.unit(tid))
              or (tt == "party" and scope.party(tid)) or (tt == "person" and tid == scope.person_id))
        if ok:
            rows.append({**d, "target_label": labels.get(tt, tt)})
    return Section("deductions", _("倒扣分"), [
        ("target_label", _("考核对象类型"), "text"), ("name", _("考核对象"), "text"), ("deductions", _("扣分次数"), "int"),
        ("points", _("扣分"), "float"), ("earned_back", _("整改返还"), "float"), ("score", _("得分"), "float")], rows)


def _class_names(codes):
    from urbangrid.catalog.models import CatalogClass

    out = {}
    for code, name in CatalogClass.objects.filter(code__in=list(codes)).order_by("-pk").values_list("code", "name"):
        out[code] = name
    return out


def top_classes(p, prev, n=TOP_N):
    cur = dict(_events(p, (Action.FILE,)).values_list("case__class_code").annotate(n=Count("pk")))
    before = dict(_events(prev, (Action.FILE,)).values_list("case__class_code").annotate(n=Count("pk"))) if prev else {}
    top = sorted(cur.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    names = _class_names([c for c, _n in top])
    return [{"class_code": c, "class_name": names.get(c, ""), "filed": k, "previous": before.get(c, 0),
             "change": k - before.get(c, 0), "_links": {"filed": cases_url(class_code=c, **period_params(p, "filed_at"))}}
            for c, k in top]


def previous(p):
    """The period of the same kind just before ``p`` (a custom period: the same number of days)."""
    if p.kind in ("day", "week", "month", "quarter", "year"):
        return period_of(p.kind, p.first_day - timedelta(days=1))
    days = (p.last_day - p.first_day).days + 1
    return Period(p.start - timedelta(days=days), p.start, "custom")


RUNNING_LABELS = {"day": gettext_lazy("本日进行中"), "week": gettext_lazy("本周进行中"), "month": gettext_lazy("本月进行中"),
                  "quarter": gettext_lazy("本季进行中"), "year": gettext_lazy("本年进行中"), "custom": gettext_lazy("期间进行中")}


def running(p, now):
    """Whether ``p`` is still running at ``now`` (its figures are partial)."""
    return p.start <= now < p.end


def _day_label(d):
    """"12月3日" / "3 Dec": the msgid is a date format (Django's format characters; 月 and 日 are literal)."""
    from django.utils import dateformat

    return dateformat.format(d, _("n月j日"))


def partial_label(p, now):
    """"截至12月3日（本月进行中）" for a period still running, else ""."""
    if not running(p, now):
        return ""
    return _("截至%(date)s（%(running)s）") % {"date": _day_label(now.astimezone(TZ).date()),
                                              "running": RUNNING_LABELS.get(p.kind, RUNNING_LABELS["custom"])}


def compared_spans(p, now):
    """(current, previous, note): what a summary compares. A finished period: it and the whole previous one.
    A period still running: its days so far (to ``now``) and the same number of days from the start of the
    previous period (3 days of December: 1–3 November), whole days so that the daily tallies answer it."""
    prev = previous(p)
    if not running(p, now):
        return p, prev, _("上期：%(p)s") % {"p": prev.label()}
    days = (now.astimezone(TZ).date() - p.first_day).days + 1
    cut = min(prev.end, datetime.combine(prev.first_day + timedelta(days=days), time(0), TZ))
    span = Period(prev.start, cut, prev.kind)
    note = _("本期%(partial)s，与上期同期（%(a)s — %(b)s，共 %(n)s 天）比较") % {
        "partial": partial_label(p, now), "a": span.first_day, "b": span.last_day, "n": (span.last_day - span.first_day).days + 1}
    return p, span, note


def months_of(p):
    """The calendar months inside ``p`` (clipped to it)."""
    out, day = [], p.first_day
    while day <= p.last_day:
        m = period_of("month", day)
        out.append(Period(max(m.start, p.start), min(m.end, p.end), "month"))
        day = m.last_day + timedelta(days=1)
    return out


# --- the reviews --------------------------------------------------------------------------------

def daily(p, scope, now=None):
    """日讲评: the day's problems by grid and by unit, what is still open (with lights), the overdue list."""
    now = now or timezone.now()
    grids, units = _grids(), _units()
    pp = period_params(p)
    by_grid = {key: figures_by(p, now, key, "responsibility_grid_id") for key in ("received", "filed", "closed")}
    opened = {r["responsibility_grid_id"]: r for r in Case.objects.filter(
        created_at__gte=p.start, created_at__lt=p.end, state__in=OPEN).order_by().values("responsibility_grid_id").annotate(
        n=Count("pk"), red=Count("pk", filter=light_q("red", now)), yellow=Count("pk", filter=light_q("yellow", now)),
        green=Count("pk", filter=light_q("green", now)))}
    opened_total = {k: sum(o[k] for g, o in opened.items() if scope.grid(g)) for k in ("n", "red", "yellow", "green")}
    grid_rows = []
    for gid in sorted({g for figure in by_grid.values() for g in figure} | set(opened), key=lambda g: grids.get(g, ("~",))[0]):
        if gid is None or not scope.grid(gid):
            continue
        code, name = grids.get(gid, ("", ""))
        o = opened.get(gid, {})
        grid_rows.append({"grid": code, "name": name, "reported": by_grid["received"].get(gid, 0),
                          "filed": by_grid["filed"].get(gid, 0), "closed": by_grid["closed"].get(gid, 0),
                          "open": o.get("n", 0), "red": o.get("red", 0), "yellow": o.get("yellow", 0),
                          "_links": {"reported": kpi_url(p, "received", grid=code), "filed": kpi_url(p, "filed", grid=code),
                                     "closed": kpi_url(p, "closed", grid=code),
                                     "open": kpi_url(p, "reported_open", grid=code),
                                     "red": cases_url(grid=code, light="red", **pp)}})
    by_unit = event_counts(p, (Action.FEED_BACK, Action.CHECK_FAIL), "unit_id")
    dispatched = figures_by(p, now, "dispatched", "unit")
    backlog = {r["current_unit_id"]: r for r in Case.objects.filter(state__in=OPEN, current_unit__isnull=False).order_by()
               .values("current_unit_id").annotate(n=Count("pk"), red=Count("pk", filter=light_q("red", now)))}
    unit_rows = []
    for uid in sorted({u for u, _a in by_unit} | set(dispatched) | set(backlog), key=lambda u: units.get(u, ("~",))[0]):
        if uid is None or not scope.unit(uid):
            continue
        code, name = units.get(uid, ("", ""))
        b = backlog.get(uid, {})
        unit_rows.append({"unit_code": code, "unit_name": name,
                          "dispatched": dispatched.get(uid, 0),
                          "handled": by_unit.get((uid, Action.FEED_BACK), 0),
                          "rework": by_unit.get((uid, Action.CHECK_FAIL), 0),
                          "open": b.get("n", 0), "red": b.get("red", 0),
                          "_links": {"dispatched": kpi_url(p, "dispatched", unit=code), "open": kpi_url(p, "open", unit=code),
                                     "red": kpi_url(p, "overdue", unit=code)}})
    still_open = _case_rows(Case.objects.filter(created_at__gte=p.start, created_at__lt=p.end, state__in=OPEN)
                            .order_by("stage_deadline", "pk"), now, scope, grids, units)
    overdue = _case_rows(_visible_open(scope).filter(light_q("red", now)).order_by("stage_deadline", "pk"), now, scope, grids, units)
    review = Review("daily", KINDS["daily"][1], p, generated_at=now)
    if scope.everything:
        f = figures(p, now, ("received", "filed", "closed", "reported_open", "overdue"))
        review.summary = [
            ("reported", _("上报"), f["received"], "int", kpi_url(p, "received")),
            ("filed", _("立案"), f["filed"], "int", kpi_url(p, "filed")),
            ("closed", _("结案"), f["closed"], "int", kpi_url(p, "closed")),
            ("still_open", _("当日问题仍未结"), f["reported_open"], "int", kpi_url(p, "reported_open")),
            ("overdue_now", _("当前超期（红灯）"), f["overdue"], "int", kpi_url(p, "overdue")),
        ]
    review.sections = [
        Section("by_grid", _("按网格"), [("grid", _("责任网格"), "text"), ("name", _("名称"), "text"),
                                       ("reported", _("上报"), "int"), ("filed", _("立案"), "int"), ("closed", _("结案"), "int"),
                                       ("open", _("当日问题未结"), "int"), ("red", _("其中红灯"), "int"),
                                       ("yellow", _("其中黄灯"), "int")], grid_rows),
        Section("by_unit", _("按单位"), [("unit_code", _("单位编码"), "text"), ("unit_name", _("单位名称"), "text"),
                                       ("dispatched", _("派遣"), "int"), ("handled", _("处置反馈"), "int"),
                                       ("rework", _("返工"), "int"), ("open", _("在办案件"), "int"),
                                       ("red", _("在办超期"), "int")], unit_rows,
                _("在办案件与在办超期为统计时刻的数字。")),
        Section("still_open", _("当日问题仍未结（红黄绿灯）"), CASE_COLUMNS, still_open),
        Section("overdue", _("超期清单（统计时刻红灯）"), CASE_COLUMNS + [("overdue_hours", _("已超期（小时）"), "float")], overdue),
    ]
    review.charts = {
        "bars": {"title": str(_("各网格上报与立案（前 15）")), "categories": [r["grid"] for r in grid_rows[:15]],
                 "series": [{"name": str(_("上报")), "data": [r["reported"] for r in grid_rows[:15]]},
                            {"name": str(_("立案")), "data": [r["filed"] for r in grid_rows[:15]]}]},
        "pie": {"title": str(_("当日问题灯色")), "data": [
            {"name": str(LIGHT_LABELS[k]), "value": opened_total[k], "color": k}
            for k in ("red", "yellow", "green")]},
    }
    return review


def weekly(p, scope, now=None):
    """周督查: the week's figures per district, street and unit; supervised (督办) cases; rework; deductions."""
    now = now or timezone.now()
    grids, units = _grids(), _units()
    unit_pk = {code: pk for pk, (code, _n) in units.items()}
    ev = Evaluation(p.start, p.end, now=now)
    unit_rows = _unit_rows(ev, p, scope, unit_pk)
    sup = {r["case_id"]: r["n"] for r in _events(p, (Action.SUPERVISE,)).values("case_id").annotate(n=Count("pk"))}
    supervised = _case_rows(Case.objects.filter(pk__in=list(sup)).order_by("-supervision_count", "pk"), now, scope, grids, units,
                            extra={cid: {"times": n} for cid, n in sup.items()})
    rework_by_case = {}
    for r in _events(p, (Action.CHECK_FAIL,)).values("case_id", "unit_id").annotate(n=Count("pk")):
        rework_by_case[r["case_id"]] = rework_by_case.get(r["case_id"], 0) + r["n"]
    rework = _case_rows(Case.objects.filter(pk__in=list(rework_by_case)).order_by("-rework_count", "pk"), now, scope, grids, units,
                        extra={cid: {"times": n} for cid, n in rework_by_case.items()})
    t = totals(p)
    review = Review("weekly", KINDS["weekly"][1], p, generated_at=now)
    sections = []
    if scope.everything:
        f = figures(p, now, ("received", "filed", "closed"))
        review.summary = [
            ("reported", _("上报"), f["received"], "int", kpi_url(p, "received")),
            ("filed", _("立案"), f["filed"], "int", kpi_url(p, "filed")),
            ("closed", _("结案"), f["closed"], "int", kpi_url(p, "closed")),
            ("supervised", _("督办次数"), t[Action.SUPERVISE], "int", None),
            ("rework", _("返工次数"), t[Action.CHECK_FAIL], "int", None),
        ]
        sections += [Section("districts", _("各区"), _eval_cols("region"), _region_rows(ev, p, "district", scope)),
                     Section("streets", _("各街道"), _eval_cols("region"), _region_rows(ev, p, "street", scope))]
    times = [("times", _("本周次数"), "int")]
    sections += [Section("units", _("各单位"), _eval_cols("unit"), unit_rows),
                 Section("supervised", _("督办案件"), CASE_COLUMNS + times, supervised),
                 Section("rework", _("返工案件"), CASE_COLUMNS + times, rework),
                 _deduction_section(p, scope)]
    review.sections = sections
    review.charts = {"bars": {"title": str(_("各单位结案率与按期处置率")), "categories": [r["unit_name"] for r in unit_rows],
                              "series": [{"name": str(_("结案率")), "data": [_pct(r["close_rate"]) for r in unit_rows]},
                                         {"name": str(_("按期处置率")), "data": [_pct(r["ontime_handle_rate"]) for r in unit_rows]}],
                              "percent": True}}
    return review


def _pct(v):
    return None if v is None else round(v * 100, 2)


def _position_rows(ev, scope):
    rows = []
    for r in ev.positions():
        if not (scope.everything or r["person_id"] == scope.person_id):
            continue
        rows.append({"role_label": r["role_label"], "employee_no": r["employee_no"], "name": r["name"], "score": r["score"],
                     "grade": r["grade"], "color": r["color"], "person_id": r["person_id"], "role": r["role"]})
    return rows


POSITION_COLUMNS = [("role_label", gettext_lazy("岗位"), "text"), ("employee_no", gettext_lazy("工号"), "text"),
                    ("name", gettext_lazy("姓名"), "text"), ("score", gettext_lazy("综合指标值"), "float"),
                    ("grade", gettext_lazy("等级"), "grade")]


def _trend_rows(cur, prev, cur_ev_rows, prev_ev_rows, p):
    """Indicator rows: this period, the previous one and the change."""
    def sums(rows):
        s = defaultdict(int)
        for r in rows:
            for k in ("verified_reports", "filed", "closed", "due_closed", "ontime_closed"):
                s[k] += r[k]
        return s

    a, b = sums(cur_ev_rows), sums(prev_ev_rows)
    items = [("reported", _("上报数"), cur["received"], prev["received"], kpi_url(p, "received")),
             ("filed", _("立案数"), cur["filed"], prev["filed"], kpi_url(p, "filed")),
             ("dispatched", _("派遣数"), cur["dispatched"], prev["dispatched"], kpi_url(p, "dispatched")),
             ("closed", _("结案数"), cur["closed"], prev["closed"], kpi_url(p, "closed")),
             ("rework", _("返工结案数"), cur["rework"], prev["rework"], kpi_url(p, "rework")),
             ("close_rate", _("结案率"), ratio(a["closed"], a["due_closed"]), ratio(b["closed"], b["due_closed"]), None),
             ("ontime_close_rate", _("按期结案率"), ratio(a["ontime_closed"], a["due_closed"]),
              ratio(b["ontime_closed"], b["due_closed"]), None)]
    rows = []
    for key, label, x, y, link in items:
        is_rate = key.endswith("rate")
        change = None if x is None or y is None else round(x - y, 4) if is_rate else x - y
        rows.append({"indicator": label, "key": key, "current": x, "previous": y, "change": change,
                     "kind": "rate" if is_rate else "int", "_links": {"current": link} if link else {}})
    return rows


TREND_COLUMNS = [("indicator", gettext_lazy("指标"), "text"), ("current", gettext_lazy("本期"), "mixed"),
                 ("previous", gettext_lazy("上期"), "mixed"), ("change", gettext_lazy("变化"), "mixed")]


def _comparison(review, p, prev, now, districts, note):
    """The summary figures of ``p`` against ``prev`` (the previous period, or its same span while ``p``
    runs): sets ``review.summary`` and returns the "与上期比较" section (full scope only)."""
    pev = Evaluation(prev.start, prev.end, now=now)
    trend = _trend_rows(figures(p, now, TREND_FIGURES), figures(prev, now, TREND_FIGURES), districts,
                        pev.regions("district"), p)
    review.summary = [(r["key"], r["indicator"], r["current"], r["kind"], r["_links"].get("current")) for r in trend]
    return Section("trend", _("与上期比较"), TREND_COLUMNS, trend, note)


def monthly(p, scope, now=None):
    """月总结: evaluation summary (units, regions, positions), top classes, trend vs the previous month."""
    now = now or timezone.now()
    units = _units()
    unit_pk = {code: pk for pk, (code, _n) in units.items()}
    _cur, prev, note = compared_spans(p, now)
    ev = Evaluation(p.start, p.end, now=now)
    unit_rows = _unit_rows(ev, p, scope, unit_pk)
    positions = _position_rows(ev, scope)
    review = Review("monthly", KINDS["monthly"][1], p, generated_at=now, partial=partial_label(p, now), span_note=note)
    sections = []
    if scope.everything:
        districts = _region_rows(ev, p, "district", scope)
        trend_section = _comparison(review, p, prev, now, districts, note)
        sections += [trend_section, Section("districts", _("区域评价（区）"), _eval_cols("region"), districts)]
        classes = top_classes(p, prev)
        sections.append(Section("classes", _("立案最多的小类"), [
            ("class_code", _("小类代码"), "text"), ("class_name", _("小类名称"), "text"), ("filed", _("本期立案"), "int"),
            ("previous", _("上期立案"), "int"), ("change", _("变化"), "int")], classes))
        review.charts["classes"] = {"title": str(_("立案最多的小类")), "categories": [f'{r["class_code"]} {r["class_name"]}' for r in classes],
                                    "series": [{"name": str(_("本期立案")), "data": [r["filed"] for r in classes]},
                                               {"name": str(_("上期立案")), "data": [r["previous"] for r in classes]}]}
    sections += [Section("units", _("部门评价"), _eval_cols("unit"), unit_rows),
                 Section("positions", _("岗位评价"), POSITION_COLUMNS, positions)]
    grades = {str(_("部门")): _grade_counts(unit_rows), str(_("岗位")): _grade_counts(positions)}
    if scope.everything:
        grades[str(_("区"))] = _grade_counts(sections[1].rows)
    sections.append(_grade_section(grades))
    review.sections = sections
    review.charts["grades"] = _grade_chart(grades)
    return review


def _grade_section(grades):
    letters = sorted({g for d in grades.values() for g in d})
    cols = [("object", _("评价对象"), "text")] + [(f"grade_{g}", g, "int") for g in letters]
    rows = [{"object": obj, **{f"grade_{g}": d.get(g, 0) for g in letters}} for obj, d in grades.items()]
    return Section("grades", _("等级分布"), cols, rows)


def _grade_chart(grades):
    letters = sorted({g for d in grades.values() for g in d})
    return {"title": str(_("等级分布")), "categories": letters,
            "series": [{"name": obj, "data": [d.get(g, 0) for g in letters]} for obj, d in grades.items()], "stack": True}


def quarterly(p, scope, now=None):
    """季调度: per unit and district over the quarter with month by month, hot spots (grids with most cases,
    recurring 反复 problems), the overdue backlog."""
    now = now or timezone.now()
    grids, units = _grids(), _units()
    unit_pk = {code: pk for pk, (code, _n) in units.items()}
    months = months_of(p)
    ev = Evaluation(p.start, p.end, now=now)
    mevs = [Evaluation(m.start, m.end, now=now) for m in months]
    month_cols = [(f"m{i + 1}", f"{m.first_day:%Y-%m}", "float") for i, m in enumerate(months)]

    def with_months(rows, key, monthly_rows):
        for r in rows:
            for i, mr in enumerate(monthly_rows):
                hit = mr.get(r[key])
                r[f"m{i + 1}"] = hit["score"] if hit else None
                r[f"m{i + 1}_filed"] = hit["filed"] if hit else None
        return rows

    unit_rows = with_months(_unit_rows(ev, p, scope, unit_pk), "unit_code",
                            [{r["unit_code"]: r for r in m.units()} for m in mevs])
    _cur, prev, note = compared_spans(p, now)
    review = Review("quarterly", KINDS["quarterly"][1], p, generated_at=now, partial=partial_label(p, now), span_note=note)
    month_note = _("月度列为各月综合指标值。")
    sections = [Section("units", _("各单位（含逐月综合指标值）"), _eval_cols("unit") + month_cols, unit_rows, month_note)]
    if scope.everything:
        drows = with_months(_region_rows(ev, p, "district", scope), "code",
                            [{r["code"]: r for r in m.regions("district")} for m in mevs])
        sections.insert(0, _comparison(review, p, prev, now, drows, note))
        sections.append(Section("districts", _("各区（含逐月综合指标值）"), _eval_cols("region") + month_cols, drows, month_note))
    # hot spots: grids with most reports, with their recurring (反复) problems
    reported = dict(_events(p, (Action.REPORT,)).values_list("case__responsibility_grid_id").annotate(n=Count("pk")))
    recurring = dict(Case.objects.filter(created_at__gte=p.start, created_at__lt=p.end, recurrence_of__isnull=False).order_by()
                     .values_list("responsibility_grid_id").annotate(n=Count("pk")))
    hot = sorted(((g, n) for g, n in reported.items() if g is not None and scope.grid(g)), key=lambda kv: (-kv[1], grids.get(kv[0], ("",))[0]))
    hot_rows = []
    for gid, n in hot[:TOP_N]:
        code, name = grids.get(gid, ("", ""))
        hot_rows.append({"grid": code, "name": name, "reported": n, "recurring": recurring.get(gid, 0),
                         "_links": {"reported": cases_url(grid=code, **period_params(p))}})
    sections.append(Section("hotspots", _("问题热点网格"), [("grid", _("责任网格"), "text"), ("name", _("名称"), "text"),
                                                       ("reported", _("上报"), "int"), ("recurring", _("反复问题"), "int")], hot_rows))
    rec_rows = []
    rec = (Case.objects.filter(created_at__gte=p.start, created_at__lt=p.end, recurrence_of__isnull=False).order_by()
           .values("responsibility_grid_id", "class_code").annotate(n=Count("pk")))
    for r in sorted(rec, key=lambda r: (-r["n"], r["class_code"])):
        if not scope.grid(r["responsibility_grid_id"]):
            continue
        code = grids.get(r["responsibility_grid_id"], ("", ""))[0]
        rec_rows.append({"grid": code, "class_code": r["class_code"], "recurring": r["n"],
                         "_links": {"recurring": cases_url(grid=code, class_code=r["class_code"], **period_params(p))}})
    names = _class_names({r["class_code"] for r in rec_rows[:TOP_N * 2]})
    for r in rec_rows:
        r["class_name"] = names.get(r["class_code"], "")
    sections.append(Section("recurring", _("反复问题"), [("grid", _("责任网格"), "text"), ("class_code", _("小类代码"), "text"),
                                                   ("class_name", _("小类名称"), "text"), ("recurring", _("反复次数"), "int")],
                            rec_rows[:TOP_N * 2]))
    backlog_rows = []
    backlog = (_visible_open(scope).filter(light_q("red", now), current_unit__isnull=False).order_by().values("current_unit_id")
               .annotate(n=Count("pk")))
    for r in sorted(backlog, key=lambda r: (-r["n"], units.get(r["current_unit_id"], ("",))[0])):
        code, name = units.get(r["current_unit_id"], ("", ""))
        backlog_rows.append({"unit_code": code, "unit_name": name, "overdue": r["n"],
                             "_links": {"overdue": cases_url(unit=code, light="red")}})
    sections.append(Section("backlog", _("超期积压（统计时刻红灯，按单位）"), [
        ("unit_code", _("单位编码"), "text"), ("unit_name", _("单位名称"), "text"), ("overdue", _("超期案件"), "int")], backlog_rows))
    review.sections = sections
    review.charts["months"] = {"title": str(_("各单位逐月立案数")), "categories": [str(c[1]) for c in month_cols],
                               "series": [{"name": r["unit_name"], "data": [r.get(f"m{i + 1}_filed") for i in range(len(months))]}
                                          for r in sorted(unit_rows, key=lambda r: -r["filed"])[:8]]}
    review.charts["hotspots"] = {"title": str(_("问题热点网格")), "categories": [r["grid"] for r in hot_rows],
                                 "series": [{"name": str(_("上报")), "data": [r["reported"] for r in hot_rows]},
                                            {"name": str(_("反复问题")), "data": [r["recurring"] for r in hot_rows]}]}
    return review


def yearly(p, scope, now=None, top_n=TOP_N):
    """年考核: unit and person score tables, grades, award candidates (top N) and the bottom N."""
    from . import members

    now = now or timezone.now()
    tables = members.score_tables(p, scope, now=now)
    unit_rows, person_rows = tables["units"], tables["persons"]
    _cur, prev, note = compared_spans(p, now)
    review = Review("yearly", KINDS["yearly"][1], p, generated_at=now, partial=partial_label(p, now), span_note=note)

    def ranked(rows, reverse):
        # award candidates and the bottom N: subjects with activity (a score) only, never 无数据
        rows = [r for r in rows if r.get("active", True) and r["pay_score"] is not None]
        return sorted(rows, key=lambda r: (-r["pay_score"], r["code"]) if reverse else (r["pay_score"], r["code"]))[:top_n]

    ucols = members.UNIT_SCORE_COLUMNS
    pcols = members.PERSON_SCORE_COLUMNS
    grades = {str(_("部门")): _grade_counts(unit_rows), str(_("人员")): _grade_counts(person_rows)}
    review.sections = [  # the long person table last
        Section("units", _("单位绩效得分"), ucols, unit_rows, members.unit_formula_note()),
        Section("unit_awards", _("单位表彰候选（前 %(n)s）") % {"n": top_n}, ucols, ranked(unit_rows, True)),
        Section("unit_bottom", _("单位末位（后 %(n)s）") % {"n": top_n}, ucols, ranked(unit_rows, False)),
        Section("person_awards", _("人员表彰候选（前 %(n)s）") % {"n": top_n}, pcols, ranked(person_rows, True)),
        Section("person_bottom", _("人员末位（后 %(n)s）") % {"n": top_n}, pcols, ranked(person_rows, False)),
        _grade_section(grades),
        Section("persons", _("人员绩效得分"), pcols, person_rows, members.person_formula_note()),
    ]
    if scope.everything:
        ev = Evaluation(p.start, p.end, now=now)
        review.sections.insert(0, _comparison(review, p, prev, now, ev.regions("district"), note))
        review.charts["trend"] = monthly_trend(p)
    review.charts["grades"] = _grade_chart(grades)
    by_score = sorted((r for r in unit_rows if r["pay_score"] is not None), key=lambda r: -r["pay_score"])
    review.charts["units"] = {"title": str(_("单位绩效得分")), "categories": [r["name"] for r in by_score],
                              "series": [{"name": str(_("绩效得分")), "data": [r["pay_score"] for r in by_score]}], "scale": True}
    return review


TREND_ACTIONS = (Action.REPORT, Action.FILE, Action.CLOSE)
TREND_FIGURES = ("received", "filed", "dispatched", "closed", "rework")


def monthly_trend(p):
    """Month by month 上报 / 立案 / 结案 inside ``p`` (one GROUP BY over the period's events)."""
    from django.db.models.functions import TruncMonth

    rows = (_events(p, TREND_ACTIONS).annotate(m=TruncMonth("at", tzinfo=TZ)).values("m", "action")
            .annotate(n=Count("pk")))
    counts = defaultdict(int)
    for r in rows:
        m = r["m"]
        key = f"{m:%Y-%m}" if hasattr(m, "strftime") else str(m)[:7]
        counts[key, r["action"]] += r["n"]
    months = [f"{m.first_day:%Y-%m}" for m in months_of(p)]
    names = {Action.REPORT: _("上报"), Action.FILE: _("立案"), Action.CLOSE: _("结案")}
    return {"title": str(_("逐月趋势")), "categories": months,
            "series": [{"name": str(names[a]), "data": [counts[m, a] for m in months]} for a in TREND_ACTIONS],
            "line": True}


BUILDERS = {"daily": daily, "weekly": weekly, "monthly": monthly, "quarterly": quarterly, "yearly": yearly}


def default_period(kind, now=None):
    """The review's usual period: yesterday for the daily review, the current week/month/quarter/year otherwise."""
    from .evaluation import parse_period

    now = now or timezone.now()
    if kind == "daily":
        return parse_period("day", (now.astimezone(TZ) - timedelta(days=1)).date(), now=now)
    return parse_period(KINDS[kind][0], None, now=now)


def resolve_period(kind, period=None, day=None, date_from=None, date_to=None, now=None):
    """The review's period from request parameters (``parse_period`` rules and errors)."""
    from .evaluation import parse_period

    if kind not in KINDS:
        raise PeriodError(_("未知的讲评类型 %(k)s") % {"k": kind})
    if not (period or day or date_from or date_to):
        return default_period(kind, now)
    return parse_period(period or KINDS[kind][0], day, date_from, date_to, now=now)


MAX_TOP = 100


def parse_top(value):
    """The yearly assessment's N (award candidates and bottom N): 1–100, default 10."""
    if value in (None, ""):
        return TOP_N
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = 0
    if not 1 <= n <= MAX_TOP:
        raise PeriodError(_("top 应为 1 到 %(m)s 之间的整数") % {"m": MAX_TOP})
    return n


def build(kind, p, scope, now=None, top_n=None):
    if kind not in BUILDERS:
        raise PeriodError(_("未知的讲评类型 %(k)s") % {"k": kind})
    if kind == "yearly":
        return yearly(p, scope, now=now, top_n=top_n or TOP_N)
    return BUILDERS[kind](p, scope, now=now)
