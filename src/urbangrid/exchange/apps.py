from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    """联网上报: the city's outbox toward its province (部省市三级平台), see ``outbox``."""
    name = "urbangrid.exchange"
    label = "exchange"
    verbose_name = _("联网上报")
