from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridsConfig(AppConfig):
    name = "urbangrid.grids"
    label = "grids"
    verbose_name = _("网格与地理")

    def ready(self):
        # Imported here, not at the top: models and signals load only once the app registry is ready.
        from . import signals

        signals.connect()
