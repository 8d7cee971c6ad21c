"""Citizens' side: report a problem without logging in, track it by code, rate the result."""


from django import forms
from django.conf import settings
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from urbangrid.cases import intake, services
from urbangrid.cases.models import Case, CasePhoto
from urbangrid.cases.photos import location_hint, photo_count_error
from urbangrid.cases.states import Satisfaction, Source, plain_status
from urbangrid.cases.workflow import Action
from urbangrid.catalog.models import CatalogClass
from urbangrid.core.errors import retry_after_window, too_many_requests
from urbangrid.core.ratelimit import client_address, hit
from urbangrid.core.tenancy import setting as city_setting
from urbangrid.gazetteer.geocoder import MAX_TEXT, GeocodeInputError, geocoder
from urbangrid.grids.models import ResponsibilityGrid
from urbangrid.org.roles import Role
from urbangrid.org.scope import anonymous_actor, citizen_actor

from .timeline import public_timeline
from .transparency import figures

# The problems citizens report most are shown first, as chips with their plain words: the current catalogue's classes
# that have a plain name (通俗名称, given in the back office; the demo gives the commonest ones), at most this many.
COMMON_MAX = 12
# The texts of the address search box (static/urbangrid/address_search.js), shared with the hotline desk.
ADDRESS_SEARCH = {"data-empty-text": gettext_lazy("地址库中没有找到，请在地图上点选"),
                  "data-error-text": gettext_lazy("暂时无法查询地址，请在地图上点选"),
                  "data-picked-text": gettext_lazy("已定位：")}
MAX_PHOTOS = 3  # on this page; never more than URBANGRID_MAX_PHOTOS_PER_REQUEST


_anonymous = anonymous_actor


class ReportForm(forms.Form):
    # The class comes from a picture chip (common_class) or the full list; the server decides, not the browser.
    use_required_attribute = False
    catalog_class = forms.ModelChoiceField(queryset=CatalogClass.objects.none(), label=gettext_lazy("问题类别"),
                                           error_messages={"required": gettext_lazy("请选择问题类别"),
                                                           "invalid_choice": gettext_lazy("请选择问题类别")})
    lon = forms.FloatField(label=gettext_lazy("经度"), required=False, widget=forms.HiddenInput)
    lat = forms.FloatField(label=gettext_lazy("纬度"), required=False, widget=forms.HiddenInput)
    address = forms.CharField(label=gettext_lazy("地点说明"), max_length=200, required=False, widget=forms.TextInput(attrs={
        **ADDRESS_SEARCH, "data-geocode-url": reverse_lazy("public:geocode"), "data-lon-field": "id_lon", "data-lat-field": "id_lat",
        "placeholder": gettext_lazy("输入路名门牌、小区或单位名称，从候选中选择")}))
    description = forms.CharField(label=gettext_lazy("问题描述"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    photos = forms.FileField(label=gettext_lazy("照片（最多3张）"), required=False)  # read with FILES.getlist
    component_identifier = forms.CharField(label=gettext_lazy("设施编号（井盖、路灯等设施上标注的部件标识码，可不填）"),
                                           max_length=40, required=False)
    name = forms.CharField(label=gettext_lazy("您的称呼（可不填）"), max_length=50, required=False)
    contact = forms.CharField(label=gettext_lazy("联系电话（可不填，仅工作人员可见）"), max_length=50, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["catalog_class"].queryset = (CatalogClass.objects.current()
                                                 .select_related("version").order_by("kind", "code"))
        self.fields["catalog_class"].label_from_instance = lambda c: f"{c.major_name} · {c.plain_name or c.name}"

    def clean(self):
        # Counted before any photo is opened: the count is the cheap check, the image work comes after.
        message = photo_count_error(len(self.files.getlist("photos")), per_request=MAX_PHOTOS) if self.files else ""
        if message:
            self.add_error("photos", message)
        return super().clean()


def _common_classes():
    """(class, label) of the chips: the current classes with a plain name, events first; a plain name given in
    the source language reads in the visitor's language where the catalogue's words are translated."""
    classes = (CatalogClass.objects.current().exclude(plain_name="")
               .select_related("version").order_by("-kind", "version__code", "code")[:COMMON_MAX])
    return [(c, _(c.plain_name)) for c in classes]


@require_http_methods(["GET", "POST"])
def report(request, grid_code=None):
    """The public report page (the 六定 card's QR code opens it pinned to its grid)."""
    grid = get_object_or_404(ResponsibilityGrid, code=grid_code) if grid_code else None
    centre = grid.shape.representative_point() if grid else None
    data = None
    if request.method == "POST":
        # Every submission counts against the address's limit before anything else is done, whatever becomes
        # of it: one with a refused photo or an invalid form costs the server work too.
        if intake.over_limit(intake.CITIZEN, request) is not None:
            return too_many_requests(request, retry_after=retry_after_window())
        data = request.POST.copy()
        if not data.get("catalog_class"):
            data["catalog_class"] = data.get("common_class", "")
    form = ReportForm(data, request.FILES or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        photos = request.FILES.getlist("photos")  # at most MAX_PHOTOS: the form refuses more
        lon, lat = form.cleaned_data.get("lon"), form.cleaned_data.get("lat")
        if lon is None or lat is None:
            hint = _photo_location(photos) or _address_location(form.cleaned_data["address"])
            lon, lat = hint if hint else (None, None)
        if lon is None or lat is None:
            form.add_error(None, _("请在地图上点选问题位置，或从地址候选中选择"))
        else:
            try:
                case, _created = services.report(
                    _anonymous(), catalog_class=form.cleaned_data["catalog_class"], lon=lon, lat=lat,
                    description=form.cleaned_data["description"], source=Source.PUBLIC_WEB,
                    address=form.cleaned_data["address"], photos=photos, reporter_name=form.cleaned_data["name"],
                    reporter_contact=form.cleaned_data["contact"], require_photos=False, door=intake.CITIZEN,
                    component_identifier=form.cleaned_data["component_identifier"],
                    idempotency_key=request.POST.get("submission_id") or None)
            except services.CaseError as exc:
                for field, message in exc.fields.items():
                    form.add_error(field if field in form.fields else None, message)
                error = exc.message
            else:
                request.session.setdefault("tracking_codes", [])
                request.session["tracking_codes"] = (request.session["tracking_codes"] + [case.tracking_code])[-20:]
                return redirect(reverse("public:track", args=[case.tracking_code]) + "?new=1")
    return render(request, "public/report.html", {
        "form": form, "grid": grid, "error": error, "common": _common_classes(),
        "centre": {"lon": centre.x, "lat": centre.y} if centre else None, "tile_url": city_setting("URBANGRID_TILE_URL"),
    }, status=400 if request.method == "POST" else 200)


def _photo_location(photos):
    """The GPS position in the first photo's EXIF that has one (a hint when no point was picked), read from the
    photos' headers: no pixel is decoded here (``services.report`` checks and re-encodes the photos once)."""
    for upload in photos:
        gps = location_hint(upload)
        if gps:
            return gps["lon"], gps["lat"]
    return None


def _address_location(text):
    """The point of an address text the gazetteer places with confidence (no script: the typed words), or None."""

    if not (text or "").strip():
        return None
    try:
        best = geocoder.locate(text)
    except GeocodeInputError:
        return None
    return (best.lon, best.lat) if best else None


@require_http_methods(["GET"])
def geocode(request):
    """Address text → candidates for the citizen report page: no login, counted per client address
    (``URBANGRID_PUBLIC_GEOCODES_PER_HOUR``); only what a citizen may see (the place's words, point, grid codes)."""

    if not hit("public-geocode", client_address(request), settings.URBANGRID_PUBLIC_GEOCODES_PER_HOUR):
        retry = retry_after_window()
        response = JsonResponse({"detail": _("查询过于频繁，请稍后再试"), "code": "rate_limited"}, status=429)
        response["Retry-After"] = str(retry)
        return response
    q = request.GET.get("q", "")
    try:
        limit = int(request.GET.get("limit", "5"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 10:
        return JsonResponse({"detail": _("limit 应为 1–10"), "code": "invalid_limit", "fields": {"limit": _("应为 1–10")}}, status=400)
    if len(q) > MAX_TEXT:
        return JsonResponse({"detail": _("地址不能超过 %(n)s 个字") % {"n": MAX_TEXT}, "code": "invalid_address",
                             "fields": {"q": _("不能超过 %(n)s 个字") % {"n": MAX_TEXT}}}, status=400)
    try:
        found = geocoder.geocode(q, limit=limit)
    except GeocodeInputError:
        return JsonResponse({"detail": _("请输入地址"), "code": "invalid_address", "fields": {"q": _("请输入地址（不含控制字符）")}},
                            status=400)
    keep = ("lon", "lat", "score", "precision", "label", "confident", "unit_grid", "responsibility_grid", "community")
    return JsonResponse({"query": q, "candidates": [{k: v for k, v in c.as_dict().items() if k in keep} for c in found]},
                        json_dumps_params={"ensure_ascii": False})


def track_lookup(request):
    code = (request.GET.get("code") or "").strip().upper()
    if code:
        return redirect("public:track", code=code)
    return render(request, "public/track_lookup.html", {"recent": request.session.get("tracking_codes", [])})


def _tracked(code):
    case = Case.objects.select_related("catalog_class", "responsibility_grid", "district").filter(tracking_code=code).first()
    if case is None:
        raise Http404
    return case


class RateForm(forms.Form):
    satisfaction = forms.ChoiceField(choices=Satisfaction.choices, widget=forms.RadioSelect, label=gettext_lazy("您对处理结果"))
    comment = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}), label=gettext_lazy("意见"))


@require_http_methods(["GET", "POST"])
def track(request, code):
    case = _tracked(code)
    form = RateForm(request.POST or None)
    if request.method == "POST":
        if not hit("public-rate", client_address(request), settings.URBANGRID_PUBLIC_POSTS_PER_HOUR):
            return too_many_requests(request, retry_after=retry_after_window())
        if form.is_valid():
            try:
                rate(case, form.cleaned_data["satisfaction"], form.cleaned_data["comment"])
            except services.CaseError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect("public:track", code=code)
    # A merged report follows its master case: same status, same timeline from the merge on.
    followed = case
    for _hop in range(10):  # a master merged in turn into another: follow to the case still open
        if not followed.duplicate_of_id:
            break
        followed = followed.duplicate_of
    closed = followed.state == "closed" or followed.reopen_count
    photos = [p for p in CasePhoto.objects.filter(case=case).order_by("pk") if p.kind == "before" or (closed and p.kind == "after")]
    timeline = public_timeline(case) + (public_timeline(followed) if followed is not case else [])
    return render(request, "public/track.html", {
        "case": case, "status": plain_status(followed), "timeline": timeline, "photos": photos, "merged": followed is not case,
        "can_rate": case.state == "closed" and not case.satisfaction, "form": form, "new": request.GET.get("new"),
    })


def rate(case, satisfaction, comment=""):
    """回访 by the citizen: recorded on the case; 'not satisfied' sends it back into the loop, counted."""
    actor = citizen_actor(case.tracking_code)
    services.transition(actor, case.number, Action.RATE, {"satisfaction": satisfaction, "opinion": comment})
    if satisfaction == Satisfaction.DISSATISFIED:
        services.transition(services.system_actor(Role.INTAKE_OPERATOR), case.number, Action.REOPEN,
                            {"reason": _("市民评价不满意：%(c)s") % {"c": comment or "—"}})


def track_photo(request, code, pk):
    """Before-photos always, after-photos once the case is closed; nothing else of the case's files."""
    case = _tracked(code)
    photo = get_object_or_404(CasePhoto, pk=pk, case=case)
    if photo.kind not in ("before", "after") or (photo.kind == "after" and case.state != "closed" and not case.reopen_count):
        raise Http404
    return FileResponse(photo.image.open("rb"), content_type="image/jpeg")


def grid_outlines(request):
    """Responsibility grid outlines for the public map (codes and names only)."""

    features = [{"type": "Feature", "geometry": g.geometry, "properties": {"code": g.code, "name": g.name}}
                for g in ResponsibilityGrid.objects.only("code", "name", "geometry").order_by("code")]
    response = JsonResponse({"type": "FeatureCollection", "features": features})
    response["Cache-Control"] = "public, max-age=300"
    return response


def transparency(request):
    """公开: what the city received and fixed, how fast each unit and district was, what is common now."""

    return render(request, "public/transparency.html", {"f": figures()})
