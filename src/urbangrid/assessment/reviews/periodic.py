"""Periodic reviews (讲评/督查/总结/调度/考核) built from the case event log for any period.

The cadence of local practice (docs/standards.md, Deductions): 日讲评 (daily review), 周督查 (weekly inspection), 月总结 (monthly summary),
季调度 (quarterly scheduling) and 年考核 (yearly assessment). Each ``build(kind, period, scope)`` returns
one ``Review``: a few summary figures, a list of ``Section`` tables (columns + rows + drill-down links to
the cases behind a figure) and chart data. The page, the printable page, the Excel export and the API
all render that one structure, so they always show the same numbers.

Sources: the standard evaluation (``evaluation.evaluate.evaluation_for``: units, regions, positions, from CaseEvent rows
of the period), GROUP BY queries over ``CaseEvent`` by the ``(action, at)`` index bounded by the period,
open cases by ``state`` with their lights (``queries.light_q``), and the deduction scores
(``deductions.scoring.target_scores``; an empty list is fine). The cost is a fixed number of queries per review.

Scope (``base.scope_of``, rule ``review`` of ``org/reach.py``): leaders, centre staff and admin see everything; a unit's staff the rows of
their unit; grid leaders (网格长, 副网格长, 网格联络员, 分网格长) the rows of their grids; a party secretary
(书记 in the person's title, as for deductions) his organisation, its sub-organisations, their grids and
members. City-wide rows (districts, streets, classes, totals) are for the full scope only.
"""
from collections import defaultdict
from datetime import timedelta

from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from urbangrid.cases.models import Case
from urbangrid.cases.queries import light_q
from urbangrid.cases.states import OPEN
from urbangrid.cases.workflow import Action

from ..evaluation.evaluate import evaluation_for
from ..evaluation.rules import TZ
from ..periods import PeriodError, compared_spans, months_of, parse_period, partial_label
from . import members
from .base import (
    CASE_COLUMNS,
    KINDS,
    LIGHT_LABELS,
    TOP_N,
    Review,
    Section,
    _case_rows,
    _class_names,
    _deduction_section,
    _eval_cols,
    _events,
    _grade_counts,
    _grids,
    _region_rows,
    _unit_rows,
    _units,
    _visible_open,
    cases_url,
    event_counts,
    figures,
    figures_by,
    kpi_url,
    period_params,
    ratio,
    top_classes,
    totals,
)


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
    ev = evaluation_for(p.start, p.end, now=now)
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
        if not (scope.everything or r["person_id"] == scope.person):
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
    pev = evaluation_for(prev.start, prev.end, now=now)
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
    ev = evaluation_for(p.start, p.end, now=now)
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
    ev = evaluation_for(p.start, p.end, now=now)
    mevs = [evaluation_for(m.start, m.end, now=now) for m in months]
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
        ev = evaluation_for(p.start, p.end, now=now)
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

    now = now or timezone.now()
    if kind == "daily":
        return parse_period("day", (now.astimezone(TZ) - timedelta(days=1)).date(), now=now)
    return parse_period(KINDS[kind][0], None, now=now)


def resolve_period(kind, period=None, day=None, date_from=None, date_to=None, now=None):
    """The review's period from request parameters (``parse_period`` rules and errors)."""

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
