from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "urbangrid.org"
    label = "org"
    verbose_name = _("组织与人员")

    def ready(self):
        # Imported here, not at the top: models and signals load only once the app registry is ready.
        from urbangrid.core import errors

        from .access import describe_viewer

        errors.register_viewer(describe_viewer)
