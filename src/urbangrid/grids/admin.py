from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import GridDataVersion, Region, ResponsibilityGrid, RoadSegment, UnitGrid


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    autocomplete_fields = ("parent",)


class UnitGridInline(admin.TabularInline):
    model = UnitGrid
    fields = ("code", "community", "management_level", "area_m2")
    readonly_fields = ("code", "community", "management_level", "area_m2")
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ResponsibilityGrid)
class ResponsibilityGridAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "region", "unit_grid_count", "area_m2", "patrol_frequency")
    list_filter = ("region__parent__parent",)
    search_fields = ("code", "name")
    autocomplete_fields = ("region",)
    readonly_fields = ("area_m2", "min_lon", "min_lat", "max_lon", "max_lat")
    inlines = [UnitGridInline]

    @admin.display(description=_("单元网格数"))
    def unit_grid_count(self, obj):
        return obj.unit_grids.count()


@admin.register(UnitGrid)
class UnitGridAdmin(admin.ModelAdmin):
    list_display = ("code", "community", "responsibility_grid", "management_level", "area_m2")
    list_filter = ("management_level", "community__parent__parent")
    search_fields = ("code", "responsibility_grid__code", "responsibility_grid__name")
    autocomplete_fields = ("community", "responsibility_grid")
    readonly_fields = ("area_m2", "min_lon", "min_lat", "max_lon", "max_lat")
    list_select_related = ("community", "responsibility_grid")


@admin.register(RoadSegment)
class RoadSegmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "road_class", "length_m")
    list_filter = ("road_class",)
    search_fields = ("code", "name")
    filter_horizontal = ("grids",)
    readonly_fields = ("length_m",)
    exclude = ("unit_grids",)


@admin.register(GridDataVersion)
class GridDataVersionAdmin(admin.ModelAdmin):
    list_display = ("pk", "version")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
