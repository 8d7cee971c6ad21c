from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GazetteerConfig(AppConfig):
    name = "urbangrid.gazetteer"
    label = "gazetteer"
    verbose_name = _("地址库")

    def ready(self):
        # Imported here, not at the top: models and signals load only once the app registry is ready.
        from . import signals

        signals.connect()
