from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacesConfig(AppConfig):
    """网格与部件页面: the pages and API that read the city's places and things with their people, cases and
    responsibility list — the city map, a grid's page, its 六定 card and sign, a component's page with its history
    of cases — above the apps they read (grids, org, catalog, cases)."""
    name = "urbangrid.places"
    label = "places"
    verbose_name = _("网格与部件页面")
