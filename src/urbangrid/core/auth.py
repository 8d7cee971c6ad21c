"""API authentication: the browser's session (with CSRF) or a bearer token (mobile app, systems)."""
from datetime import timedelta

from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from .models import ApiToken


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        found = ApiToken.lookup(token)
        if found is None:
            return None
        # Record use at most every five minutes: a write per request would cost a commit (and, on
        # SQLite, the database's write lock) per request.
        now = timezone.now()
        if found.last_used_at is None or found.last_used_at < now - timedelta(minutes=5):
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        return found.user


class Session(SessionAuth):
    """Session auth with CSRF checked on unsafe methods (ninja's SessionAuth does that when csrf=True)."""


API_AUTH = [BearerToken(), Session(csrf=True)]
