"""Pages of the periodic reviews, member records, party roll-ups and rankings: screen, print (A4) and Excel.

Thin: the figures come from ``periodic`` and ``members``; here only parameters, scope and rendering. The
pages name the days their evaluations had no ready tally for (``tracked``); an export that would leave days
out answers 409 instead (``complete_or_409``). Nothing here tallies.
"""
import io
from functools import wraps
from html import escape  # the standard library's: Django's lazy wrapper costs more than the escaping

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from urbangrid.core.excel import XLSX, excel_safe
from urbangrid.org.access import actor_of
from urbangrid.org.party import party_tree, subtree
from urbangrid.org.reach import Reach

from ..evaluation.evaluate import tracking_gaps
from ..periods import PERIOD_KINDS, PeriodError, parse_period
from . import base, members, periodic
from .base import KINDS, Section


def tracked(view):
    """Collect the days the view's evaluations left out in ``request.tally_gaps`` (the pages show them)."""
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        with tracking_gaps() as request.tally_gaps:
            return view(request, *args, **kwargs)
    return wrapper


def complete_or_409(view):
    """An export whose evaluations left days out answers 409 with those days rather than a workbook that
    looks complete."""
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        with tracking_gaps() as gaps:
            response = view(request, *args, **kwargs)
        if gaps and response.status_code == 200:
            return _plain(gaps.export_message(), status=409)
        return response
    return wrapper


def scope_for(request):
    """The request's review scope (an ``org.reach.Reach``); 403 when the person may see none of the reviews."""
    scope = base.scope_of(actor_of(request))
    if scope.empty:
        raise PermissionDenied("reviews")
    return scope


def _params(request):
    g = request.GET
    return g.get("period") or None, g.get("date") or None, g.get("from") or None, g.get("to") or None


def fmt(value, kind):
    if value is None or value == "":
        return "—"
    if kind == "rate":
        return f"{value * 100:.2f}%"
    if isinstance(value, float):
        return f"{value:.2f}"
    return value


def _td(c, color):
    """One cell's HTML (what ``_tables.html`` printed cell by cell; built here, as a long table of a template
    loop costs several times the figures behind it)."""
    text, kind = escape(str(c["text"])), c["kind"]
    if kind == "grade":
        inner = f'<span class="grade grade-{escape(color)}">{text}</span>'
    elif kind == "light":
        inner = f'<span class="light light-{escape(color or "none")}">{text}</span>'
    elif c["link"]:
        inner = f'<a href="{escape(str(c["link"]))}">{text}</a>'
    else:
        inner = text
    return f'<td class="k-{escape(kind)}" data-key="{escape(c["key"])}">{inner}</td>'


def table(section):
    """A Section as header labels and rows of cells (text, link, kind, colour) for the templates."""
    rows = []
    for r in section.rows:
        links = r.get("_links", {})
        cells = []
        for key, _label, kind in section.columns:
            value = base.shown(r, key)
            if kind == "mixed":  # the trend table: each row says its own kind
                text = fmt(value, r.get("kind", "int"))
            else:
                text = fmt(value, kind)
            cells.append({"text": text, "link": links.get(key), "kind": kind, "key": key})
        color = r.get("color", "")
        rows.append({"cells": cells, "color": color, "html": mark_safe("".join(_td(c, color) for c in cells))})
    return {"key": section.key, "title": section.title, "note": section.note,
            "headers": [label for _k, label, _kind in section.columns], "rows": rows}


def _form_context(request, default_period):
    return {
        "kinds": [(k, label) for k, label in zip(PERIOD_KINDS, [_("日"), _("周"), _("月"), _("季"), _("年")])],
        "period": request.GET.get("period") or ("" if request.GET.get("from") else default_period),
        "date": request.GET.get("date", ""), "from": request.GET.get("from", ""), "to": request.GET.get("to", ""),
        "query": request.GET.urlencode(),
    }


def _error_page(request, template, context, error):
    context.update({"error": error, "p": None})
    return render(request, template, context, status=422)


@never_cache
@login_required
def index(request):
    scope_for(request)
    return render(request, "assessment/reviews/index.html", {"kinds": [(k, v[1]) for k, v in KINDS.items()]})


def _review(request, kind):
    if kind not in KINDS:
        raise Http404(kind)
    scope = scope_for(request)
    p = periodic.resolve_period(kind, *_params(request))
    return periodic.build(kind, p, scope, top_n=periodic.parse_top(request.GET.get("top")))


def _summary(review):
    return [{"key": k, "label": label, "value": fmt(v, kind), "link": link} for k, label, v, kind, link in review.summary]


@never_cache
@login_required
@tracked
def review_page(request, kind, printable=False):
    if kind not in KINDS:
        raise Http404(kind)
    context = {"kind": kind, "title": KINDS[kind][1], "others": [(k, v[1]) for k, v in KINDS.items()],
               **_form_context(request, KINDS[kind][0])}
    template = "assessment/reviews/print.html" if printable else "assessment/reviews/review.html"
    try:
        review = _review(request, kind)
    except PeriodError as exc:
        return _error_page(request, template, context, str(exc))
    context.update({"review": review, "p": review.period, "summary": _summary(review),
                    "tables": [table(s) for s in review.sections], "charts": review.charts})
    return render(request, template, context)


@login_required
def review_print(request, kind):
    return review_page(request, kind, printable=True)


def workbook(sheets):
    """.xlsx bytes of [(title, Section)]: header row of labels, the same values as the page (rates as
    fractions formatted as %)."""

    # here, not at the top: openpyxl costs every process ~0.1 s of start-up; only this export needs it
    from openpyxl import Workbook
    from openpyxl.styles import Font
    wb = Workbook()
    wb.remove(wb.active)
    used = set()
    for title, section in sheets:
        name = str(title)[:31]
        n = 2
        while name in used:
            name = f"{str(title)[:28]}({n})"
            n += 1
        used.add(name)
        ws = wb.create_sheet(title=name)
        ws.append([str(label) for _k, label, _kind in section.columns])
        for c in ws[1]:
            c.font = Font(bold=True)
        for r in section.rows:
            ws.append([excel_safe(_xl(base.shown(r, k))) for k, _l, _kind in section.columns])
        for i, (k, _l, kind) in enumerate(section.columns, start=1):
            for row in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                if kind == "rate" or (kind == "mixed" and section.rows[row[0].row - 2].get("kind") == "rate"):
                    row[0].number_format = "0.00%"
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xl(value):
    return value if value is None or isinstance(value, (int, float, str)) else str(value)


def _xlsx(data, name):
    resp = HttpResponse(data, content_type=XLSX)
    resp["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return resp


def _login_or_redirect(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return None


def _plain(msg, status=422):
    return HttpResponse(msg, status=status, content_type="text/plain; charset=utf-8")


@complete_or_409
def review_export(request, kind):
    if (r := _login_or_redirect(request)) is not None:
        return r
    try:
        review = _review(request, kind)
    except PeriodError as exc:
        return _plain(str(exc))
    sheets = []
    if review.summary:
        sheets.append((_("概况"), Section("summary", _("概况"), [("label", _("指标"), "text"), ("value", _("数值"), "mixed")],
                                         [{"label": str(label), "value": v, "kind": k} for _key, label, v, k, _l in review.summary])))
    sheets += [(s.title, s) for s in review.sections]
    p = review.period
    return _xlsx(workbook(sheets), f"review-{kind}-{p.first_day}-{p.last_day}")


# --- members and party organisations --------------------------------------------------------------

def _period_or_error(request):
    return parse_period(*_params(request), now=timezone.now()) if any(_params(request)) else periodic.default_period("yearly")


@never_cache
@login_required
@tracked
def member_list(request):
    scope = scope_for(request)
    context = _form_context(request, "year")
    try:
        p = _period_or_error(request)
    except PeriodError as exc:
        return _error_page(request, "assessment/reviews/members.html", context, str(exc))
    section = Section("members", _("党员年度记录"), members.MEMBER_COLUMNS, members.member_records(p, scope), members.person_formula_note())
    context.update({"p": p, "tables": [table(section)]})
    return render(request, "assessment/reviews/members.html", context)


@complete_or_409
def member_export(request):
    if (r := _login_or_redirect(request)) is not None:
        return r
    scope = scope_for(request)
    try:
        p = _period_or_error(request)
    except PeriodError as exc:
        return _plain(str(exc))
    section = Section("members", _("党员年度记录"), members.MEMBER_COLUMNS, members.member_records(p, scope))
    return _xlsx(workbook([(section.title, section)]), f"members-{p.first_day}-{p.last_day}")


@never_cache
@login_required
@tracked
def member_detail(request, person_id):
    scope = scope_for(request)
    try:
        person = members.person_or_404(person_id)
    except LookupError:
        raise Http404(person_id) from None
    context = _form_context(request, "year")
    try:
        p = _period_or_error(request)
    except PeriodError as exc:
        return _error_page(request, "assessment/reviews/member.html", {**context, "person": person}, str(exc))
    rows = members.member_records(p, scope, party_members_only=False, person_id=person.pk)
    if not rows:  # out of scope (or no role and no activity) answers like missing
        raise Http404(person_id)
    row = rows[0]
    items = [{"label": label, "value": fmt(row.get(k), kind), "link": row["_links"].get(k)}
             for k, label, kind in members.MEMBER_COLUMNS]
    extra = [(_("已计时次数"), row["timed"]), (_("按时次数"), row["ontime"]), (_("满意"), row["satisfied"]),
             (_("基本满意"), row["basic"]), (_("不满意"), row["dissatisfied"]), (_("岗位评价得分"), fmt(row["position_score"], "float"))]
    context.update({"p": p, "person": person, "row": row, "items": items, "extra": extra})
    return render(request, "assessment/reviews/member.html", context)


PARTY_LEVELS = ("general_branch", "branch", "group")


def _party_section(request, scope, p, code=None):
    level = request.GET.get("level") or None
    if level and level not in PARTY_LEVELS:
        raise PeriodError(_("党组织层级应为 general_branch、branch 或 group"))
    rows = members.party_rollups(p, scope, level=level, org_code=code)
    return Section("party", _("党组织汇总"), members.PARTY_COLUMNS, rows, members.party_formula_note())


@never_cache
@login_required
@tracked
def party_list(request):
    scope = scope_for(request)
    context = {**_form_context(request, "year"), "level": request.GET.get("level", ""),
               "levels": [(k, members.LEVEL_LABELS[k]) for k in PARTY_LEVELS]}
    try:
        p = _period_or_error(request)
        section = _party_section(request, scope, p)
    except PeriodError as exc:
        return _error_page(request, "assessment/reviews/party.html", context, str(exc))
    rows = sorted(section.rows, key=lambda r: -(r["pay_score"] or 0))
    charts = {"party": {"title": str(_("党组织综合得分")), "categories": [r["name"] for r in rows[:30]],
                        "series": [{"name": str(_("综合得分")), "data": [r["pay_score"] for r in rows[:30]]}], "scale": True}}
    context.update({"p": p, "tables": [table(section)], "charts": charts})
    return render(request, "assessment/reviews/party.html", context)


@complete_or_409
def party_export(request):
    if (r := _login_or_redirect(request)) is not None:
        return r
    scope = scope_for(request)
    try:
        p = _period_or_error(request)
        section = _party_section(request, scope, p)
    except PeriodError as exc:
        return _plain(str(exc))
    return _xlsx(workbook([(section.title, section)]), f"party-{p.first_day}-{p.last_day}")


@never_cache
@login_required
@tracked
def party_detail(request, code):
    scope = scope_for(request)
    context = _form_context(request, "year")
    try:
        p = _period_or_error(request)
    except PeriodError as exc:
        return _error_page(request, "assessment/reviews/party_detail.html", context, str(exc))
    try:
        rows = members.party_rollups(p, scope, org_code=code)
    except LookupError:
        raise Http404(code) from None
    if not rows:
        raise Http404(code)
    org = rows[0]

    _orgs, children = party_tree()
    tree = subtree(org["org_id"], children)
    member_rows = [m for m in members.member_records(p, Reach(parties=frozenset(tree)))
                   if m["party_organization_id"] in tree]
    subs = [r for r in members.party_rollups(p, scope) if r["org_id"] in children.get(org["org_id"], ())]
    context.update({"p": p, "org": org, "tables": [
        table(Section("org", _("汇总"), members.PARTY_COLUMNS, rows)),
        table(Section("children", _("下级组织"), members.PARTY_COLUMNS, subs)),
        table(Section("members", _("党员年度记录"), members.MEMBER_COLUMNS, member_rows)),
    ]})
    return render(request, "assessment/reviews/party_detail.html", context)


# --- rankings -----------------------------------------------------------------------------------

def _rankings(request, scope):
    dim = request.GET.get("dim") or "unit"
    p = parse_period(*_params(request)) if any(_params(request)) else parse_period("month")
    return p, members.rankings(dim, p, scope)


@never_cache
@login_required
@tracked
def rankings(request):
    scope = scope_for(request)
    context = {**_form_context(request, "month"), "dim": request.GET.get("dim") or "unit",
               "dims": list(members.DIMENSIONS.items())}
    try:
        p, data = _rankings(request, scope)
    except PeriodError as exc:
        return _error_page(request, "assessment/reviews/rankings.html", context, str(exc))
    section = Section("rankings", _("排名"), members.RANK_COLUMNS, data["rows"])
    top = [r for r in data["rows"] if r["rank"] is not None][:30]  # 无数据 rows have no score to chart
    charts = {
        "scores": {"title": str(_("得分排名")), "categories": [r["name"] for r in top],
                   "series": [{"name": str(_("得分")), "data": [r["score"] for r in top]}], "scale": True},
        "grades": {"title": str(_("等级分布")), "pie": True,
                   "data": [{"name": g, "value": n} for g, n in data["grades"].items()]},
        "trend": {"title": str(_("前五名得分趋势")), "line": True, "scale": True, **data["trend"]},
    }
    context.update({"p": p, "tables": [table(section)], "charts": charts})
    return render(request, "assessment/reviews/rankings.html", context)


@complete_or_409
def rankings_export(request):
    if (r := _login_or_redirect(request)) is not None:
        return r
    scope = scope_for(request)
    try:
        p, data = _rankings(request, scope)
    except PeriodError as exc:
        return _plain(str(exc))
    section = Section("rankings", _("排名"), members.RANK_COLUMNS, data["rows"])
    return _xlsx(workbook([(section.title, section)]), f"rankings-{data['dimension']}-{p.first_day}-{p.last_day}")
