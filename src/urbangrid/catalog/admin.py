import json
import tempfile

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from urbangrid.org.access import actor_of

from . import components_transfer, hooks
from .models import CatalogClass, CatalogVersion, Component, CrosswalkEntry, ResponsibilityRule


@admin.register(CatalogVersion)
class CatalogVersionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "standard", "base", "effective_date", "is_current", "component_count", "event_count"]
    # Which versions are current changes only through the switch: open cases and the rules follow it.
    readonly_fields = ["is_current"]
    actions = ["switch_to"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            n_components=Count("classes", filter=Q(classes__kind=CatalogClass.Kind.COMPONENT)),
            n_events=Count("classes", filter=Q(classes__kind=CatalogClass.Kind.EVENT)))

    @admin.display(description=_("部件小类数"), ordering="n_components")
    def component_count(self, obj):
        return obj.n_components

    @admin.display(description=_("事件/事项小类数"), ordering="n_events")
    def event_count(self, obj):
        return obj.n_events

    @admin.action(description=_("切换为现行分类（在办案件和责任清单按新旧分类对照迁移）"), permissions=["change"])
    def switch_to(self, request, queryset):
        """分类版本切换 (``cases.catalog_switch``): first a dry run shown for confirmation, then the switch itself."""
        if queryset.count() != 1:
            self.message_user(request, gettext("请只选择一个分类版本"), messages.ERROR)
            return None
        version = queryset.get()
        try:
            report = hooks.switch_catalogue(version.code, dry_run=not request.POST.get("apply"),
                                            actor=actor_of(request) if request.POST.get("apply") else None)
        except hooks.SwitchError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None
        if report.dry_run:
            context = {**self.admin_site.each_context(request), "opts": self.model._meta, "version": version,
                       "report": report, "lines": report.lines(), "title": gettext("切换现行分类版本"),
                       "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME}
            return TemplateResponse(request, "admin/catalog/catalogversion/switch.html", context)
        self.message_user(request, gettext("已切换到 %(v)s：在办案件重新归类 %(m)s 件，责任清单复制 %(r)s 条") % {
            "v": "、".join(report.current_after), "m": len(report.cases_mapped), "r": len(report.rules_copied)},
            messages.SUCCESS)
        if report.needs_decision:
            self.message_user(request, gettext(
                "有 %(c)s 件在办案件、%(r)s 条责任清单规则需要人工判断（拆分、对照待核实或无对应新分类）：在“新旧分类对照”中核实或选定后再次切换") % {
                "c": len(report.cases_pending), "r": len(report.rules_pending)}, messages.WARNING)
        return None


@admin.register(CatalogClass)
class CatalogClassAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "major_code", "major_name", "version", "code_inferred", "active"]
    list_filter = ["version", "kind", "major_name", "code_inferred", "active"]
    search_fields = ["code", "name", "plain_name", "major_name"]
    list_select_related = ["version"]
    raw_id_fields = ["component"]


@admin.register(ResponsibilityRule)
class ResponsibilityRuleAdmin(admin.ModelAdmin):
    list_display = ["catalog_class", "filing_condition", "area", "unit", "urgency", "time_limit", "auto_dispatch", "active"]
    list_filter = ["catalog_class__version", "catalog_class__kind", "urgency", "time_limit_unit", "auto_dispatch", "active", "unit"]
    search_fields = ["catalog_class__code", "catalog_class__name", "filing_condition", "unit__name", "region__name"]
    list_select_related = ["catalog_class", "region", "responsibility_grid", "unit"]
    autocomplete_fields = ["catalog_class"]
    # raw ids: the grids/org admins (other apps) may not offer autocomplete.
    raw_id_fields = ["region", "responsibility_grid", "unit"]

    @admin.display(description=_("适用范围"))
    def area(self, obj):
        return obj.area_display

    @admin.display(description=_("处置时限"), ordering="time_limit_value")
    def time_limit(self, obj):
        return obj.time_limit_display


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ComponentImportForm(forms.Form):
    file = forms.FileField(label=_("部件库文件"), help_text=_("GeoJSON（.geojson/.json）或 Excel（.xlsx），格式同“导出部件库”的文件"))
    replace = forms.BooleanField(label=_("以文件为全部部件库（删除文件中没有的部件）"), required=False)


@admin.register(Component)
class ComponentAdmin(admin.ModelAdmin):
    list_display = ["identifier", "name", "catalog_class", "unit_grid", "state", "competent_unit"]
    list_filter = ["state", "catalog_class__version", "data_source"]
    search_fields = ["identifier", "name"]
    list_select_related = ["catalog_class", "unit_grid", "competent_unit"]
    autocomplete_fields = ["catalog_class"]
    raw_id_fields = ["competent_unit", "owner_unit", "maintenance_unit"]
    readonly_fields = ["unit_grid"]
    change_list_template = "admin/catalog/component/change_list.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("import/", view(self.import_view), name="catalog_component_import"),
                path("export.<str:fmt>", view(self.export_view), name="catalog_component_export")] + super().get_urls()

    def import_view(self, request):
        """导入部件库: the whole file checked first (each problem listed, nothing written), then one transaction."""
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        problems = []
        form = ComponentImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            replace = form.cleaned_data["replace"]
            if replace and not self.has_delete_permission(request):
                raise PermissionDenied
            try:
                stats = components_transfer.import_records(components_transfer.read_upload(form.cleaned_data["file"]),
                                                           replace=replace)
            except components_transfer.TransferError as exc:
                problems = exc.problems
            else:
                messages.success(request, gettext("部件库已导入：新增 %(created)d，更新 %(updated)d，未变 %(unchanged)d，删除 %(deleted)d")
                                 % stats)
                return redirect(reverse("admin:catalog_component_changelist"))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "problems": problems, "title": gettext("导入部件库")}
        status = 422 if problems or (request.method == "POST" and not form.is_valid()) else 200
        return TemplateResponse(request, "admin/catalog/component/import.html", context, status=status)

    def export_view(self, request, fmt):
        if not self.has_view_permission(request):
            raise PermissionDenied
        if fmt == "xlsx":

            with tempfile.NamedTemporaryFile(suffix=".xlsx") as tmp:
                components_transfer.export_xlsx(tmp.name)
                tmp.seek(0)
                response = HttpResponse(tmp.read(), content_type=XLSX)
        elif fmt == "geojson":
            body = json.dumps(components_transfer.export_geojson(), ensure_ascii=False)
            response = HttpResponse(body, content_type="application/geo+json; charset=utf-8")
        else:
            return HttpResponse(status=404)
        response["Content-Disposition"] = f'attachment; filename="components.{fmt}"'
        return response


@admin.register(CrosswalkEntry)
class CrosswalkEntryAdmin(admin.ModelAdmin):
    list_display = ["old_class", "new_class", "relation", "verified", "note"]
    list_editable = ["new_class", "relation", "verified", "note"]
    list_filter = ["relation", "verified", "old_class__version", "new_class__version"]
    search_fields = ["old_class__code", "old_class__name", "new_class__code", "new_class__name", "note"]
    list_select_related = ["old_class", "new_class"]
    autocomplete_fields = ["old_class", "new_class"]
    list_per_page = 100
