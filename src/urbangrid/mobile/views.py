"""Inspector mobile app (PWA): pages, two small JSON views, the service worker and the manifest."""
import hashlib
import json
from functools import lru_cache, wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.db.models import Count
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from urbangrid.cases import engine, services
from urbangrid.cases.models import Case
from urbangrid.cases.photos import max_photos_per_request
from urbangrid.cases.states import OPEN, PhotoKind
from urbangrid.cases.workflow import rows_that
from urbangrid.catalog.models import CatalogClass
from urbangrid.core.tenancy import setting as city_setting
from urbangrid.grids.models import ResponsibilityGrid
from urbangrid.org.access import actor_of
from urbangrid.org.roles import Role
from urbangrid.org.workbenches import workbenches_for


def report_versions():
    """(version, kind) an inspector reports under: each kind of class the current catalogue versions have."""

    return list(CatalogClass.objects.current().values_list("version__code", "kind")
                .distinct().order_by("-kind", "version__code"))


# Static files the app shell needs offline (the service worker caches them at install).
SHELL_STATIC = ("vendor/leaflet/leaflet.css", "vendor/leaflet/leaflet.js", "vendor/leaflet/images/marker-icon.png",
                "vendor/leaflet/images/marker-icon-2x.png", "vendor/leaflet/images/marker-shadow.png",
                "urbangrid/coords.js", "urbangrid/address_search.js", "urbangrid/basemap.js", "mobile/app.css", "mobile/app.js", "mobile/icon-192.png", "mobile/icon-512.png")
SHELL_PAGES = ("mobile:home", "mobile:report")


def _is_inspector(actor):
    return Role.INSPECTOR in actor.roles


def inspector_page(view):
    """Login required; people without the inspector role get a friendly page pointing to their workbench."""
    @wraps(view)
    @login_required
    @ensure_csrf_cookie
    def wrapper(request, *args, **kwargs):
        actor = actor_of(request)
        if not _is_inspector(actor):

            return render(request, "mobile/not_inspector.html", {"workbenches": workbenches_for(actor)})
        return view(request, actor, *args, **kwargs)
    return wrapper


def _js_strings():
    """Strings the scripts show, translated here and handed over through json_script."""
    return {
        "queued": _("待发送"),
        "queued_saved": _("当前无网络，已保存到待发送队列，联网后自动发送"),
        "sending": _("正在发送…"),
        "sent": _("上报成功，案件编号"),
        "sent_from_queue": _("待发送的上报已送达，案件编号"),
        "send_failed": _("发送失败"),
        "offline": _("离线"),
        "online": _("在线"),
        "gps_denied": _("未获得定位权限，请在地图上拖动标记选择位置"),
        "gps_unavailable": _("无法获取定位"),
        "gps_locating": _("正在定位…"),
        "gps_accuracy": _("定位精度约 %(m)s 米"),
        "outside": _("该位置不在管理范围内"),
        "locating_grid": _("正在解析网格…"),
        "grid_offline": _("离线状态下无法解析网格，联网后由服务器确定"),
        "no_tasks": _("暂无待办任务"),
        "tasks_offline": _("离线，待办列表可能不是最新"),
        "verify_task": _("待核实"),
        "check_task": _("待核查"),
        "deadline": _("时限"),
        "deadline_unconfirmed": _("期限待确认"),
        "deadline_unconfirmed_tip": _("该期限跨越尚未由国务院放假通知确认的日期，暂按法定节假日推算（不含调休）；导入放假通知后将自动重算"),
        "pick_class": _("请选择问题类别"),
        "pick_location": _("请选择位置"),
        "need_photo": _("请拍摄至少一张现场照片"),
        "need_after_photo": _("自行处置须附处置后照片"),
        "too_many_photos": _("一次最多上传 %(n)s 张照片（本次 %(got)s 张）"),
        "need_description": _("请填写问题描述"),
        "need_opinion": _("请填写意见"),
        "no_match": _("没有匹配的类别"),
        "event": _("事件"),
        "component": _("部件"),
        "cases_count": _("件"),
        "done": _("已提交"),
        "processing_photos": _("正在处理照片…"),
        "my_position": _("我的位置"),
        "delete": _("删除"),
        "confirm_delete": _("删除这条未能发送的上报？"),
    }


def _base_context(request, actor, **extra):
    return {
        "actor": actor, "strings": _js_strings(),
        "config": {"tile_url": city_setting("URBANGRID_TILE_URL"), "tile_attribution": city_setting("URBANGRID_TILE_ATTRIBUTION"),
                   "user": request.user.pk, "sw_url": reverse("mobile:sw"), "scope": reverse("mobile:home"),
                   "grids_url": reverse("mobile:grids"), "top_classes_url": reverse("mobile:top_classes"),
                   "versions": [{"version": v, "kind": k} for v, k in report_versions()],
                   "max_photos": max_photos_per_request()},
        **extra,
    }


@inspector_page
def home(request, actor):
    return render(request, "mobile/home.html", _base_context(request, actor, page="home"))


@inspector_page
def report(request, actor):
    return render(request, "mobile/report.html", _base_context(request, actor, page="report"))


@inspector_page
def task(request, actor, number):
    try:
        case = services.get_visible(actor, number)
    except services.NotFound:
        raise Http404(number) from None
    case = Case.objects.select_related("catalog_class", "responsibility_grid").get(pk=case.pk)
    actions = {t.action: t for t in services.available_actions(actor, case)}
    # the inspector's steps on site: 核实, 核查通过, 核查不通过
    mine = [a for a in rows_that(lambda t: t.scope == "grid_inspector") if a in actions]
    before = [reverse("cases:photo", args=[p.pk]) for p in case.photos.filter(kind=PhotoKind.BEFORE).order_by("pk")]
    after = [reverse("cases:photo", args=[p.pk]) for p in case.photos.filter(kind=PhotoKind.AFTER).order_by("pk")]

    return render(request, "mobile/task.html", _base_context(
        request, actor, page="task", case=case, before=before, after=after, actions=mine,
        light=engine.light(case, timezone.now()) if case.state in OPEN else "", ended=case.state not in OPEN,
        deadline_unconfirmed=case.state in OPEN and services.deadline_unconfirmed(case),
        labels={a: str(actions[a].label) for a in mine}))


def _inspector_grid_ids(actor):
    return actor.grids_as(Role.INSPECTOR)


@require_GET
@login_required
def my_grids(request):
    """The responsibility grids the actor patrols as inspector, as GeoJSON."""

    actor = actor_of(request)
    qs = ResponsibilityGrid.objects.filter(pk__in=_inspector_grid_ids(actor)).select_related("region").order_by("code")
    features = [{"type": "Feature", "id": g.code, "geometry": g.geometry,
                 "properties": {"code": g.code, "name": g.name, "region_name": g.region.name}} for g in qs]
    return JsonResponse({"type": "FeatureCollection", "features": features, "total": len(features)})


@require_GET
@login_required
def top_classes(request):
    """The classes most often reported in the actor's inspector grids (quick picks on the report form)."""

    actor = actor_of(request)
    try:
        limit = max(1, min(int(request.GET.get("limit", 8)), 50))
    except ValueError:
        limit = 8
    rows = (Case.objects.filter(responsibility_grid_id__in=_inspector_grid_ids(actor),
                                catalog_version__in=[v for v, _k in report_versions()])
            .values("catalog_version", "class_code", "kind", "catalog_class__name")
            .annotate(n=Count("id")).order_by("-n", "catalog_version", "class_code")[:limit])
    items = [{"version": r["catalog_version"], "code": r["class_code"], "kind": r["kind"], "name": r["catalog_class__name"],
              "count": r["n"]} for r in rows]
    return JsonResponse({"items": items})


@lru_cache(maxsize=1)
def _shell_version():
    """A hash of the shell's static files, so a deploy with changed files installs a new cache."""
    h = hashlib.sha256()
    for name in SHELL_STATIC:
        path = finders.find(name)
        if path:
            with open(path, "rb") as f:
                h.update(f.read())
    return h.hexdigest()[:12]


@require_GET
def service_worker(request):
    shell = [reverse(p) for p in SHELL_PAGES] + [static(s) for s in SHELL_STATIC]
    body = render(request, "mobile/sw.js", {"shell_json": json.dumps(shell), "version": json.dumps(_shell_version()),
                                            "scope": json.dumps(reverse("mobile:home"))}).content
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = reverse("mobile:home")
    response["Cache-Control"] = "no-cache"
    return response


@never_cache
@require_GET
def manifest(request):
    home_url = reverse("mobile:home")
    data = {
        "name": _("UrbanGrid 巡查员移动端"),
        "short_name": _("巡查通"),
        "description": _("网格巡查员上报问题、核实与核查"),
        "lang": getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE),
        "start_url": home_url,
        "scope": home_url,
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#0b63c5",
        "icons": [{"src": static(f"mobile/icon-{n}.png"), "sizes": f"{n}x{n}", "type": "image/png", "purpose": "any maskable"}
                  for n in (192, 512)],
    }
    return HttpResponse(json.dumps(data, ensure_ascii=False), content_type="application/manifest+json; charset=utf-8")
