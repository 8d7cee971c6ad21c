"""Bearer tokens: valid ones authenticate; use is recorded at most every five minutes (no write per request)."""
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from urbangrid.core.models import ApiToken

pytestmark = pytest.mark.django_db


def test_token_use_is_recorded_sparingly(client):
    user = get_user_model().objects.create_superuser("api-user", "a@example.org", "x-Secret-123")
    token, raw = ApiToken.issue(user, name="t")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get("/api/v1/units", **auth).status_code == 200
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    assert client.get("/api/v1/units", **auth).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == first  # within five minutes: not written again
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=6))
    assert client.get("/api/v1/units", **auth).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at > first


def test_expired_inactive_and_unknown_tokens_are_refused(client):
    user = get_user_model().objects.create_user("api-user2", password="x-Secret-123")
    _t, expired = ApiToken.issue(user, ttl=timedelta(seconds=-1))
    assert client.get("/api/v1/units", HTTP_AUTHORIZATION=f"Bearer {expired}").status_code == 401
    _t, raw = ApiToken.issue(user)
    user.is_active = False
    user.save()
    assert client.get("/api/v1/units", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    assert client.get("/api/v1/units", HTTP_AUTHORIZATION="Bearer not-a-token").status_code == 401
