from django.contrib import admin

from .models import PartyOrganization, Person, RoleAssignment, Unit


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "command_level", "region", "is_territorial", "parent", "active")
    list_filter = ("kind", "command_level", "is_territorial", "active")
    search_fields = ("code", "name", "short_name")
    autocomplete_fields = ("parent", "region")


@admin.register(PartyOrganization)
class PartyOrganizationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent", "unit")
    list_filter = ("level",)
    search_fields = ("code", "name")
    autocomplete_fields = ("parent", "unit")
    filter_horizontal = ("road_segments", "grids")


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ("grid", "road_segment", "region", "unit")


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ("employee_no", "name", "unit", "title", "phone", "is_party_member", "party_organization", "active")
    list_filter = ("is_party_member", "active", "unit", "roles__role")
    search_fields = ("employee_no", "name", "phone")
    autocomplete_fields = ("unit", "party_organization", "user")
    list_select_related = ("unit", "party_organization")
    inlines = [RoleAssignmentInline]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ("person", "role", "grid", "road_segment", "region", "unit")
    list_filter = ("role",)
    search_fields = ("person__name", "person__employee_no", "grid__code", "grid__name")
    autocomplete_fields = ("person", "grid", "road_segment", "region", "unit")
    list_select_related = ("person", "grid", "road_segment", "region", "unit")
