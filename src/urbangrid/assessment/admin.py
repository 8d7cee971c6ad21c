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
        (_("区域评价"), {"fields": ["region_weights", "region_class_bands", "class_two_regions"]}),
        (_("按时与比率规则"), {"fields": ["zero_denominator_score", "ontime_grace_minutes", "deadline_lookback_days"]}),
    ]
