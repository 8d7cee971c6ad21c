"""The province's exchange endpoints (thin: ``receive`` decides). JSON in and out, no session, no CSRF token: a
city authenticates each request with its key's signature."""
from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from urbangrid.core.ratelimit import client_address

from . import receive, wire
from .models import Rejection


def _header(request, name):
    return request.headers.get(name, "")


@csrf_exempt
@require_POST
def batches(request):
    """POST /province/api/v1/exchange/batches: one batch (docs/exchange.md)."""
    limit = settings.URBANGRID_PROVINCE_MAX_BATCH_BYTES
    city = _header(request, wire.CITY_HEADER)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    body = request.read(limit + 1) if declared <= limit else b""
    if declared > limit or len(body) > limit:
        Rejection.objects.create(city_code=city[:40], reason="too_large", status=413, body_bytes=max(declared, len(body)),
                                 remote_addr=client_address(request)[:64], detail=f"more than {limit} bytes")
        return JsonResponse({"accepted": False, "reason": "too_large", "detail": f"a batch is at most {limit} bytes"},
                            status=413)
    status, answer = receive.receive_batch(body, city, _header(request, wire.SIGNATURE_HEADER),
                                           client_address(request))
    return JsonResponse(answer, status=status, json_dumps_params={"ensure_ascii": False})


@require_GET
def cursor(request):
    """GET /province/api/v1/exchange/cursor?city=X: where the city's stream stands (signed request)."""
    status, answer = receive.cursor(request.GET.get("city", ""), _header(request, wire.TIMESTAMP_HEADER),
                                    _header(request, wire.SIGNATURE_HEADER), client_address(request))
    return JsonResponse(answer, status=status, json_dumps_params={"ensure_ascii": False})
