"""综合评价 pages: the three tables for a chosen period, and an Excel export per table.

Nothing here tallies (see ``evaluate.evaluation_for``): a period longer than ``URBANGRID_EVALUATION_MAX_DAYS``
is refused with a form message (422); days without a ready tally are named on the page, and an export that
would leave some out answers 409 instead of an incomplete workbook."""
import io

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from urbangrid.core.excel import XLSX
from urbangrid.org.access import view_require

from ..periods import PERIOD_KINDS, PeriodError, parse_period
from .evaluate import evaluation_for, tracking_gaps
from .rules import LEVELS, RATE_KEYS, ROLE_LABELS, cell, position_columns, region_columns, unit_columns

PERM = "assessment.view"


def _params(request):
    g = request.GET
    return g.get("period") or None, g.get("date") or None, g.get("from") or None, g.get("to") or None


def display(row, key):
    value = cell(row, key)
    if value is None:
        return "—"
    if key in RATE_KEYS:
        return f"{value * 100:.2f}%"
    if isinstance(value, float):
        return f"{value:.2f}"
    return value


def _table(columns, rows):
    return {"headers": [label for _k, label in columns],
            "rows": [{"cells": [display(r, k) for k, _l in columns], "color": r.get("color", ""), "grade": r.get("grade", "")}
                     for r in rows]}


@never_cache
@login_required
def index(request):
    view_require(request, PERM)
    level = request.GET.get("level") or "district"
    if level not in LEVELS:
        level = "district"
    error, p, tables = "", None, {}
    try:
        p = parse_period(*_params(request))
    except PeriodError as exc:
        error = str(exc)
    if p is not None:
        with tracking_gaps() as request.tally_gaps:
            ev = evaluation_for(p.start, p.end)
        positions = ev.positions()
        tables = {
            "units": _table(unit_columns(), ev.units()),
            "positions": [{"role": role, "label": label, **_table(position_columns(role), [r for r in positions if r["role"] == role])}
                          for role, label in ROLE_LABELS.items()],
            "regions": _table(region_columns(), ev.regions(level)),
        }
    query = request.GET.urlencode()
    return render(request, "assessment/index.html", {
        "p": p, "error": error, "tables": tables, "level": level, "levels": list(LEVELS.items()),
        "kinds": [(k, label) for k, label in zip(PERIOD_KINDS, [_("日"), _("周"), _("月"), _("季"), _("年")])],
        "period": request.GET.get("period") or ("" if request.GET.get("from") else "month"),
        "date": request.GET.get("date", ""), "from": request.GET.get("from", ""), "to": request.GET.get("to", ""),
        "query": query, "status": 422 if error else 200,
    }, status=422 if error else 200)


from django.contrib.auth.views import redirect_to_login

from urbangrid.core.excel import excel_safe  # noqa: E402


def _sheet(wb, title, columns, rows, first=False):
    # here, not at the top: openpyxl costs every process ~0.1 s of start-up; only this export needs it
    from openpyxl.styles import Font
    ws = wb.active if first else wb.create_sheet()
    ws.title = title[:31]
    ws.append([str(label) for _k, label in columns])
    for c in ws[1]:
        c.font = Font(bold=True)
    for r in rows:
        ws.append([excel_safe(cell(r, k)) for k, _l in columns])
    for i, (k, _l) in enumerate(columns, start=1):
        if k in RATE_KEYS:
            for row in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                row[0].number_format = "0.00%"
    return ws


def export(request, table):
    """One table as .xlsx with the same numbers as the page (rates as fractions formatted as %)."""

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    view_require(request, PERM)
    if table not in ("units", "positions", "regions"):
        raise Http404(table)
    try:
        p = parse_period(*_params(request))
    except PeriodError as exc:
        return HttpResponse(str(exc), status=422, content_type="text/plain; charset=utf-8")

    with tracking_gaps() as gaps:
        ev = evaluation_for(p.start, p.end)
    if gaps:
        return HttpResponse(gaps.export_message(), status=409, content_type="text/plain; charset=utf-8")
    # here, not at the top: openpyxl costs every process ~0.1 s of start-up; only this export needs it
    from openpyxl import Workbook
    wb = Workbook()
    if table == "units":
        _sheet(wb, _("部门评价"), unit_columns(), ev.units(), first=True)
        name = "units"
    elif table == "positions":
        rows = ev.positions()
        for i, (role, label) in enumerate(ROLE_LABELS.items()):
            _sheet(wb, str(label), position_columns(role), [r for r in rows if r["role"] == role], first=i == 0)
        name = "positions"
    else:
        level = request.GET.get("level") or "district"
        if level not in LEVELS:
            return HttpResponse(_("区域层级无效"), status=422, content_type="text/plain; charset=utf-8")
        _sheet(wb, str(LEVELS[level]), region_columns(), ev.regions(level), first=True)
        name = f"regions-{level}"
    buf = io.BytesIO()
    wb.save(buf)
    resp = HttpResponse(buf.getvalue(), content_type=XLSX)
    resp["Content-Disposition"] = f'attachment; filename="evaluation-{name}-{p.first_day}-{p.last_day}.xlsx"'
    return resp
