from django.conf import settings
from django.db import connection
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.i18n import set_language as django_set_language

from .models import UserPreference


@require_GET
def favicon(request):
    """/favicon.ico: browsers ask for it on every site; send them to our icon in the static files."""

    return HttpResponsePermanentRedirect(static("urbangrid/favicon.ico"))


@never_cache
@require_GET
def healthz(request):
    """Liveness and database check for load balancers: 200 {"status": "ok"} or 503."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any database failure means "not healthy"
        return JsonResponse({"status": "error", "database": str(exc.__class__.__name__)}, status=503)
    return JsonResponse({"status": "ok"})


def set_language(request):
    """Django's set_language, remembering the choice for the logged-in user (kept across devices)."""

    response = django_set_language(request)
    language = request.POST.get("language")
    if request.method == "POST" and request.user.is_authenticated and language:

        if language in dict(settings.LANGUAGES):
            UserPreference.objects.update_or_create(user=request.user, defaults={"language": language})
    return response
