"""People and party organisations: member records (民主评议), party roll-ups, score tables for performance pay,
and rankings.

**Member record** (党员年度记录, for each branch's democratic evaluation 民主评议) of a person over a period,
from the CaseEvent rows he made in it: 上报 (reports), 核实 (verifications), 核查 (checks: passed or
failed), 处置反馈 (tasks handled); 按时率 = those of his verifications, checks and feedbacks whose clock the
engine stopped on time / those whose clock it stopped; the deductions (倒扣分) against the grids where he
holds a grid role and against himself (``deductions.scoring.target_scores``); citizens' satisfaction (满意度) from the
回访 and 市民评价 events (``callback``/``rate``) of cases in his grids: 满意率 = (满意 + 基本满意) / all.

**Person score** (人员绩效得分, 0–100), the weighted mean of these part scores (weights in %)::

    ontime               按时率 × 100
    satisfaction         满意率 × 100
    grid_deductions      mean deduction score of his grids (each 100 − points + earned back, 100 without deductions)
    personal_deductions  his own deduction score (100 without deductions)
    position             his 岗位评价 综合指标值 (监督员/受理员/值班长/派遣员; the best if several)

A rate with no denominator scores the scheme's ``zero_denominator_score`` (100: nothing was due); a part
that does not apply (no post for ``position``) is left out and the other weights are rescaled.
Default weights: ontime 30, satisfaction 20, grid_deductions 20, personal_deductions 10, position 20.

**Unit score** (单位绩效得分) = (evaluation × 部门评价 综合指标值 + deductions × the unit's deduction
score) / (evaluation + deductions); defaults 70 / 30.

**Party organisation roll-up** (党组织汇总) of a 党小组, 党支部 or 党总支 over the grids and road segments it
owns itself or through its sub-organisations (支部在路段、党员在网格): the 区域评价 figures of those
responsibility grids summed (立案, 结案, 应结案, 按期结案) with their rates, reports on its road segments,
its members' records summed, satisfaction in its grids, and the deductions against it and its grids. Its
score = (region × mean 区域评价 score of its grids + deductions × its own deduction score + members × mean
member score) / (sum of weights); defaults 50 / 30 / 20.

Weights are configurable without a migration: ``settings.URBANGRID_REVIEW_WEIGHTS = {"person": {...},
"unit": {...}, "party": {...}}`` overrides any of the defaults above; grades use the evaluation scheme's
A–E bands.
"""
from collections import defaultdict

from django.conf import settings
from django.db.models import Count
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from urbangrid.cases.states import Stage
from urbangrid.cases.workflow import Action, counting
from urbangrid.org.models import PartyOrganization, Person, RoleAssignment
from urbangrid.org.party import owned_grids, party_tree, subtree
from urbangrid.org.reach import Reach

from ..deductions.scoring import target_scores
from ..evaluation.evaluate import evaluation_for
from ..evaluation.rules import NO_DATA, has_activity
from ..periods import Period, PeriodError, previous
from .base import _events, _grids, _units, kpi_url, ratio

DEFAULT_WEIGHTS = {
    "person": {"ontime": 30, "satisfaction": 20, "grid_deductions": 20, "personal_deductions": 10, "position": 20},
    "unit": {"evaluation": 70, "deductions": 30},
    "party": {"region": 50, "deductions": 30, "members": 20},
}
# What a member record counts (the workflow table's counters 上报, 核实, 核查, 处置) and the clock each is judged
# on: {action: stage or None}.
PERSON_COUNTS = {"report": None, "verify": Stage.VERIFY, "check": Stage.CHECK, "handle": Stage.HANDLE}
PERSON_ACTIONS = {a: stage for counter, stage in PERSON_COUNTS.items() for a in counting(counter)}
SATISFACTION_ACTIONS = counting("callback")  # 回访 and 市民评价
LEVEL_LABELS = {"general_branch": gettext_lazy("党总支"), "branch": gettext_lazy("党支部"), "group": gettext_lazy("党小组")}


def weights(kind):
    """The weights for ``kind`` (person, unit, party): the defaults with ``URBANGRID_REVIEW_WEIGHTS`` over them."""
    out = dict(DEFAULT_WEIGHTS[kind])
    override = (settings.URBANGRID_REVIEW_WEIGHTS or {}).get(kind) or {}
    out.update({k: float(v) for k, v in override.items() if k in out})
    return out


def weighted(w, parts):
    """Weighted mean of the parts that apply (value not None), rescaled to their weights."""
    used = {k: v for k, v in parts.items() if v is not None and float(w.get(k, 0))}
    total = sum(float(w[k]) for k in used)
    if not total:
        return None
    return round(sum(float(w[k]) * v for k, v in used.items()) / total, 2)


def _grade(scorer, score, row):
    grade, color = scorer.grade(score) if score is not None else ("", "")
    row["grade"], row["color"] = grade, color


# --- member records -----------------------------------------------------------------------------

def _deduction_scores(p, target_type):
    return {d["target_id"]: d for d in (target_scores(p.start, p.end, target_type) or [])}


def _satisfaction_by_grid(p):
    out = defaultdict(lambda: defaultdict(int))
    for grid_id, data in _events(p, SATISFACTION_ACTIONS).values_list("case__responsibility_grid_id", "data"):
        value = (data or {}).get("satisfaction")
        if value:
            out[grid_id][value] += 1
    return out


def person_counts(p, judge):
    """{person id: {action: n, "timed": n, "ontime": n}}: the member-record counters of everyone who acted in
    ``p``, with ``judge.on_time`` verdicts (the engine's, plus the scheme's grace).

    One GROUP BY over the period's events by person, action and the first clock each event stopped (its
    stage and on-time flag, read in the database): the rows are people × actions, never the events, so the
    page does not decode thousands of JSON documents. Events that stopped several clocks, or a scheme with a
    grace period (which needs each event's time and deadline), are judged event by event as before."""

    qs = _events(p, tuple(PERSON_ACTIONS)).filter(actor_person_id__isnull=False)
    counts = defaultdict(lambda: defaultdict(int))
    if not judge.grace:
        groups = list(qs.values("actor_person_id", "action").annotate(
            stage=KT("data__stopped__0__stage"), on_time=KT("data__stopped__0__on_time"),
            more=KT("data__stopped__1__stage")).values_list("actor_person_id", "action", "stage", "on_time", "more")
            .annotate(n=Count("pk")).order_by())
        if not any(g[4] is not None for g in groups):
            for person_id, action, stage, on_time, _more, n in groups:
                c = counts[person_id]
                c[action] += n
                if stage is not None and stage == PERSON_ACTIONS[action]:
                    c["timed"] += n
                    c["ontime"] += n if on_time in (True, "true", 1, "1") else 0
            return counts
    for person_id, action, data, at in (qs.values_list("actor_person_id", "action", "data", "at").iterator(chunk_size=5000)):
        c = counts[person_id]
        c[action] += 1
        stage = PERSON_ACTIONS[action]
        if stage:
            verdict = judge.on_time(data, stage, at)
            if verdict is not None:
                c["timed"] += 1
                c["ontime"] += bool(verdict)
    return counts


class PeopleData:
    """Everything the person tables need for one period, in a fixed number of queries."""

    def __init__(self, p, ev=None, now=None):
        self.p = p
        self.ev = ev or evaluation_for(p.start, p.end, now=now)
        self.scorer = self.ev.scorer
        self.grids = _grids()
        self.units = _units()
        self.person_grids = defaultdict(set)
        self.role_people = set()
        for person_id, grid_id in RoleAssignment.objects.values_list("person_id", "grid_id"):
            self.role_people.add(person_id)
            if grid_id:
                self.person_grids[person_id].add(grid_id)
        self.people = list(Person.objects.order_by("employee_no").values_list(
            "pk", "employee_no", "name", "unit_id", "party_organization_id", "is_party_member", "active"))
        self.counts = person_counts(p, self.ev)
        self.satisfaction = _satisfaction_by_grid(p)
        self.grid_deductions = _deduction_scores(p, "grid")
        self.person_deductions = _deduction_scores(p, "person")
        self.positions = defaultdict(list)
        for r in self.ev.positions():
            if r["score"] is not None:  # a post without activity is no input (无数据)
                self.positions[r["person_id"]].append(r["score"])

    def record(self, pk, employee_no, name, unit_id, party_id, orgs):
        c = self.counts.get(pk, {})
        grids = sorted(self.person_grids.get(pk, ()), key=lambda g: self.grids.get(g, ("",))[0])
        sat = defaultdict(int)
        g_points, g_scores, g_n = 0.0, [], 0
        for g in grids:
            for k, v in self.satisfaction.get(g, {}).items():
                sat[k] += v
            d = self.grid_deductions.get(g)
            g_points += d["points"] - d["earned_back"] if d else 0
            g_n += d["deductions"] if d else 0
            g_scores.append(d["score"] if d else 100.0)
        pd = self.person_deductions.get(pk)
        sat_total = sat["satisfied"] + sat["basic"] + sat["dissatisfied"]
        ontime_rate = ratio(c.get("ontime", 0), c.get("timed", 0))
        sat_rate = ratio(sat["satisfied"] + sat["basic"], sat_total)
        sc = self.scorer
        parts = {"ontime": sc.rate(ontime_rate), "satisfaction": sc.rate(sat_rate),
                 "grid_deductions": round(sum(g_scores) / len(g_scores), 2) if g_scores else 100.0,
                 "personal_deductions": pd["score"] if pd else 100.0,
                 "position": max(self.positions[pk]) if self.positions.get(pk) else None}
        # no score without activity of his own in the period: his case work or a post evaluated (无数据)
        active = has_activity({k: c.get(k, 0) for k in (*PERSON_ACTIONS, "timed")}) or parts["position"] is not None
        score = weighted(weights("person"), parts) if active else None
        org = orgs.get(party_id)
        row = {"person_id": pk, "code": employee_no, "employee_no": employee_no, "name": name,
               "unit": self.units.get(unit_id, ("", ""))[1], "party_organization": org[1] if org else "",
               "party_organization_id": party_id, "unit_id": unit_id,
               "grids": " ".join(self.grids.get(g, ("",))[0] for g in grids), "grid_ids": grids,
               "reports": c.get(Action.REPORT, 0), "verifications": c.get(Action.VERIFY, 0),
               "checks": c.get(Action.CHECK_PASS, 0) + c.get(Action.CHECK_FAIL, 0), "handled": c.get(Action.FEED_BACK, 0),
               "timed": c.get("timed", 0), "ontime": c.get("ontime", 0), "ontime_rate": ontime_rate,
               "grid_deductions": g_n, "grid_deduction_points": round(g_points, 2),
               "personal_deduction_points": round(pd["points"] - pd["earned_back"], 2) if pd else 0.0,
               "satisfied": sat["satisfied"], "basic": sat["basic"], "dissatisfied": sat["dissatisfied"],
               "satisfaction_rate": sat_rate, "position_score": parts["position"], "pay_score": score,
               "has_data": active, "_links": {}}
        if len(grids) == 1:
            code = self.grids[grids[0]][0]
            row["_links"]["grids"] = kpi_url(self.p, "received", grid=code)
        row["_links"]["name"] = f"/assessment/members/{pk}/"
        _grade(sc, score, row)
        return row


def _person_visible(scope, pk, unit_id, party_id, grids):
    return (scope.everything or pk == scope.person or unit_id in scope.units or party_id in scope.parties
            or bool(scope.grids.intersection(grids)))


def member_records(p, scope, now=None, data=None, party_members_only=True, person_id=None):
    """Each party member's record over ``p`` (every person with a role or activity when not members-only)."""
    data = data or PeopleData(p, now=now)
    orgs, _children = party_tree()
    rows = []
    for pk, employee_no, name, unit_id, party_id, is_member, active in data.people:
        if person_id is not None and pk != person_id:
            continue
        if party_members_only and not is_member:
            continue
        if not party_members_only and not (pk in data.role_people or pk in data.counts):
            continue
        if not _person_visible(scope, pk, unit_id, party_id, data.person_grids.get(pk, set())):
            continue
        row = data.record(pk, employee_no, name, unit_id, party_id, orgs)
        row["active"] = active
        rows.append(row)
    return rows


MEMBER_COLUMNS = [
    ("employee_no", gettext_lazy("工号"), "text"), ("name", gettext_lazy("姓名"), "text"),
    ("party_organization", gettext_lazy("所在党组织"), "text"), ("unit", gettext_lazy("所在单位"), "text"),
    ("grids", gettext_lazy("所在网格"), "text"), ("reports", gettext_lazy("上报"), "int"),
    ("verifications", gettext_lazy("核实"), "int"), ("checks", gettext_lazy("核查"), "int"),
    ("handled", gettext_lazy("处置反馈"), "int"), ("ontime_rate", gettext_lazy("按时率"), "rate"),
    ("grid_deductions", gettext_lazy("网格扣分次数"), "int"), ("grid_deduction_points", gettext_lazy("网格扣分"), "float"),
    ("personal_deduction_points", gettext_lazy("个人扣分"), "float"),
    ("satisfaction_rate", gettext_lazy("群众满意率"), "rate"), ("pay_score", gettext_lazy("绩效得分"), "float"),
    ("grade", gettext_lazy("等级"), "grade"),
]
PERSON_SCORE_COLUMNS = [
    ("employee_no", gettext_lazy("工号"), "text"), ("name", gettext_lazy("姓名"), "text"),
    ("unit", gettext_lazy("所在单位"), "text"), ("ontime_rate", gettext_lazy("按时率"), "rate"),
    ("satisfaction_rate", gettext_lazy("群众满意率"), "rate"), ("grid_deduction_points", gettext_lazy("网格扣分"), "float"),
    ("personal_deduction_points", gettext_lazy("个人扣分"), "float"), ("position_score", gettext_lazy("岗位评价得分"), "float"),
    ("pay_score", gettext_lazy("绩效得分"), "float"), ("grade", gettext_lazy("等级"), "grade"),
]
UNIT_SCORE_COLUMNS = [
    ("code", gettext_lazy("单位编码"), "text"), ("name", gettext_lazy("单位名称"), "text"),
    ("eval_score", gettext_lazy("部门评价得分"), "float"), ("deductions", gettext_lazy("扣分次数"), "int"),
    ("deduction_points", gettext_lazy("扣分"), "float"), ("deduction_score", gettext_lazy("扣分得分"), "float"),
    ("pay_score", gettext_lazy("绩效得分"), "float"), ("grade", gettext_lazy("等级"), "grade"),
]


def _w(kind):
    return {k: f"{v:g}" for k, v in weights(kind).items()}


def unit_formula_note():
    return _("绩效得分 = (部门评价综合指标值 × %(evaluation)s + 倒扣分得分 × %(deductions)s) ÷ 权重之和（权重可配置）。") % _w("unit")


def person_formula_note():
    return _("绩效得分 = (按时率分值 × %(ontime)s + 群众满意率分值 × %(satisfaction)s + 网格扣分得分 × %(grid_deductions)s"
             " + 个人扣分得分 × %(personal_deductions)s + 岗位评价得分 × %(position)s) ÷ 权重之和；"
             "无岗位评价者不计该项（权重可配置）。") % _w("person")


def unit_scores(p, scope, ev):
    w = weights("unit")
    pk_of = {code: pk for pk, (code, _n) in _units().items()}
    ded = _deduction_scores(ev_period(ev), "unit")
    rows = []
    for r in ev.units():
        pk = pk_of.get(r["unit_code"])
        if not scope.unit(pk):
            continue
        d = ded.get(pk)
        dscore = d["score"] if d else 100.0
        # a unit without activity in the period (无数据) has no pay score: it is no award candidate
        score = weighted(w, {"evaluation": r["score"], "deductions": dscore}) if r["has_data"] else None
        row = {"unit_id": pk, "code": r["unit_code"], "name": r["unit_name"], "eval_score": r["score"],
               "deductions": d["deductions"] if d else 0, "deduction_points": d["points"] if d else 0.0,
               "deduction_score": dscore, "pay_score": score, "has_data": r["has_data"],
               "_links": {"eval_score": kpi_url(p, "dispatched", unit=r["unit_code"])}}
        _grade(ev.scorer, score, row)
        rows.append(row)
    return rows


def ev_period(ev):
    return Period(ev.start, ev.end)


def score_tables(p, scope, now=None):
    """The yearly assessment's unit and person score tables (people: everyone with a role or activity)."""
    ev = evaluation_for(p.start, p.end, now=now)
    data = PeopleData(p, ev=ev, now=now)
    persons = member_records(p, scope, data=data, party_members_only=False)
    return {"units": unit_scores(p, scope, ev), "persons": persons}


# --- party roll-ups -----------------------------------------------------------------------------

def party_rollups(p, scope, now=None, data=None, level=None, org_code=None):
    """One row per party organisation (党总支, 党支部, 党小组) with its grids', segments' and members' figures."""

    data = data or PeopleData(p, now=now)
    ev = data.ev
    orgs, children = party_tree()
    if org_code is not None and org_code not in {o[0] for o in orgs.values()}:
        raise LookupError(org_code)
    own_grids = owned_grids(list(orgs))
    own_segments = defaultdict(set)
    for pk, seg in PartyOrganization.road_segments.through.objects.values_list("partyorganization_id", "roadsegment_id"):
        own_segments[pk].add(seg)
    grid_pk = {code: pk for pk, (code, _n) in data.grids.items()}
    region = {grid_pk.get(r["code"]): r for r in ev.regions("responsibility_grid")}
    seg_reports = dict(_events(p, (Action.REPORT,)).values_list("case__road_segment_id").annotate(n=Count("pk")))
    party_ded = _deduction_scores(p, "party")
    members = member_records(p, _everything(), data=data)
    by_org = defaultdict(list)
    for m in members:
        by_org[m["party_organization_id"]].append(m)
    w = weights("party")
    rows = []
    for pk, (code, name, lv, parent, _unit) in orgs.items():
        if level and lv != level:
            continue
        if org_code and code != org_code:
            continue
        if not scope.party(pk):
            continue
        tree = subtree(pk, children)
        grids = set().union(*(own_grids.get(o, set()) for o in tree))
        segs = set().union(*(own_segments.get(o, set()) for o in tree))
        ms = [m for o in tree for m in by_org.get(o, ())]
        reg = [region[g] for g in grids if g in region]
        s = {k: sum(r[k] for r in reg) for k in ("filed", "closed", "due_closed", "ontime_closed")}
        sat = defaultdict(int)
        for g in grids:
            for k, v in data.satisfaction.get(g, {}).items():
                sat[k] += v
        sat_total = sat["satisfied"] + sat["basic"] + sat["dissatisfied"]
        g_points = sum(data.grid_deductions[g]["points"] - data.grid_deductions[g]["earned_back"] for g in grids if g in data.grid_deductions)
        pdx = party_ded.get(pk)
        # the grids and members with activity only (无数据 is no input); neither: the organisation has none
        reg_scores = [r["score"] for r in reg if r["score"] is not None]
        m_scores = [m["pay_score"] for m in ms if m["pay_score"] is not None]
        region_score = round(sum(reg_scores) / len(reg_scores), 2) if reg_scores else None
        member_score = round(sum(m_scores) / len(m_scores), 2) if m_scores else None
        dscore = pdx["score"] if pdx else 100.0
        active = region_score is not None or member_score is not None
        score = weighted(w, {"region": region_score, "deductions": dscore, "members": member_score}) if active else None
        row = {"org_id": pk, "code": code, "name": name, "level": lv, "level_label": str(LEVEL_LABELS.get(lv, lv)),
               "parent": orgs[parent][0] if parent in orgs else "", "grids": len(grids), "segments": len(segs),
               "grid_codes": " ".join(sorted(data.grids.get(g, ("",))[0] for g in grids)),
               "members": len(ms), "filed": s["filed"], "closed": s["closed"], "due_closed": s["due_closed"],
               "close_rate": ratio(s["closed"], s["due_closed"]), "ontime_closed": s["ontime_closed"],
               "ontime_close_rate": ratio(s["ontime_closed"], s["due_closed"]),
               "segment_reports": sum(seg_reports.get(x, 0) for x in segs),
               "member_reports": sum(m["reports"] for m in ms), "member_handled": sum(m["handled"] for m in ms),
               "satisfaction_rate": ratio(sat["satisfied"] + sat["basic"], sat_total),
               "party_deduction_points": round(pdx["points"] - pdx["earned_back"], 2) if pdx else 0.0,
               "grid_deduction_points": round(g_points, 2), "region_score": region_score, "member_score": member_score,
               "pay_score": score, "has_data": active, "_links": {"name": f"/assessment/party/{code}/"}}
        if len(grids) == 1:
            row["_links"]["filed"] = kpi_url(p, "filed", grid=data.grids[next(iter(grids))][0])
        _grade(data.scorer, score, row)
        rows.append(row)
    return rows


def _everything():
    return Reach(everything=True)


PARTY_COLUMNS = [
    ("code", gettext_lazy("组织编码"), "text"), ("name", gettext_lazy("组织名称"), "text"),
    ("level_label", gettext_lazy("层级"), "text"), ("parent", gettext_lazy("上级组织"), "text"),
    ("grids", gettext_lazy("包保网格"), "int"), ("segments", gettext_lazy("包保路段"), "int"),
    ("members", gettext_lazy("党员数"), "int"), ("filed", gettext_lazy("立案数"), "int"),
    ("closed", gettext_lazy("结案数"), "int"), ("due_closed", gettext_lazy("应结案数"), "int"),
    ("close_rate", gettext_lazy("结案率"), "rate"), ("ontime_close_rate", gettext_lazy("按期结案率"), "rate"),
    ("segment_reports", gettext_lazy("路段上报"), "int"), ("member_reports", gettext_lazy("党员上报"), "int"),
    ("member_handled", gettext_lazy("党员处置"), "int"), ("satisfaction_rate", gettext_lazy("群众满意率"), "rate"),
    ("party_deduction_points", gettext_lazy("组织扣分"), "float"), ("grid_deduction_points", gettext_lazy("网格扣分"), "float"),
    ("region_score", gettext_lazy("区域评价得分"), "float"), ("member_score", gettext_lazy("党员平均得分"), "float"),
    ("pay_score", gettext_lazy("综合得分"), "float"), ("grade", gettext_lazy("等级"), "grade"),
]


def party_formula_note():
    return _("综合得分 = (所辖网格区域评价平均分 × %(region)s + 组织倒扣分得分 × %(deductions)s + 党员平均绩效得分 × %(members)s)"
             " ÷ 权重之和（权重可配置）。") % _w("party")


# --- rankings -----------------------------------------------------------------------------------

DIMENSIONS = {"grid": gettext_lazy("网格"), "unit": gettext_lazy("单位"), "district": gettext_lazy("区"),
              "branch": gettext_lazy("党支部"), "position": gettext_lazy("岗位")}
TREND_PERIODS = 6


def _scores(dim, p, scope, now):
    """[(key, code, name, score, grade, color, link)] for one dimension and period."""
    ev = evaluation_for(p.start, p.end, now=now)
    out = []
    if dim == "unit":
        pk_of = {code: pk for pk, (code, _n) in _units().items()}
        for r in ev.units():
            if scope.unit(pk_of.get(r["unit_code"])):
                out.append((r["unit_code"], r["unit_code"], r["unit_name"], r["score"], r["grade"], r["color"],
                            kpi_url(p, "dispatched", unit=r["unit_code"])))
    elif dim == "grid":
        pk_of = {code: pk for pk, (code, _n) in _grids().items()}
        for r in ev.regions("responsibility_grid"):
            if scope.grid(pk_of.get(r["code"])):
                out.append((r["code"], r["code"], r["name"], r["score"], r["grade"], r["color"],
                            kpi_url(p, "filed", grid=r["code"])))
    elif dim == "district":
        if scope.everything:
            for r in ev.regions("district"):
                out.append((r["code"], r["code"], r["name"], r["score"], r["grade"], r["color"],
                            kpi_url(p, "filed", district=r["code"])))
    elif dim == "branch":
        for r in party_rollups(p, scope, now=now, data=PeopleData(p, ev=ev, now=now), level="branch"):
            out.append((r["code"], r["code"], r["name"], r["pay_score"], r["grade"], r["color"], f"/assessment/party/{r['code']}/"))
    elif dim == "position":
        for r in ev.positions():
            if scope.everything or r["person_id"] == scope.person:
                out.append((f'{r["role"]}:{r["person_id"]}', r["employee_no"], f'{r["name"]}（{r["role_label"]}）', r["score"],
                            r["grade"], r["color"], f'/assessment/members/{r["person_id"]}/'))
    else:
        raise PeriodError(_("排名维度应为 grid、unit、district、branch 或 position"))
    return out


def _ranked(items):
    """Items by score, and the ranks of those with a score (ties share one); 无数据 items last, unranked."""
    ordered = sorted(items, key=lambda x: (x[3] is None, -(x[3] or 0), x[1]))
    ranks, last, rank = {}, None, 0
    for i, x in enumerate(ordered, start=1):
        if x[3] is None:
            break
        if x[3] != last:
            rank, last = i, x[3]
        ranks[x[0]] = rank
    return ordered, ranks


def rankings(dim, p, scope, now=None, trend_periods=TREND_PERIODS):
    """Ranking of ``dim`` in ``p`` with the previous period's rank and score, grade distribution, and the
    score trend of the top five over the last ``trend_periods`` periods of the same kind."""

    now = now or timezone.now()
    if dim not in DIMENSIONS:
        raise PeriodError(_("排名维度应为 grid、unit、district、branch 或 position"))
    cur = _scores(dim, p, scope, now)
    periods = [p]
    for _i in range(trend_periods - 1):
        periods.insert(0, previous(periods[0]))
    prev_items = _scores(dim, periods[-2], scope, now) if len(periods) > 1 else []
    ordered, ranks = _ranked(cur)
    _po, prev_ranks = _ranked(prev_items)
    prev_score = {x[0]: x[3] for x in prev_items}
    rows = []
    for key, code, name, score, grade, color, link in ordered:
        pr = prev_ranks.get(key)
        ps = prev_score.get(key)
        rank = ranks.get(key)
        rows.append({"key": key, "rank": rank, "code": code, "name": name, "score": score, "grade": grade, "color": color,
                     "has_data": score is not None,
                     "previous_rank": pr, "rank_change": (pr - rank) if pr and rank else None, "previous_score": ps,
                     "score_change": round(score - ps, 2) if ps is not None and score is not None else None,
                     "_links": {"score": link, "name": link}})
    top = [r["key"] for r in rows[:5] if r["rank"] is not None]
    series = {k: [] for k in top}
    labels = []
    for q in periods:
        labels.append(q.label() if q.kind == "custom" else _period_short(q))
        if q is p:
            vals = {x[0]: x[3] for x in cur}
        elif len(periods) > 1 and q is periods[-2]:
            vals = prev_score
        else:
            vals = {x[0]: x[3] for x in _scores(dim, q, scope, now)}
        for k in top:
            series[k].append(vals.get(k))
    names = {r["key"]: r["name"] for r in rows}
    grades = defaultdict(int)
    for r in rows:
        grades[r["grade"] or (str(NO_DATA) if not r["has_data"] else "—")] += 1
    return {"dimension": dim, "rows": rows, "grades": dict(sorted(grades.items())),
            "trend": {"categories": labels, "series": [{"name": names[k], "data": series[k]} for k in top]}}


def _period_short(q):
    d = q.first_day
    return {"day": f"{d:%m-%d}", "week": f"{d:%m-%d}", "month": f"{d:%Y-%m}", "quarter": f"{d.year}Q{(d.month - 1) // 3 + 1}",
            "year": f"{d.year}"}.get(q.kind, q.label())


RANK_COLUMNS = [
    ("rank", gettext_lazy("名次"), "int"), ("code", gettext_lazy("代码"), "text"), ("name", gettext_lazy("名称"), "text"),
    ("score", gettext_lazy("得分"), "float"), ("grade", gettext_lazy("等级"), "grade"),
    ("previous_rank", gettext_lazy("上期名次"), "int"), ("rank_change", gettext_lazy("名次变化"), "int"),
    ("previous_score", gettext_lazy("上期得分"), "float"), ("score_change", gettext_lazy("得分变化"), "float"),
]


def person_or_404(person_id):
    try:
        return Person.objects.get(pk=int(person_id))
    except (Person.DoesNotExist, TypeError, ValueError):
        raise LookupError(person_id) from None
