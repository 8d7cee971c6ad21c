"""The site's error pages: 400, 403, 404, 429, 500 and a refused form (CSRF), in the user's language, each
with the way on (home, back; staff may search cases; on the public tracking page a form to type the code
again).

``urls.handler400`` … ``handler500`` and ``CSRF_FAILURE_VIEW`` are these functions. Core knows no domain: the
apps above register what only they know (``register_viewer``: may the viewer search cases, and his roles;
``register_prefix``: a path prefix with its own error format, e.g. GeoReport errors under /open311/). Under /api/ the answers stay JSON (``{"detail": …}``),
like the API's own errors. The 500 page is rendered without the request's context: it must not need the
database, the session or the user, any of which may be what failed.
"""
import logging
import re
import time
from urllib.parse import urlsplit

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
TRACK_PAGE = re.compile(r"^/track/(?P<code>[^/]{1,40})/?$")


# Filled in by the apps' ready(): core imports none of them.
_viewer = None      # request → (may search cases, [role labels]); org/apps.py
_prefixes = {}      # path prefix → answer(request, status, exception); public/apps.py for /open311/


def register_viewer(describe):
    global _viewer
    _viewer = describe


def register_prefix(prefix, answer):
    _prefixes[prefix] = answer


def _own_format(request, status, exception=None):
    """The answer of an app that owns the request's path prefix, or None."""
    path = request.path_info or ""
    for prefix, answer in _prefixes.items():
        if path.startswith(prefix):
            return answer(request, status, exception)
    return None


def is_api(request):
    return (request.path_info or "").startswith(API_PREFIX)


def _json(status, detail):
    return JsonResponse({"detail": detail}, status=status)


def _back_url(request):
    """The page the user came from, when it is one of ours and not this one (Referer: same-origin policy)."""
    referer = request.META.get("HTTP_REFERER", "")
    if not referer:
        return ""
    try:
        parts, host = urlsplit(referer), request.get_host()
    except Exception:  # a disallowed Host (the 400 itself) or a malformed header: no back link from it
        return ""
    if parts.netloc != host or not parts.path.startswith("/") or parts.path == request.path:
        return ""
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _user(request):
    user = getattr(request, "user", None)
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def _describe(request):
    """(may search cases, role labels) of a logged-in viewer; nothing for others or when it cannot be read."""
    if _user(request) is None or _viewer is None:
        return False, []
    try:
        return _viewer(request)
    except Exception:  # an error page must not fail on the way to saying so
        log.exception("error page: could not read the viewer's roles and permissions")
        return False, []


def _can_search_cases(request):
    return _describe(request)[0]


def _roles(request):
    return _describe(request)[1]


def render_error(request, status, title, message, *, extra=None, headers=None):
    """The designed page for ``status``: what happened, in plain words, and where to go from here."""
    user = _user(request)
    tracking = TRACK_PAGE.match(request.path_info or "")
    context = {
        "status": status, "title": title, "message": message,
        "back_url": _back_url(request),
        "logged_in": user is not None,
        "login_url": "/accounts/login/?next=" + (request.get_full_path() if request.method == "GET" else "/"),
        "search_cases": status in (403, 404) and _can_search_cases(request),
        "retry_code": tracking.group("code").strip().upper() if tracking and status == 404 else None,
        **(extra or {}),
    }
    body = loader.render_to_string("errors/error.html", context, request)
    response = HttpResponse(body, status=status, content_type="text/html; charset=utf-8")
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def bad_request(request, exception=None):
    own = _own_format(request, 400, exception)
    if own is not None:
        return own
    if is_api(request):
        return _json(400, "Bad Request")

    if isinstance(exception, (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)):
        return render_error(request, 400, _("提交的内容过大"),
                            _("这次提交的内容太大，或附带的文件、字段太多。请减少照片数量或缩小照片后，返回上一页重新提交。"))
    return render_error(request, 400, _("请求无法处理"),
                        _("浏览器发来的请求不完整或有误，系统无法处理。请返回上一页重试。"))


def permission_denied(request, exception=None):
    own = _own_format(request, 403, exception)
    if own is not None:
        return own
    if is_api(request):
        return _json(403, "Forbidden")
    if _user(request) is None:
        message = _("此页面需要登录后才能打开。")
    else:
        message = _("您的账号没有打开此页面的权限。如工作需要，请联系系统管理员分配相应角色。")
    return render_error(request, 403, _("无权访问此页面"), message, extra={"roles": _roles(request)})


def page_not_found(request, exception=None):
    own = _own_format(request, 404, exception)
    if own is not None:
        return own
    if is_api(request):
        return _json(404, "Not Found")
    if TRACK_PAGE.match(request.path_info or ""):
        return render_error(request, 404, _("没有找到这个查询码"),
                            _("没有查到与该查询码对应的问题。请核对查询码（提交成功页面上的 10 位字母和数字）后重新输入。"))
    return render_error(request, 404, _("页面不存在"),
                        _("您要找的页面不存在，可能链接有误或内容已被移除。"))


def too_many_requests(request, retry_after=None):
    """429: a submission limit was reached (citizens' reports and ratings); ``retry_after`` in seconds when
    known. (A locked login answers 429 on the login page itself: core/login.py.)"""
    if is_api(request):
        return _json(429, "Too Many Requests")
    if retry_after:
        minutes = max(1, (int(retry_after) + 59) // 60)
        message = _("为防止滥用，系统暂时不接受来自您所在网络的更多提交。请在 %(m)s 分钟后再试。") % {"m": minutes}
    else:
        message = _("为防止滥用，系统暂时不接受来自您所在网络的更多提交。请稍后再试。")
    return render_error(request, 429, _("提交过于频繁"), message,
                        headers={"Retry-After": str(int(retry_after))} if retry_after else None)


def retry_after_window(window_seconds=3600):
    """Seconds until the current rate-limit window (``ratelimit.hit``) ends: by then the refused client's
    count is at most what the sliding window carries over from it, so a client that waits that long is let in
    unless it kept hammering while refused."""
    return int(window_seconds - time.time() % window_seconds) + 1


def server_error(request):
    own = _own_format(request, 500)
    if own is not None:
        return own
    if is_api(request):
        return _json(500, "Internal Server Error")
    try:
        body = loader.render_to_string("errors/500.html", {"status": 500})
    except Exception:  # the last resort must answer whatever else is broken
        log.exception("error page: the 500 page itself failed")
        body = "<!doctype html><title>500</title><h1>500</h1>"
    return HttpResponseServerError(body, content_type="text/html; charset=utf-8")


def csrf_failure(request, reason=""):
    """A form refused by the CSRF check: usually a page left open too long, a logout elsewhere, or cookies off."""
    if is_api(request):
        return _json(403, "CSRF check failed")
    own = _own_format(request, 403)
    if own is not None:
        return own
    log.warning("CSRF failure on %s: %s", request.path, reason)
    return render_error(request, 403, _("表单已失效，未能提交"),
                        _("为保护您的账号，系统拒绝了这次提交：页面可能打开太久、您已在别处退出登录，或浏览器禁用了 Cookie。"
                          "请返回上一页，刷新后重新填写提交。"), extra={"csrf": True, "roles": []})
