"""Pages for deductions (倒扣分): the assessor's phone page, the lists (mine, appeals to review, against me),
one deduction with its appeal and review forms, a target's deductions with its score, the deduction standard."""
from types import SimpleNamespace

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from urbangrid.core.excel import ImportErrors, uploaded_path, xlsx_download
from urbangrid.core.tenancy import setting as city_setting
from urbangrid.grids.models import ResponsibilityGrid
from urbangrid.org.access import actor_of, view_require

from ..models import Deduction, DeductionPhoto, InspectionItem, TargetType
from . import rules as svc
from .api import RELATED, detail_out, filtered, period_from, scores_for

TABS = ("mine", "review", "against_me", "all")


def _strings():
    return {
        "pick_item": _("请选择检查项目"), "pick_location": _("请选择位置"), "pick_target": _("请选择考核对象"),
        "need_photo": _("请拍摄至少一张现场照片"), "locating": _("正在解析位置…"), "outside": _("该位置不在管理范围内"),
        "gps_locating": _("正在定位…"), "gps_unavailable": _("无法获取定位，请在地图上点选位置"),
        "sending": _("正在提交…"), "sent": _("已记录扣分"), "send_failed": _("提交失败"), "points": _("分"),
        "none_here": _("该位置没有此类考核对象"),
    }


@never_cache
@login_required
@ensure_csrf_cookie
def new(request):
    """The assessor's phone page: item, place on the map, target, points, photos, note."""
    actor = view_require(request, "assessment.deduct")
    items = [{"code": it.code, "name": it.name, "aspect": it.get_aspect_display(), "standard": it.standard,
              "default_points": float(it.default_points), "max_points": float(it.max_points),
              "target_types": it.target_types, "has_class": it.catalog_class_id is not None}
             for it in svc.active_items()]
    config = {"tile_url": city_setting("URBANGRID_TILE_URL"), "tile_attribution": city_setting("URBANGRID_TILE_ATTRIBUTION"),
              "candidates_url": reverse("assessment:deduction_candidates"), "api_url": "/api/v1/deductions",
              "my_grids": _my_grids(actor), "target_types": [{"value": v, "label": str(lbl)} for v, lbl in TargetType.choices]}
    return render(request, "assessment/deductions/new.html", {"items": items, "config": config, "strings": _strings(),
                                                              "actor": actor})


def _my_grids(actor):
    return [{"code": g.code, "name": g.name, "geometry": g.geometry}
            for g in ResponsibilityGrid.objects.filter(pk__in=actor.grid_ids).order_by("code")]


@require_GET
@login_required
def candidates(request):
    view_require(request, "assessment.deduct")
    try:
        loc, out = svc.candidates(request.GET.get("lon"), request.GET.get("lat"))
    except svc.DeductionError as exc:
        return JsonResponse({"detail": exc.message, "code": exc.code, "fields": exc.fields}, status=exc.status)
    return JsonResponse({"location": loc.as_dict(), "targets": out})


def _list_filter(request, tab):
    g = request.GET
    return SimpleNamespace(mine=tab == "mine", against_me=tab == "against_me",
                           state=g.get("state") or ("appealed" if tab == "review" else None),
                           target_type=None, target=None, period=g.get("period") or None, day=g.get("date") or None,
                           from_=g.get("from") or None, to=g.get("to") or None)


@never_cache
@login_required
def index(request):
    """Lists: my deductions (assessor), appeals waiting for review (reviewer), against me (targets), all."""
    actor = actor_of(request)
    tabs = []
    if actor.can("assessment.deduct"):
        tabs.append(("mine", _("我记录的扣分")))
    if actor.can("assessment.review_appeal"):
        tabs.append(("review", _("待复核申诉")))
    tabs.append(("against_me", _("对我方的扣分")))
    if svc.sees_all(actor):
        tabs.append(("all", _("全部扣分")))
    tab = request.GET.get("tab") or tabs[0][0]
    if tab not in dict(tabs):
        raise Http404(tab)
    error, rows = "", []
    try:
        qs = filtered(actor, _list_filter(request, tab)).select_related(*RELATED).order_by("-occurred_at", "-pk")
        if tab == "review" and actor.person is not None:  # nobody reviews his own deduction or appeal
            qs = qs.exclude(appealed_by_id=actor.person.pk).exclude(assessor_id=actor.person.pk)
        total = qs.count()
        rows = list(qs[:200])
    except svc.DeductionError as exc:
        error, total = exc.message + "：" + "；".join(exc.fields.values()), 0
    return render(request, "assessment/deductions/index.html", {
        "tabs": tabs, "tab": tab, "rows": rows, "total": total, "error": error, "actor": actor,
        "can_deduct": actor.can("assessment.deduct"), "state": request.GET.get("state", ""),
        "states": Deduction.State.choices, "period": request.GET.get("period", ""), "date": request.GET.get("date", ""),
    }, status=422 if error else 200)


@never_cache
@login_required
def detail(request, pk):
    actor = actor_of(request)
    try:
        d = svc.get_visible(actor, pk)
    except svc.NotFound:
        raise Http404(pk) from None
    d = Deduction.objects.select_related(*RELATED).prefetch_related("photos").get(pk=d.pk)
    return render(request, "assessment/deductions/detail.html", {"d": d, "info": detail_out(actor, d)})


def _act(request, pk, fn):
    actor = actor_of(request)
    try:
        fn(actor)
    except svc.NotFound:
        raise Http404(pk) from None
    except svc.DeductionError as exc:
        d = Deduction.objects.filter(pk=pk).select_related(*RELATED).prefetch_related("photos").first()
        return render(request, "assessment/deductions/detail.html", {"d": d, "info": detail_out(actor, d),
                                                                     "form": request.POST,
                                                                     "error": "；".join([exc.message, *exc.fields.values()])},
                      status=exc.status)
    return redirect("assessment:deduction_detail", pk=pk)


@require_POST
@login_required
def appeal(request, pk):
    return _act(request, pk, lambda actor: svc.appeal(actor, pk, request.POST.get("reason", "")))


@require_POST
@login_required
def review(request, pk):
    return _act(request, pk, lambda actor: svc.review(actor, pk, request.POST.get("decision", ""), request.POST.get("note", "")))


@login_required
def photo(request, pk, photo_pk):
    try:
        d = svc.get_visible(actor_of(request), pk)
    except svc.NotFound:
        raise Http404(pk) from None
    p = DeductionPhoto.objects.filter(pk=photo_pk, deduction=d).first()
    if p is None:
        raise Http404(photo_pk)
    response = FileResponse(p.image.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@never_cache
@login_required
def target(request, target_type, code):
    """One target's deductions in a period with its score (100 less counted points plus earn-back)."""
    actor = actor_of(request)
    if target_type not in svc.TARGET_FIELD:
        raise Http404(target_type)
    obj = svc.find_target(target_type, code)
    if obj is None:
        raise Http404(code)
    g = request.GET
    error, p, score, rows = "", None, None, []
    try:
        p = period_from(g.get("period") or None, g.get("date") or None, g.get("from") or None, g.get("to") or None)
    except svc.DeductionError as exc:
        error = exc.message
    visible = svc.visible_deductions(actor).filter(target_type=target_type, **{svc.TARGET_FIELD[target_type]: obj})
    if not (svc.sees_all(actor) or svc.answers_for(actor, target_type, obj) or visible.exists()):
        raise Http404(code)  # out of scope answers like missing
    if p is not None:
        rows = list(visible.filter(occurred_at__gte=p.start, occurred_at__lt=p.end).select_related(*RELATED)
                    .order_by("-occurred_at", "-pk"))
        found = [r for r in scores_for(actor, p, target_type) if r["target_id"] == obj.pk]
        base = float(svc.DeductionPolicy.current().base_score)
        score = found[0] if found else {"deductions": 0, "points": 0.0, "earned_back": 0.0, "score": base, "pending": 0}
    return render(request, "assessment/deductions/target.html", {
        "obj": obj, "label": svc.target_label(target_type, obj), "target_type": target_type,
        "type_label": TargetType(target_type).label, "p": p, "error": error, "score": score, "rows": rows,
        "period": g.get("period", "month"), "date": g.get("date", ""),
        "kinds": [("day", _("日")), ("week", _("周")), ("month", _("月")), ("quarter", _("季")), ("year", _("年"))],
    }, status=422 if error else 200)


@never_cache
@login_required
def items(request):
    """The deduction standard; with reference.manage, Excel export and import (all or nothing)."""
    actor = actor_of(request)
    manage = actor.can("reference.manage")
    errors, result = [], None
    if request.method == "POST":
        view_require(request, "reference.manage")
        upload = request.FILES.get("file")
        if upload is None:
            errors = [_("请选择 Excel 文件")]
        else:
            with uploaded_path(upload) as path:
                try:
                    result = svc.import_items(path)
                except ImportErrors as exc:
                    errors = [str(e) for e in exc.errors]
    qs = InspectionItem.objects.select_related("catalog_class").order_by("code")
    return render(request, "assessment/deductions/items.html", {
        "items": qs, "manage": manage, "errors": errors, "result": result,
    }, status=400 if errors else 200)


@login_required
def items_export(request):
    view_require(request, "reference.manage")
    return xlsx_download(svc.export_items, "inspection-items.xlsx")
