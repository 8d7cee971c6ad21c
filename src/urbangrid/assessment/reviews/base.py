"""The reviews' common ground (讲评与考核的共同部分): what each review kind covers (``KINDS``), who may read
which part of the city (``scope_of``: the actor's ``org.reach.Reach``), the table and chart structure every review returns
(``Section``, ``Review``), and the figures, case lists and drill-down links the builders in ``periodic`` and
``members`` share."""
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from urbangrid.cases import indicators
from urbangrid.cases.engine import light
from urbangrid.cases.models import Case, CaseEvent
from urbangrid.cases.states import OPEN, State
from urbangrid.cases.workflow import Action
from urbangrid.catalog.models import CatalogClass
from urbangrid.grids.models import ResponsibilityGrid
from urbangrid.org.models import Unit
from urbangrid.org.reach import reach_of

from ..deductions.scoring import target_scores
from ..evaluation.rules import NO_DATA, TZ
from ..periods import Period

KINDS = {  # review kind -> (period kind, title)
    "daily": ("day", gettext_lazy("日讲评")),
    "weekly": ("week", gettext_lazy("周督查")),
    "monthly": ("month", gettext_lazy("月总结")),
    "quarterly": ("quarter", gettext_lazy("季调度")),
    "yearly": ("year", gettext_lazy("年考核")),
}
LIST_LIMIT = 500  # case lists (open, overdue, supervised) show the first rows; the drill-down link has them all
TOP_N = 10
LIGHT_LABELS = {"red": gettext_lazy("红灯"), "yellow": gettext_lazy("黄灯"), "green": gettext_lazy("绿灯"), "": "—"}


# --- scope --------------------------------------------------------------------------------------

def scope_of(actor):
    """What part of the city the actor may read in the reviews (``org/reach.py``, rule ``review``; empty: he may
    not open the reviews)."""
    return reach_of(actor, "review")


# --- the table structure ------------------------------------------------------------------------

# The columns that read "无数据" in a row without activity (``has_data`` false; see ``evaluation.rules.has_activity``).
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

    return {pk: (code, name) for pk, code, name in ResponsibilityGrid.objects.order_by("code").values_list("pk", "code", "name")}


def _units():

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
    return qs.filter(scope.q(grids="responsibility_grid_id", units="current_unit_id"))


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
    # 自行处置 cases count in a region's figures only if the scheme says so: the lists behind them likewise
    own = {} if ev.scheme.self_handled_in_regions else {"self_handled": "0"}
    for r in ev.regions(level):
        r = dict(r)
        if param:
            r["_links"] = {"filed": kpi_url(p, "filed", **{param: r["code"]}, **own),
                           "closed": kpi_url(p, "closings", **{param: r["code"]}, **own)}
        rows.append(r)
    return rows


def _deduction_section(p, scope):

    labels = {"grid": _("责任网格"), "segment": _("路段"), "unit": _("责任单位"), "party": _("党组织"), "person": _("人员")}
    rows = []
    for d in target_scores(p.start, p.end) or []:
        tt, tid = d["target_type"], d["target_id"]
        ok = (scope.everything or (tt == "grid" and scope.grid(tid)) or (tt == "unit" and scope.unit(tid))
              or (tt == "party" and scope.party(tid)) or (tt == "person" and tid == scope.person))
        if ok:
            rows.append({**d, "target_label": labels.get(tt, tt)})
    return Section("deductions", _("倒扣分"), [
        ("target_label", _("考核对象类型"), "text"), ("name", _("考核对象"), "text"), ("deductions", _("扣分次数"), "int"),
        ("points", _("扣分"), "float"), ("earned_back", _("整改返还"), "float"), ("score", _("得分"), "float")], rows)


def _class_names(codes):

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
