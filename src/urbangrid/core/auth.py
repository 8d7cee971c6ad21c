"""API authentication: the browser's session (with CSRF) or a bearer token (mobile app, systems)."""
from datetime import timedelta

from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from .models import ApiToken, hash_token


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = ApiToken.authenticate(token)
        if user is None:
            return None
        # Record use at most every five minutes: a write per request would cost a commit per request.
        now = timezone.now()
        ApiToken.objects.filter(key_hash=hash_token(token)).exclude(last_used_at__gt=now - timedelta(minutes=5)).update(last_used_at=now)
        request.user = user
        return user


class Session(SessionAuth):
    """Session auth with CSRF checked on unsafe methods (ninja's SessionAuth does that when csrf=True)."""


API_AUTH = [BearerToken(), Session(csrf=True)]
