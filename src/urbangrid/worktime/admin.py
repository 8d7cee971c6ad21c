from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .models import TimeLimitSetting, WorkCalendarDay, WorkingPeriod
from .seeding import fallback_years, missing_years

WEEKDAYS = "一二三四五六日"


@admin.register(WorkCalendarDay)
class WorkCalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "weekday", "kind", "is_workday", "holiday_name", "source"]
    list_filter = ["kind", "source", "is_workday"]
    search_fields = ["holiday_name"]
    date_hierarchy = "date"
    readonly_fields = ["source", "updated_at"]
    fields = ["date", "kind", "holiday_name", "source", "updated_at"]

    @admin.display(description=_("星期"))
    def weekday(self, obj):
        return _("星期%(d)s") % {"d": WEEKDAYS[obj.date.weekday()]}

    def save_model(self, request, obj, form, change):
        obj.source = WorkCalendarDay.Source.MANUAL  # a hand edit wins over later re-seeding
        super().save_model(request, obj, form, change)

    def changelist_view(self, request, extra_context=None):
        # Deadlines in these years ignore statutory holidays and 调休: make that impossible to miss.
        if years := fallback_years():
            messages.warning(request, _(
                "以下年份没有法定节假日数据，暂按周一至周五上班计算，请手工录入节假日和调休：%(years)s"
            ) % {"years": "、".join(map(str, years))})
        if years := missing_years():
            messages.warning(request, _(
                "以下年份尚未生成工作日历，暂按周一至周五上班计算，请运行 urbangrid worktime seed：%(years)s"
            ) % {"years": "、".join(map(str, years))})
        return super().changelist_view(request, extra_context)


@admin.register(WorkingPeriod)
class WorkingPeriodAdmin(admin.ModelAdmin):
    list_display = ["__str__", "start", "end", "order"]
    list_editable = ["start", "end", "order"]


@admin.register(TimeLimitSetting)
class TimeLimitSettingAdmin(admin.ModelAdmin):
    list_display = ["stage", "value", "unit", "yellow_share"]
    list_editable = ["value", "unit", "yellow_share"]
