from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class WorktimeConfig(AppConfig):
    name = "urbangrid.worktime"
    label = "worktime"
    verbose_name = _("工作日历")

    def ready(self):
        # Imported here, not at the top: models and signals load only once the app registry is ready.
        from . import clock, store
        from .clock import invalidate_calendar
        from .models import TimeLimitSetting, WorkCalendarDay, WorkingPeriod

        clock._reader = store.read_calendar

        # An edit in this process shows up at once; other processes pick it up after the cache TTL.
        for model in (WorkCalendarDay, WorkingPeriod, TimeLimitSetting):
            post_save.connect(invalidate_calendar, sender=model, dispatch_uid=f"worktime-{model.__name__}-save")
            post_delete.connect(invalidate_calendar, sender=model, dispatch_uid=f"worktime-{model.__name__}-delete")
