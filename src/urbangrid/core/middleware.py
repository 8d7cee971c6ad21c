from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.http import HttpResponseBadRequest
from django.utils import translation
from django.utils.translation import gettext as _

from .tenancy import setting as city_setting


class RejectNulMiddleware:
    """A NUL character in a page's URL or query answers 400: PostgreSQL refuses NUL in text, so it would
    otherwise reach a query and fail there. The JSON APIs answer it themselves with their error bodies."""

    API_PREFIXES = ("/api/", "/open311/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(self.API_PREFIXES) and (
                "\x00" in request.path or any("\x00" in k or any("\x00" in v for v in vs) for k, vs in request.GET.lists())):
            return HttpResponseBadRequest(_("请求中含有不允许的空字符"), content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class ChineseByDefaultMiddleware:
    """For signed-in staff the interface is Chinese unless they chose English (cookie or saved preference):
    a bureau's screens should not switch language because a browser happens to be set to English.
    Anonymous visitors (citizens, the login page) get what their browser asks for (Accept-Language), unless
    the language cookie says otherwise; LocaleMiddleware, right after this one, does the choosing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.get(SESSION_KEY):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)



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


class ContentSecurityPolicyMiddleware:
    """No inline scripts, no foreign scripts, no framing; map tiles may come from the configured tile host."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._policies = {}  # tile URL → policy (each city may name its own tiles)

    def policy(self):
        tiles = city_setting("URBANGRID_TILE_URL")
        policy = self._policies.get(tiles)
        if policy is None:
            host = urlsplit(tiles.replace("{s}", "*")).netloc if tiles else ""
            img = "'self' data: blob:" + (f" https://{host} http://{host}" if host else "")
            policy = self._policies[tiles] = (
                "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                f"img-src {img}; connect-src 'self'; worker-src 'self'; object-src 'none'; "
                "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
        return policy

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy())
        return response
