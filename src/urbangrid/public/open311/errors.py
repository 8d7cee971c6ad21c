"""Every error under the Open311 prefix as a GeoReport v2 error list, never Django's HTML page.

The views answer their own errors (``views.endpoint``); ``answer`` (registered for the prefix with the site's
error handlers in core/errors.py) answers the rest: an unknown path (404), a body Django refuses before the view reads it (too big
or too many fields: 413; malformed multipart: 400), a ``PermissionDenied`` and a server error (500), in the
format the path asks for (``.json`` / ``.xml``; else the Accept header; else XML, GeoReport's first format).
"""
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent

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


def answer(request, status, exception=None):
    """The GeoReport error list for ``status`` (registered with core/errors.py for the prefix: public/apps.py)."""
    fmt = fmt_of(request)
    if status == 400:
        if isinstance(exception, TOO_LARGE):
            return too_large(fmt)
        return errors(fmt, 400, (400, "malformed request (body or headers)"))
    if status == 403:
        return errors(fmt, 403, (403, "forbidden"))
    if status == 404:
        return errors(fmt, 404, (404, "no such resource; the resources are listed at /open311/v2/discovery.xml "
                                      "(or .json)"))
    return errors(fmt, 500, (500, "internal server error"))
