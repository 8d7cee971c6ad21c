"""The baseline of bench/bench_http_create.py: a minimal JSON view, mounted at /bench/ping only when the
environment variable URBANGRID_BENCH=1 is set (see urbangrid.urls)."""
from django.http import JsonResponse


def ping(request):
    return JsonResponse({"ok": True})
