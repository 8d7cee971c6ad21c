from django.conf import settings
from django.utils import translation


class UserLanguageMiddleware:
    """Apply the language a logged-in user chose before (on any device), unless this browser chose already."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            pref = getattr(user, "preference", None) if hasattr(user, "preference") else None
            if pref is not None and pref.language:
                chosen = pref.language
                translation.activate(chosen)
                request.LANGUAGE_CODE = chosen
        response = self.get_response(request)
        if chosen:
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, chosen, samesite="Lax")
        return response
