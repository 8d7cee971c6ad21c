from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """运维: export of everything, backup and restore, and the baselines the HTTP benchmarks measure against."""
    name = "urbangrid.ops"
    label = "ops"
    verbose_name = _("运维")
