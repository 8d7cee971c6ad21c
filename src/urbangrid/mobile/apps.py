from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MobileConfig(AppConfig):
    name = "urbangrid.mobile"
    label = "mobile"
    verbose_name = _("巡查员移动端")
