from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import TimeLimitSetting, WorkCalendarDay, WorkingPeriod
from .notice import MAX_BYTES, NoticeError, apply, read
from .seeding import fallback_years, missing_years, provisional_years
from .signals import recompute_dependents

WEEKDAYS = "一二三四五六日"


def _recalendar(request, dates, note):
    """Recompute the open cases' clocks over ``dates`` (all when None) inside the admin's transaction and say so."""
    n = recompute_dependents(dates=dates, note=note)
    if n:
        messages.info(request, _("已按新的工作日历重算 %(n)s 件在办案件的时限") % {"n": n})


class NoticeForm(forms.Form):
    year = forms.IntegerField(label=_("年份"), min_value=1900, max_value=2200)
    file = forms.FileField(label=_("通知文件"), help_text=_(
        "CSV、JSON 或 Excel（.xlsx），每行一天：date,kind,name；kind 为 holiday（放假）或 makeup_workday（调休上班）"))
    replace_manual = forms.BooleanField(label=_("覆盖手工维护的日期"), required=False)


@admin.register(WorkCalendarDay)
class WorkCalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "weekday", "kind", "is_workday", "holiday_name", "source"]
    list_filter = ["kind", "source", "is_workday"]
    search_fields = ["holiday_name"]
    date_hierarchy = "date"
    readonly_fields = ["source", "updated_at"]
    fields = ["date", "kind", "holiday_name", "source", "updated_at"]
    change_list_template = "admin/worktime/workcalendarday/change_list.html"

    @admin.display(description=_("星期"))
    def weekday(self, obj):
        return _("星期%(d)s") % {"d": WEEKDAYS[obj.date.weekday()]}

    def save_model(self, request, obj, form, change):
        obj.source = WorkCalendarDay.Source.MANUAL  # a hand edit wins over later re-seeding
        old = WorkCalendarDay.objects.filter(pk=obj.pk).values_list("date", flat=True).first() if change else None
        super().save_model(request, obj, form, change)
        _recalendar(request, [d for d in (obj.date, old) if d], _("工作日历修改：%(d)s") % {"d": obj.date})

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        _recalendar(request, [obj.date], _("工作日历删除：%(d)s") % {"d": obj.date})

    def delete_queryset(self, request, queryset):
        dates = list(queryset.values_list("date", flat=True))
        super().delete_queryset(request, queryset)
        _recalendar(request, dates, _("工作日历删除 %(n)s 天") % {"n": len(dates)})

    def changelist_view(self, request, extra_context=None):
        # Deadlines in these years ignore statutory holidays and 调休: make that impossible to miss.
        if years := fallback_years():
            messages.warning(request, _(
                "以下年份没有法定节假日数据，暂按周一至周五上班计算，请手工录入节假日和调休：%(years)s"
            ) % {"years": "、".join(map(str, years))})
        if years := provisional_years():
            messages.warning(request, _(
                "以下年份尚未导入国务院放假通知，暂按法定节假日推算（不含调休），其上的期限待确认，请导入放假通知：%(years)s"
            ) % {"years": "、".join(map(str, years))})
        if years := missing_years():
            messages.warning(request, _(
                "以下年份尚未生成工作日历，暂按法定节假日推算，请运行 urbangrid worktime seed：%(years)s"
            ) % {"years": "、".join(map(str, years))})
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [path("import-notice/", self.admin_site.admin_view(self.import_notice_view),
                     name="worktime_workcalendarday_import_notice")] + super().get_urls()

    def import_notice_view(self, request):
        """导入放假通知: validated first (every row error listed, nothing written), then the year and the open
        cases' recomputed clocks in one transaction."""
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        errors = []
        if request.method == "POST":
            form = NoticeForm(request.POST, request.FILES)
            if form.is_valid():
                upload, year = form.cleaned_data["file"], form.cleaned_data["year"]
                try:
                    if upload.size > MAX_BYTES:
                        raise NoticeError([_("文件过大（最多 %(n)s 字节）") % {"n": MAX_BYTES}])
                    notice = read(upload.read(), year, upload.name)
                    counts = apply(notice, replace_manual=form.cleaned_data["replace_manual"])  # one transaction
                except NoticeError as exc:
                    errors = exc.errors
                else:
                    messages.success(request, _(
                        "已导入 %(y)s 年放假通知：%(d)s 天工作状态改变，%(c)s 件在办案件的时限已重算，%(m)s 个手工维护的日期保留"
                    ) % {"y": year, "d": len(counts["changed"]), "c": counts["cases"], "m": counts["manual_kept"]})
                    return redirect(reverse("admin:worktime_workcalendarday_changelist"))
        else:
            form = NoticeForm(initial={"year": timezone.localdate().year + 1})
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form, "errors": errors,
                   "title": _("导入放假通知")}
        return TemplateResponse(request, "admin/worktime/workcalendarday/import_notice.html", context,
                                status=422 if errors else 200)


@admin.register(WorkingPeriod)
class WorkingPeriodAdmin(admin.ModelAdmin):
    list_display = ["__str__", "start", "end", "order"]
    list_editable = ["start", "end", "order"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _recalendar(request, None, _("上班时段修改"))

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        _recalendar(request, None, _("上班时段修改"))


@admin.register(TimeLimitSetting)
class TimeLimitSettingAdmin(admin.ModelAdmin):
    list_display = ["stage", "value", "unit", "yellow_share"]
    list_editable = ["value", "unit", "yellow_share"]
