"""Login throttling and lockout, for the login page and the API token endpoint."""
import pytest
from django.core.cache import cache
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def test_login_locks_after_repeated_failures(demo_city, settings):
    settings.URBANGRID_LOGIN_MAX_FAILURES = 3
    good = demo_city["logins"]["inspector"]
    c = Client()
    for _ in range(3):
        page = c.post("/accounts/login/", {"username": good["username"], "password": "wrong-guess-123"})
        assert page.status_code == 200
    locked = c.post("/accounts/login/", {"username": good["username"], "password": good["password"]})
    # 429 with the login form itself: the lock's message (how long to wait) and the way to try again.
    assert locked.status_code == 429 and "暂时锁定" in locked.content.decode() and int(locked["Retry-After"]) > 0
    assert 'role="alert"' in locked.content.decode() and 'id="id_password"' in locked.content.decode()
    assert "_auth_user_id" not in c.session
    # Another user from elsewhere is not affected; once the lock is lifted the right password works.
    other = demo_city["logins"]["dispatcher"]
    assert Client(REMOTE_ADDR="10.0.0.9").post("/accounts/login/", {"username": other["username"], "password": other["password"]}).status_code == 302
    from urbangrid.core.login import unlock

    unlock(username=good["username"])
    assert c.post("/accounts/login/", {"username": good["username"], "password": good["password"]}).status_code == 302


def test_token_endpoint_is_throttled(demo_city, settings):
    settings.URBANGRID_LOGIN_MAX_FAILURES = 2
    c = Client()
    body = {"username": "inspector", "password": "nope-nope-nope"}
    assert [c.post("/api/v1/auth/token", body, content_type="application/json").status_code for _ in range(3)] == [401, 401, 429]
    good = demo_city["logins"]["inspector"]
    assert c.post("/api/v1/auth/token", {"username": good["username"], "password": good["password"]},
                  content_type="application/json").status_code == 429


def test_passwords_are_hashed_and_policy_applies(demo_city):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    user = get_user_model().objects.get(username="inspector")
    assert not user.password.startswith(demo_city["logins"]["inspector"]["password"])
    assert "$" in user.password
    with pytest.raises(ValidationError):
        validate_password("12345678", user)


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    import os
    import secrets
    import subprocess
    import sys

    env = dict(os.environ, URBANGRID_HTTPS="1", URBANGRID_SECRET_KEY=secrets.token_urlsafe(60),
               URBANGRID_ALLOWED_HOSTS="grid.example.gov.cn", URBANGRID_VAR_DIR=str(tmp_path))
    env.pop("URBANGRID_DEBUG", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests for their own process only
    run = subprocess.run([sys.executable, "-m", "urbangrid", "check", "--deploy", "--fail-level", "WARNING"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
