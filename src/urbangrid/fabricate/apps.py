from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FabricateConfig(AppConfig):
    """演示与模拟数据: the demo city (``urbangrid demo``) and the generator of large cities (``urbangrid
    generate``); above every domain app, which it fills through their own models and services."""
    name = "urbangrid.fabricate"
    label = "fabricate"
    verbose_name = _("演示与模拟数据")
