from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

API_PREFIX = "/province/api/"


def _json_error(request, status, exception=None):
    # local: JsonResponse needs the settings, which the app registry has by the time an error is answered
    from django.http import JsonResponse

    return JsonResponse({"accepted": False, "reason": "http", "detail": f"HTTP {status}"}, status=status)


class ProvinceConfig(AppConfig):
    """省级平台: the province node's side of the exchange (its cities, what they sent, what it refused)."""
    name = "urbangrid.province"
    label = "province"
    verbose_name = _("省级平台")

    def ready(self):
        # Imported here, not at the top: core's error pages load with the app registry.
        from urbangrid.core import errors

        errors.register_prefix(API_PREFIX, _json_error)
