from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "urbangrid.cases"
    label = "cases"
    verbose_name = _("案件")

    def ready(self):
        # Imported here, not at the top: models and signals load only once the app registry is ready.
        from urbangrid.catalog import hooks as catalogue
        from urbangrid.worktime import signals as calendar

        from . import append_only, catalog_switch, recount, services

        post_migrate.connect(append_only.ensure, sender=self, dispatch_uid="cases-append-only-triggers")
        # The working calendar changed: the open cases' clocks follow it, in the same transaction.
        calendar.days_changed.connect(services.recalendar_receiver, dispatch_uid="cases-recalendar")
        calendar.calendar_invalidated.connect(services.drop_limits_cache, dispatch_uid="cases-limits-cache")
        # The catalogue's switch and recount move and read cases: the catalogue asks through its hooks.
        catalogue.register(switch_catalogue=catalog_switch.switch_catalogue, recount_request=recount.recount_request)
