"""Bearer tokens' life: issue, rotate and revoke, each written to the security log.

The raw token is returned once and never stored or logged (only its SHA-256 and an 8-character prefix)."""
from django.db import transaction
from django.utils import timezone

from .models import ApiToken, SecurityEvent
from .ratelimit import client_address


def _log(kind, token, request, by=None, **detail):
    SecurityEvent.objects.create(kind=kind, username=token.user.get_username(), user=token.user,
                                 address=client_address(request)[:64] if request else "", door="api",
                                 detail={"prefix": token.prefix, "by": getattr(by, "username", "") or "", **detail})


def issue(user, request, name="api"):
    token, raw = ApiToken.issue(user, name=name)
    _log("token_issued", token, request, expires_at=token.expires_at.isoformat() if token.expires_at else None)
    return token, raw


def revoke(token, request, by=None, reason="revoked"):
    with transaction.atomic():
        if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
            token.refresh_from_db(fields=["revoked_at"])
            # The per-process token cache drops it on save signals; update() sends none.
            from .auth import TOKENS

            TOKENS.clear()
            _log("token_revoked", token, request, by=by or token.user, reason=reason)
            return True
    return False


def rotate(token, request):
    """A new token for the same user and purpose; the old one stops working at once."""
    with transaction.atomic():
        new, raw = issue(token.user, request, name=token.name)
        revoke(token, request, reason="rotated")
    return new, raw
