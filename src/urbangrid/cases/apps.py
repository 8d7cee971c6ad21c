from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "urbangrid.cases"
    label = "cases"
    verbose_name = _("案件")

    def ready(self):
        from . import append_only

        post_migrate.connect(append_only.ensure, sender=self, dispatch_uid="cases-append-only-triggers")
