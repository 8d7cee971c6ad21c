from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublicConfig(AppConfig):
    name = "urbangrid.public"
    label = "public"
    verbose_name = _("公众与开放接口")

    def ready(self):
        # Imported here, not at the top: models and signals load only once the app registry is ready.
        from urbangrid.core import errors

        from .open311.errors import PREFIX, answer

        errors.register_prefix(PREFIX, answer)
