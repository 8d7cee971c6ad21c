"""Bearer tokens over real HTTP: issued with an expiry, rotated, revoked (endpoint and admin), dead after a
password change or deactivation, and never written anywhere in the clear."""
from datetime import timedelta

import pytest
import requests
from django.contrib.auth import get_user_model
from django.utils import timezone

from urbangrid.core.models import ApiToken, SecurityEvent

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Token-Life-2026"


@pytest.fixture
def user(settings):
    settings.URBANGRID_AUTH_CACHE_TTL = 0  # the live server's token cache must not hide a revocation
    return get_user_model().objects.create_user("mobile", password=PASSWORD, is_staff=False)


def _issue(base, password=PASSWORD):
    answer = requests.post(base + "/api/v1/auth/token", json={"username": "mobile", "password": password})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _get(base, raw, path="/api/v1/auth/tokens"):
    return requests.get(base + path, headers={"Authorization": f"Bearer {raw}"})


def test_tokens_expire_after_the_configured_days(live_server, user, settings):
    settings.URBANGRID_TOKEN_TTL_DAYS = 7
    body = _issue(live_server.url)
    expires = ApiToken.objects.get().expires_at
    assert timedelta(days=7) - timedelta(minutes=1) < expires - timezone.now() <= timedelta(days=7)
    assert body["expires_at"] is not None
    assert _get(live_server.url, body["token"]).status_code == 200
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _get(live_server.url, body["token"]).status_code == 401


def test_rotation_replaces_the_token(live_server, user):
    old = _issue(live_server.url)["token"]
    answer = requests.post(live_server.url + "/api/v1/auth/token/rotate", headers={"Authorization": f"Bearer {old}"})
    assert answer.status_code == 200
    new = answer.json()["token"]
    assert new != old
    assert _get(live_server.url, old).status_code == 401
    listed = _get(live_server.url, new).json()
    assert [t["current"] for t in listed] == [True] and listed[0]["prefix"] == new[:8]


def test_revoke_the_presented_token_and_one_by_id(live_server, user):
    base = live_server.url
    first, second = _issue(base)["token"], _issue(base)["token"]
    assert requests.post(base + "/api/v1/auth/token/revoke", headers={"Authorization": f"Bearer {first}"}).status_code == 204
    assert _get(base, first).status_code == 401 and _get(base, second).status_code == 200
    third = _issue(base)["token"]
    target = ApiToken.objects.get(prefix=third[:8])
    assert requests.delete(base + f"/api/v1/auth/tokens/{target.pk}", headers={"Authorization": f"Bearer {second}"}).status_code == 204
    assert _get(base, third).status_code == 401
    # Somebody else's token is not found, and cannot be touched.
    other = get_user_model().objects.create_user("other", password=PASSWORD)
    theirs, raw = ApiToken.issue(other)
    assert requests.delete(base + f"/api/v1/auth/tokens/{theirs.pk}", headers={"Authorization": f"Bearer {second}"}).status_code == 404
    assert _get(base, raw).status_code == 200
    # Without a token: refused (the session door answers 403 on a POST without CSRF).
    assert requests.post(base + "/api/v1/auth/token/revoke").status_code in (401, 403)


def test_a_password_change_or_deactivation_kills_tokens(live_server, user):
    base = live_server.url
    raw = _issue(base)["token"]
    user.set_password("Another-Password-99")
    user.save()
    assert _get(base, raw).status_code == 401
    raw = _issue(base, "Another-Password-99")["token"]
    # However the password changes: here a bulk update that sends no signal.
    get_user_model().objects.filter(pk=user.pk).update(password=user.password + "x")
    assert _get(base, raw).status_code == 401
    user.refresh_from_db()
    token, raw = ApiToken.issue(user)
    user.is_active = False
    user.save()
    assert _get(base, raw).status_code == 401


def test_the_admin_revokes_tokens(live_server, user):
    import re

    get_user_model().objects.create_superuser("root", "r@example.invalid", PASSWORD)
    raw = _issue(live_server.url)["token"]
    s = requests.Session()
    page = s.get(live_server.url + "/admin/login/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    s.post(live_server.url + "/admin/login/", data={"username": "root", "password": PASSWORD, "csrfmiddlewaretoken": csrf,
                                                    "next": "/admin/"}, headers={"Referer": live_server.url + "/admin/login/"})
    listing = s.get(live_server.url + "/admin/core/apitoken/")
    assert listing.status_code == 200 and raw[:8] in listing.text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', listing.text).group(1)
    s.post(live_server.url + "/admin/core/apitoken/", data={
        "action": "revoke", "_selected_action": [ApiToken.objects.get().pk], "csrfmiddlewaretoken": csrf},
        headers={"Referer": live_server.url + "/admin/core/apitoken/"})
    assert _get(live_server.url, raw).status_code == 401
    assert SecurityEvent.objects.filter(kind="token_revoked", detail__by="root").exists()


def test_tokens_are_never_stored_or_logged_in_the_clear(live_server, user, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    raw = _issue(live_server.url)["token"]
    _get(live_server.url, raw)
    requests.post(live_server.url + "/api/v1/auth/token/rotate", headers={"Authorization": f"Bearer {raw}"})
    assert raw not in caplog.text
    for event in SecurityEvent.objects.all():
        assert raw not in repr(event.detail)
    for token in ApiToken.objects.values("key_hash", "prefix", "name"):
        assert raw not in repr(token)
    kinds = set(SecurityEvent.objects.values_list("kind", flat=True))
    assert {"login_ok", "token_issued", "token_revoked"} <= kinds
