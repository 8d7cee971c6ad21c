from django.contrib import admin

from .models import Doorplate, Intersection, Landmark, Road


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
