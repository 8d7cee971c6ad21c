"""Every error under the Open311 prefix as a GeoReport v2 error list, never Django's HTML page.

The views answer their own errors (``views.endpoint``); these handlers (``handler400`` … ``handler500`` of the
root URLconf) answer the rest: an unknown path (404), a body Django refuses before the view reads it (too big
or too many fields: 413; malformed multipart: 400), a ``PermissionDenied`` and a server error (500), in the
format the path asks for (``.json`` / ``.xml``; else the Accept header; else XML, GeoReport's first format).
Outside the prefix they are the site's own pages (``core/errors.py``: designed, localised, JSON under /api/).
"""
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent

from urbangrid.core import errors as pages

from .render import errors

PREFIX = "/open311/"
# Bodies Django refuses while reading them (DATA_UPLOAD_MAX_MEMORY_SIZE, _NUMBER_FIELDS, _NUMBER_FILES).
TOO_LARGE = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


def is_open311(request):
    return (request.path_info or "").startswith(PREFIX)


def fmt_of(request):
    """The format a request under the prefix asks for."""
    path = (request.path_info or "").rstrip("/")
    if path.endswith(".json"):
        return "json"
    if path.endswith(".xml"):
        return "xml"
    accept = request.META.get("HTTP_ACCEPT", "")
    return "json" if "json" in accept and "xml" not in accept else "xml"


def too_large(fmt):
    return errors(fmt, 413, (413, "the request body is too large (or has too many fields or files)"))


def bad_request(request, exception):
    if not is_open311(request):
        return pages.bad_request(request, exception)
    if isinstance(exception, TOO_LARGE):
        return too_large(fmt_of(request))
    return errors(fmt_of(request), 400, (400, "malformed request (body or headers)"))


def permission_denied(request, exception):
    if not is_open311(request):
        return pages.permission_denied(request, exception)
    return errors(fmt_of(request), 403, (403, "forbidden"))


def page_not_found(request, exception):
    if not is_open311(request):
        return pages.page_not_found(request, exception)
    return errors(fmt_of(request), 404, (404, "no such resource; the resources are listed at /open311/v2/discovery.xml "
                                              "(or .json)"))


def server_error(request):
    if not is_open311(request):
        return pages.server_error(request)
    return errors(fmt_of(request), 500, (500, "internal server error"))
