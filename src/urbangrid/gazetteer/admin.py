import json
import tempfile

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from urbangrid.core.excel import XLSX

from . import transfer
from .models import Doorplate, Intersection, Landmark, Road

GAZETTEER_MODELS = (Road, Doorplate, Landmark)


class GazetteerImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("地址库文件"), help_text=gettext_lazy(
        "GeoJSON（.geojson/.json）或 Excel（.xlsx），格式同“导出地址库”的文件"))
    replace = forms.BooleanField(label=gettext_lazy("以文件为全部地址库（删除文件中没有的道路、门牌和标志物）"), required=False)


def _may(request, action):
    return all(request.user.has_perm(f"gazetteer.{action}_{m._meta.model_name}") for m in GAZETTEER_MODELS)


class DoorplateInline(admin.TabularInline):
    model = Doorplate
    fields = ("number", "suffix", "building_name", "lon", "lat")
    extra = 0
    show_change_link = True


@admin.register(Road)
class RoadAdmin(admin.ModelAdmin):
    list_display = ("name", "aliases", "length_m")
    search_fields = ("name",)
    filter_horizontal = ("segments",)
    readonly_fields = ("length_m", "min_lon", "min_lat", "max_lon", "max_lat")
    change_list_template = "admin/gazetteer/road/change_list.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("import/", view(self.import_view), name="gazetteer_import"),
                path("export.<str:fmt>", view(self.export_view), name="gazetteer_export")] + super().get_urls()

    def import_view(self, request):
        """导入地址库: the whole file checked first (each problem listed, nothing written), then one transaction."""
        if not (_may(request, "add") and _may(request, "change")):
            raise PermissionDenied
        problems = []
        form = GazetteerImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            replace = form.cleaned_data["replace"]
            if replace and not _may(request, "delete"):
                raise PermissionDenied
            try:
                stats = transfer.import_records(transfer.read_upload(form.cleaned_data["file"]), replace=replace)
            except transfer.TransferError as exc:
                problems = exc.problems
            else:
                messages.success(request, _(
                    "地址库已导入：道路新增 %(rc)d、更新 %(ru)d；门牌新增 %(dc)d、更新 %(du)d；标志物新增 %(lc)d、更新 %(lu)d"
                ) % {"rc": stats["road"]["created"], "ru": stats["road"]["updated"], "dc": stats["doorplate"]["created"],
                     "du": stats["doorplate"]["updated"], "lc": stats["landmark"]["created"], "lu": stats["landmark"]["updated"]})
                return redirect(reverse("admin:gazetteer_road_changelist"))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "problems": problems, "title": _("导入地址库")}
        status = 422 if problems or (request.method == "POST" and not form.is_valid()) else 200
        return TemplateResponse(request, "admin/gazetteer/road/import.html", context, status=status)

    def export_view(self, request, fmt):
        if not _may(request, "view"):
            raise PermissionDenied
        if fmt == "xlsx":

            with tempfile.NamedTemporaryFile(suffix=".xlsx") as tmp:
                try:
                    transfer.export_xlsx(tmp.name)
                except transfer.TransferError as exc:
                    messages.error(request, "；".join(str(p) for p in exc.problems))
                    return redirect(reverse("admin:gazetteer_road_changelist"))
                tmp.seek(0)
                response = HttpResponse(tmp.read(), content_type=XLSX)
        elif fmt == "geojson":
            body = json.dumps(transfer.export_geojson(), ensure_ascii=False)
            response = HttpResponse(body, content_type="application/geo+json; charset=utf-8")
        else:
            return HttpResponse(status=404)
        response["Content-Disposition"] = f'attachment; filename="gazetteer.{fmt}"'
        return response


@admin.register(Doorplate)
class DoorplateAdmin(admin.ModelAdmin):
    list_display = ("__str__", "road", "number", "suffix", "building_name", "lon", "lat")
    list_filter = ("road",)
    search_fields = ("road__name", "building_name", "=number")
    list_select_related = ("road",)
    autocomplete_fields = ("road",)


@admin.register(Landmark)
class LandmarkAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "aliases", "community", "lon", "lat")
    list_filter = ("category",)
    search_fields = ("name",)
    list_select_related = ("community",)
    autocomplete_fields = ("community",)


@admin.register(Intersection)
class IntersectionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "lon", "lat")
    list_select_related = ("road_a", "road_b")
    search_fields = ("road_a__name", "road_b__name")
