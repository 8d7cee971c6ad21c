"""跨版本统计 (staff): the cases of a period counted under one catalogue's classes, with Excel export. The counting is
``cases/recount.py``; the page, the API (``cases/api.py``) and ``urbangrid catalog recount`` show it."""
import io

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from urbangrid.catalog.crosswalk import RecountInputError, current_national
from urbangrid.catalog.excel import export_recount, recount_rows
from urbangrid.catalog.models import CatalogClass, CatalogVersion
from urbangrid.core.excel import XLSX
from urbangrid.org.access import view_require

from ..recount import recount_request

PERM = "dashboard.view"


def _args(request):
    g = request.GET
    return g.get("version") or None, g.get("from") or None, g.get("to") or None, g.get("kind") or None


@never_cache
@login_required
def recount(request):
    view_require(request, PERM)
    version, date_from, date_to, kind = _args(request)
    errors, result, rows, pending = {}, None, [], []
    try:
        result = recount_request(version, date_from, date_to, kind)
        rows, pending = recount_rows(result)
    except RecountInputError as exc:
        errors = exc.errors
    current = current_national()
    return render(request, "cases/recount.html", {
        "versions": CatalogVersion.objects.filter(base=None).order_by("code"), "kinds": CatalogClass.Kind.choices,
        "version": version or (current.code if current else ""), "from": date_from or "", "to": date_to or "",
        "kind": kind or "", "errors": errors, "result": result, "rows": rows, "pending": pending,
        "query": request.GET.urlencode(),
    }, status=422 if errors else 200)


@login_required
def recount_export(request):
    view_require(request, PERM)
    try:
        result = recount_request(*_args(request))
    except RecountInputError as exc:
        return HttpResponse("\n".join(f"{k}: {v}" for k, v in exc.errors.items()), status=422,
                            content_type="text/plain; charset=utf-8")
    buf = io.BytesIO()
    export_recount(result, buf)
    resp = HttpResponse(buf.getvalue(), content_type=XLSX)
    span = "-".join(str(d) for d in (result.date_from, result.date_to) if d) or "all"
    resp["Content-Disposition"] = f'attachment; filename="recount-{result.versions[0].code}-{span}.xlsx"'
    return resp
