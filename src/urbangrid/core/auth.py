"""API authentication: the browser's session (with CSRF) or a bearer token (mobile app, systems)."""
import copy
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from .localcache import LocalCache
from .models import ApiToken, hash_token

# Valid tokens with their users, per process (see core/localcache.py): a token revoked, a password changed
# or a user deactivated here is refused at once, elsewhere within URBANGRID_AUTH_CACHE_TTL seconds (default 5).
TOKENS = LocalCache("api-tokens", (ApiToken, settings.AUTH_USER_MODEL), "URBANGRID_AUTH_CACHE_TTL", 5.0,
                    ignore_update_fields=("last_login",))


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        found = TOKENS.get(hash_token(token), lambda: ApiToken.lookup(token))
        if found is None:
            return None
        now = timezone.now()
        if found.invalid_reason(now):  # a cached token expires on time too
            return None
        # Record use at most every five minutes: a write per request would cost a commit (and, on
        # SQLite, the database's write lock) per request.
        if found.last_used_at is None or found.last_used_at < now - timedelta(minutes=5):
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
            found.last_used_at = now
        # Each request gets its own user instance: views may cache relations on it or change it.
        user = copy.copy(found.user)
        request.user = user
        request.api_token = found
        return user


class Session(SessionAuth):
    """Session auth with CSRF checked on unsafe methods (ninja's SessionAuth does that when csrf=True)."""


API_AUTH = [BearerToken(), Session(csrf=True)]
