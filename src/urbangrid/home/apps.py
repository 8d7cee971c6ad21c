from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HomeConfig(AppConfig):
    """首页: the landing page (each role's workbench) and the navigation every page shares."""
    name = "urbangrid.home"
    label = "home"
    verbose_name = _("首页")
