"""Permission checks shared by views and API routers."""
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from ninja.errors import HttpError

from urbangrid.org.scope import actor_for


def actor_of(request):
    actor = getattr(request, "_urbangrid_actor", None)
    if actor is None or actor.user is not request.user:
        actor = actor_for(request.user)
        request._urbangrid_actor = actor
    return actor


def api_require(request, perm):
    """The request's actor if it holds ``perm``; HTTP 403 otherwise (for API routers)."""
    actor = actor_of(request)
    if not actor.can(perm):
        raise HttpError(403, _("无权执行此操作（需要权限 %(perm)s）") % {"perm": perm})
    return actor


def view_require(request, perm):
    actor = actor_of(request)
    if not actor.can(perm):
        raise PermissionDenied(perm)
    return actor
