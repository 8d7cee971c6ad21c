from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import EvaluationScheme


@admin.register(EvaluationScheme)
class EvaluationSchemeAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "zero_denominator_score", "ontime_grace_minutes", "updated_at"]
    list_filter = ["active"]
    fieldsets = [
        (None, {"fields": ["name", "active"]}),
        (_("等级"), {"fields": ["grade_bands"]}),
        (_("部门评价"), {"fields": ["unit_weights", "unit_filed_bands"]}),
        (_("岗位评价"), {"fields": ["position_weights", "accept_bands", "dispatch_bands"]}),
        (_("区域评价"), {"fields": ["region_weights", "region_class_bands", "class_two_regions", "self_handled_in_regions"]}),
        (_("按时与比率规则"), {"fields": ["zero_denominator_score", "ontime_grace_minutes", "deadline_lookback_days"]}),
    ]


from .models import Deduction, DeductionEvent, DeductionPhoto, DeductionPolicy, InspectionItem  # noqa: E402


@admin.register(DeductionPolicy)
class DeductionPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "base_score", "appeal_days", "updated_at"]


@admin.register(InspectionItem)
class InspectionItemAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "aspect", "default_points", "max_points", "max_times", "count_period", "earn_back",
                    "active"]
    list_filter = ["aspect", "active", "earn_back"]
    search_fields = ["code", "name", "standard"]
    autocomplete_fields = ["catalog_class"]
    fieldsets = [
        (None, {"fields": ["code", "name", "standard", "aspect", "active"]}),
        (_("扣分"), {"fields": ["default_points", "max_points", "max_times", "count_period", "target_types"]}),
        (_("整改返还"), {"fields": ["earn_back", "earn_back_ratio", "earn_back_points"]}),
        (_("立案"), {"fields": ["catalog_class"]}),
    ]


class DeductionPhotoInline(admin.TabularInline):
    model = DeductionPhoto
    extra = 0
    readonly_fields = ["image", "width", "height", "uploaded_at"]
    can_delete = False


class DeductionEventInline(admin.TabularInline):
    model = DeductionEvent
    extra = 0
    readonly_fields = ["action", "from_state", "to_state", "user", "person", "role", "note", "at"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Deduction)
class DeductionAdmin(admin.ModelAdmin):
    """Read-only here: deductions change only through record / appeal / review, which write the history."""

    list_display = ["pk", "occurred_at", "item", "points", "target_type", "state", "assessor"]
    list_filter = ["state", "target_type", "item__aspect"]
    search_fields = ["item__code", "item__name", "note", "grid__code", "road_segment__code", "unit__name",
                     "party_organization__name", "person__name"]
    date_hierarchy = "occurred_at"
    inlines = [DeductionPhotoInline, DeductionEventInline]
    list_select_related = ["item", "assessor"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
