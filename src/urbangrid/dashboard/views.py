"""领导驾驶舱: the page (filters, KPI tiles with links to the case list) and its JSON data."""
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from urbangrid.cases.states import Source
from urbangrid.catalog.components import layer_labels
from urbangrid.catalog.models import CatalogClass
from urbangrid.core.tenancy import setting as city_setting
from urbangrid.org.access import actor_of, view_require
from urbangrid.grids.models import Region

from . import metrics

PERM = "dashboard.view"
CASE_LIST_URL = "/cases/"


def case_list_url(f, **extra):
    """A link to the work list (``/cases/``) showing the cases behind a figure, with the dashboard's filters."""
    params = {}
    for key, value in (("district", f.district), ("class_code", f.class_code), ("catalog_version", f.catalog_version),
                       ("source", f.source)):
        if value:
            params[key] = value
    params.update({k: v for k, v in extra.items() if v not in (None, "")})
    return f"{CASE_LIST_URL}?{urlencode(params)}"


def _percent(rate):
    return "—" if rate is None else f"{rate * 100:.1f}%"


def tiles(f, k):
    """The KPI tiles: label, value, detail and the case-list link behind each (the indicator's own cases)."""
    period = {"date_from": f.date_from.isoformat(), "date_to": f.date_to.isoformat()}
    out = [
        {"key": "received", "label": _("受理数"), "value": k["received"], "hint": _("期间上报的案件"),
         "url": case_list_url(f, kpi="received", **period)},
        {"key": "filed", "label": _("立案数"), "value": k["filed"], "hint": _("期间立案的案件"),
         "url": case_list_url(f, kpi="filed", **period)},
        {"key": "dispatched", "label": _("派遣数"), "value": k["dispatched"], "hint": _("期间派遣的案件"),
         "url": case_list_url(f, kpi="dispatched", **period)},
        {"key": "closed", "label": _("结案数"), "value": k["closed"], "hint": _("期间结案的案件"),
         "url": case_list_url(f, kpi="closed", **period)},
        {"key": "ontime_rate", "label": _("按期结案率"), "value": _percent(k["ontime_rate"]),
         "hint": _("按期结案 %(n)s / 结案 %(d)s") % {"n": k["ontime"], "d": k["closed"]},
         "url": case_list_url(f, kpi="ontime", **period), "count": k["ontime"]},
        {"key": "rework_rate", "label": _("返工率"), "value": _percent(k["rework_rate"]),
         "hint": _("返工案件 %(n)s / 结案 %(d)s") % {"n": k["rework"], "d": k["closed"]},
         "url": case_list_url(f, kpi="rework", **period), "count": k["rework"]},
        {"key": "overdue", "label": _("当前超期"), "value": k["overdue"],
         "hint": _("在办 %(open)s，黄灯 %(yellow)s") % {"open": k["open"], "yellow": k["yellow"]},
         "url": case_list_url(f, kpi="overdue"), "alert": k["overdue"] > 0},
    ]
    for tile in out:  # the number of cases the link lists (a rate's numerator)
        tile.setdefault("count", tile["value"])
    return out


def _class_options():
    groups = {}
    for vcode, vname, code, name in (CatalogClass.objects.order_by("version__code", "code")
                                     .values_list("version__code", "version__name", "code", "name")):
        groups.setdefault((vcode, vname), []).append((f"{code}@{vcode}", f"{code} {name}"))
    return [{"label": vname or vcode, "options": opts} for (vcode, vname), opts in groups.items()]


@never_cache
@login_required
def index(request):
    actor = view_require(request, PERM)
    f = metrics.parse_filters(request.GET)
    k = metrics.cached("kpis", actor, f, lambda: metrics.kpis(actor, f))
    labels = {
        "received": _("受理数"), "closed": _("结案数"), "ontime_rate": _("按期结案率"), "cases": _("案件数"),
        "open_cases": _("在办案件"), "heat": _("热力图（期间上报）"), "grids": _("责任网格（按在办案件数着色）"),
        "open_in_grid": _("在办案件"), "red": _("红灯（超期）"), "yellow": _("黄灯（临期）"), "green": _("绿灯"),
        "no_data": _("暂无数据"), "load_error": _("数据加载失败"), "truncated": _("仅显示最新 %(n)s 件") % {"n": metrics.MAP_LIMIT},
        "case": _("案件"), "components": _("部件（放大后显示）"),
    }
    context = {
        "f": f,
        "tiles": tiles(f, k),
        "presets": [("month", _("本月")), ("30d", _("近30天")), ("year", _("本年")), ("custom", _("自定义"))],
        "districts": Region.objects.filter(level=Region.Level.DISTRICT).order_by("code").values_list("code", "name"),
        "class_groups": _class_options(),
        "sources": Source.choices,
        "data_url": f"{request.path}data.json?{urlencode(f.query_params())}",
        "labels": labels,
        "component_labels": layer_labels(),
        "tile_url": city_setting("URBANGRID_TILE_URL"),
        "tile_attribution": city_setting("URBANGRID_TILE_ATTRIBUTION"),
        "now": timezone.now(),
    }
    return render(request, "dashboard/index.html", context)


@never_cache
def data(request):
    actor = actor_of(request)
    if not actor.is_authenticated:
        return JsonResponse({"detail": _("请先登录"), "code": "login_required"}, status=401)
    if not actor.can(PERM):
        return JsonResponse({"detail": _("无权执行此操作（需要权限 %(perm)s）") % {"perm": PERM}, "code": "forbidden"}, status=403)
    f = metrics.parse_filters(request.GET)
    body = dict(metrics.cached("data", actor, f, lambda: metrics.dashboard_data(actor, f)))
    body["errors"] = f.errors
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False, "separators": (",", ":")})
