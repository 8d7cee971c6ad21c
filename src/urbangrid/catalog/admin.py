from django.contrib import admin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from .models import CatalogClass, CatalogVersion, Component, CrosswalkEntry, ResponsibilityRule


@admin.register(CatalogVersion)
class CatalogVersionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "standard", "effective_date", "is_current", "component_count", "event_count"]
    list_editable = ["is_current"]

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


@admin.register(Component)
class ComponentAdmin(admin.ModelAdmin):
    list_display = ["identifier", "name", "catalog_class", "unit_grid", "state", "competent_unit"]
    list_filter = ["state", "catalog_class__version", "data_source"]
    search_fields = ["identifier", "name"]
    list_select_related = ["catalog_class", "unit_grid", "competent_unit"]
    autocomplete_fields = ["catalog_class"]
    raw_id_fields = ["competent_unit", "owner_unit", "maintenance_unit"]
    readonly_fields = ["unit_grid"]


@admin.register(CrosswalkEntry)
class CrosswalkEntryAdmin(admin.ModelAdmin):
    list_display = ["old_class", "new_class", "relation", "verified", "note"]
    list_editable = ["new_class", "relation", "verified", "note"]
    list_filter = ["relation", "verified", "old_class__version", "new_class__version"]
    search_fields = ["old_class__code", "old_class__name", "new_class__code", "new_class__name", "note"]
    list_select_related = ["old_class", "new_class"]
    autocomplete_fields = ["old_class", "new_class"]
    list_per_page = 100
