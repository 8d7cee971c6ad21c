"""Permission checks shared by views and API routers."""
import copy
import dataclasses

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from ninja.errors import HttpError

from .scope import Actor, actor_for

from urbangrid.core.localcache import LocalCache

# Actors (roles, grids, units with their teams, districts) of logged-in users, per process (see
# core/localcache.py): a role given or taken here applies at once, elsewhere within
# URBANGRID_AUTH_CACHE_TTL seconds (default 5). Building one costs two or more queries per request.
ACTORS = LocalCache("actors", (settings.AUTH_USER_MODEL, "org.Person", "org.RoleAssignment", "org.Unit"),
                    "URBANGRID_AUTH_CACHE_TTL", 5.0, ignore_update_fields=("last_login",))
_ACTOR_SETS = [f.name for f in dataclasses.fields(Actor) if f.name not in ("user", "person", "city_wide")]


def _own_copy(actor, user):
    """The cached actor for this request's user object, with sets and person of its own (callers may
    change them; the cached one must not)."""
    fields = {name: {k: set(v) for k, v in value.items()} if isinstance(value, dict) else set(value)
              for name in _ACTOR_SETS for value in [getattr(actor, name)]}
    return Actor(user=user, person=copy.copy(actor.person), city_wide=actor.city_wide, **fields)


def actor_of(request):
    actor = getattr(request, "_urbangrid_actor", None)
    if actor is None or actor.user is not request.user:
        user = request.user
        if getattr(user, "is_authenticated", False) and getattr(user, "pk", None) is not None:
            actor = _own_copy(ACTORS.get(user.pk, lambda: actor_for(user)), user)
        else:
            actor = actor_for(user)
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


def describe_viewer(request):
    """For the site's error pages (core/errors.py): may the viewer search cases, and his roles' labels."""
    actor = actor_of(request)
    return actor.can("case.view") or actor.can("case.view_all"), sorted(str(r.label) for r in actor.roles)
