"""One login policy for every door (site login, admin login, token endpoint), over real HTTP.

Failures count per account-and-address, per account and per address in the shared store (database rows,
or Redis), a lock backs off, every step is in the security log, an administrator lifts a lock, and the
client's address comes from X-Forwarded-For only through a trusted proxy."""
import re

import pytest
import requests
from django.contrib.auth import get_user_model

from urbangrid.core.models import SecurityEvent, Throttle
from ug_testing import suite_vendor

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Correct-Horse-42"


@pytest.fixture
def users():
    User = get_user_model()
    admin = User.objects.create_user("boss", password=PASSWORD, is_staff=True, is_superuser=True)
    clerk = User.objects.create_user("clerk", password=PASSWORD, is_staff=True)
    return admin, clerk


@pytest.fixture
def policy(settings):
    settings.URBANGRID_LOGIN_MAX_FAILURES = 3
    settings.URBANGRID_LOGIN_ACCOUNT_MAX_FAILURES = 8
    settings.URBANGRID_LOGIN_ADDRESS_MAX_FAILURES = 12
    settings.URBANGRID_LOGIN_LOCK_SECONDS = 60
    settings.URBANGRID_TRUSTED_PROXIES = []
    return settings


def _form_login(base, path, username, password, headers=None, language=None):
    """A browser's form login: fetch the page (CSRF cookie and token), post it; True when signed in."""
    s = requests.Session()
    if language:
        s.cookies.set("django_language", language)
    page = s.get(base + path, headers=headers)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = s.post(base + path, data={"username": username, "password": password, "csrfmiddlewaretoken": token,
                                       "next": "/admin/" if path.startswith("/admin") else "/"},
                    headers={"Referer": base + path, **(headers or {})}, allow_redirects=False)
    return answer.status_code == 302 and "sessionid" in s.cookies, answer


def _token(base, username, password, headers=None):
    return requests.post(base + "/api/v1/auth/token", json={"username": username, "password": password}, headers=headers)


def test_admin_login_is_locked_like_the_site_login(live_server, users, policy):
    base = live_server.url
    for _ in range(3):
        ok, answer = _form_login(base, "/admin/login/", "boss", "wrong-password-1")
        assert not ok and answer.status_code == 200
    ok, answer = _form_login(base, "/admin/login/", "boss", PASSWORD)
    assert not ok and "暂时锁定" in answer.text
    # The same account from the same address is locked at the other doors too.
    assert not _form_login(base, "/accounts/login/", "boss", PASSWORD)[0]
    assert _token(base, "boss", PASSWORD).status_code == 429
    events = SecurityEvent.objects.filter(username="boss")
    checked = events.filter(kind="login_failed").exclude(detail__has_key="while_locked")
    assert list(checked.values_list("door", flat=True)) == ["admin"] * 3
    assert list(events.filter(kind="locked").values_list("door", flat=True)) == ["admin"]
    # The attempts made while locked are in the log too, marked, for the doors they came through.
    assert sorted(events.filter(detail__has_key="while_locked").values_list("door", flat=True)) == ["admin", "api", "site"]


def test_admin_login_answers_429_with_retry_after_while_locked(live_server, users, policy):
    """Like the site login and the API: a locked account at the admin's door gets 429, Retry-After and the
    lock's message in the reader's language (the form is still shown)."""
    base = live_server.url
    for _ in range(3):
        ok, answer = _form_login(base, "/admin/login/", "boss", "wrong-password-1")
        assert not ok and answer.status_code == 200 and "Retry-After" not in answer.headers
    ok, answer = _form_login(base, "/admin/login/", "boss", PASSWORD)
    assert not ok and answer.status_code == 429
    assert 0 < int(answer.headers["Retry-After"]) <= 120  # the lock doubled once (60 s base)
    assert "暂时锁定" in answer.text and 'name="password"' in answer.text
    ok, answer = _form_login(base, "/admin/login/", "boss", PASSWORD, language="en")
    assert not ok and answer.status_code == 429 and "temporarily locked" in answer.text
    assert int(answer.headers["Retry-After"]) > 0
    # The site login answers the same way.
    ok, answer = _form_login(base, "/accounts/login/", "boss", PASSWORD)
    assert not ok and answer.status_code == 429 and "Retry-After" in answer.headers


def test_failures_at_different_doors_add_up(live_server, users, policy):
    base = live_server.url
    assert not _form_login(base, "/admin/login/", "clerk", "nope-nope-1")[0]
    assert _token(base, "clerk", "nope-nope-2").status_code == 401
    assert not _form_login(base, "/accounts/login/", "clerk", "nope-nope-3")[0]
    assert _token(base, "clerk", PASSWORD).status_code == 429
    # The count is in the database, where every server process reads it, not in this process's memory.
    assert Throttle.objects.filter(key__startswith="login:pair:clerk:").get().count == 4  # the refused try counts


def test_spoofed_forwarded_for_is_ignored_without_a_trusted_proxy(live_server, users, policy):
    base = live_server.url
    for i in range(3):
        assert _token(base, "clerk", "guess", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code == 401
    # Another made-up address does not buy new attempts: the address is the connection's.
    assert _token(base, "clerk", PASSWORD, headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 429
    assert set(SecurityEvent.objects.filter(kind="login_failed").values_list("address", flat=True)) == {"127.0.0.1"}


def test_behind_a_trusted_proxy_one_colleague_does_not_lock_out_the_others(live_server, users, policy):
    policy.URBANGRID_TRUSTED_PROXIES = ["127.0.0.0/8"]
    base = live_server.url
    typo = {"X-Forwarded-For": "10.1.1.5"}
    for _ in range(3):
        assert _token(base, "clerk", "typo", headers=typo).status_code == 401
    assert _token(base, "clerk", PASSWORD, headers=typo).status_code == 429
    # The same user at another desk, and everyone else behind the proxy, carry on.
    assert _token(base, "clerk", PASSWORD, headers={"X-Forwarded-For": "10.1.1.6"}).status_code == 200
    assert _form_login(base, "/accounts/login/", "boss", PASSWORD, headers=typo)[0]
    # A chain: the client is the right-most hop that is not a trusted proxy.
    assert _token(base, "boss", "x", headers={"X-Forwarded-For": "192.0.2.9, 10.9.9.9, 127.0.0.1"}).status_code == 401
    assert SecurityEvent.objects.filter(username="boss", kind="login_failed").get().address == "10.9.9.9"


def test_guessing_spread_over_addresses_locks_the_account(live_server, users, policy):
    policy.URBANGRID_TRUSTED_PROXIES = ["127.0.0.1"]
    base = live_server.url
    for i in range(8):
        assert _token(base, "clerk", f"guess-{i}", headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code == 401
    assert _token(base, "clerk", PASSWORD, headers={"X-Forwarded-For": "192.0.2.200"}).status_code == 429
    assert SecurityEvent.objects.filter(kind="locked", username="clerk").exists()


def test_one_address_trying_many_accounts_is_locked(live_server, users, policy):
    base = live_server.url
    for i in range(12):
        assert _token(base, f"user{i}", "guess").status_code == 401
    assert _token(base, "boss", PASSWORD).status_code == 429


def test_a_lock_backs_off_with_each_further_failure(live_server, users, policy):
    from urbangrid.core.ratelimit import counters

    base = live_server.url
    for _ in range(3):
        _token(base, "clerk", "guess")
    key = "login:pair:clerk:127.0.0.1"
    first = counters().ttl(key)
    assert 50 <= first <= 60
    for _ in range(2):
        assert _token(base, "clerk", "guess").status_code in (401, 429)
    assert counters().ttl(key) > 3 * first  # 60 s, then 120 s, then 240 s


def test_an_administrator_lifts_a_lock_in_the_admin(live_server, users, policy):
    base = live_server.url
    for _ in range(3):
        _form_login(base, "/accounts/login/", "clerk", "wrong")
    assert not _form_login(base, "/accounts/login/", "clerk", PASSWORD)[0]
    s = requests.Session()
    page = s.get(base + "/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    s.post(base + "/admin/login/", data={"username": "boss", "password": PASSWORD, "csrfmiddlewaretoken": token,
                                         "next": "/admin/"}, headers={"Referer": base + "/admin/login/"})
    lock = SecurityEvent.objects.get(kind="locked", username="clerk")
    listing = s.get(base + "/admin/core/securityevent/")
    assert listing.status_code == 200 and "clerk" in listing.text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', listing.text).group(1)
    done = s.post(base + "/admin/core/securityevent/", data={
        "action": "lift_lock", "_selected_action": [lock.pk], "csrfmiddlewaretoken": token},
        headers={"Referer": base + "/admin/core/securityevent/"})
    assert done.status_code == 200
    assert _form_login(base, "/accounts/login/", "clerk", PASSWORD)[0]
    assert SecurityEvent.objects.filter(kind="unlocked", username="clerk").exists()
    # The log itself cannot be edited or deleted there.
    assert s.get(base + f"/admin/core/securityevent/{lock.pk}/delete/").status_code == 403


def test_a_staff_member_without_the_permission_cannot_lift_locks(live_server, users, policy):
    from django.contrib.auth.models import Permission

    users[1].user_permissions.add(Permission.objects.get(codename="view_securityevent"))
    base = live_server.url
    s = requests.Session()
    page = s.get(base + "/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    s.post(base + "/admin/login/", data={"username": "clerk", "password": PASSWORD, "csrfmiddlewaretoken": token,
                                         "next": "/admin/"}, headers={"Referer": base + "/admin/login/"})
    listing = s.get(base + "/admin/core/securityevent/")
    assert listing.status_code == 200 and "lift_lock" not in listing.text


def test_unlock_command(users, policy, capsys):
    from django.core.management import CommandError, call_command

    from urbangrid.core import login

    for _ in range(3):
        login.record_failure("clerk", "10.0.0.1", "site")
    assert login.locked_for("clerk", "10.0.0.1")
    call_command("unlock_login", user="clerk")
    assert not login.locked_for("clerk", "10.0.0.1")
    with pytest.raises(CommandError):
        call_command("unlock_login")
    with pytest.raises(CommandError):
        call_command("unlock_login", address="not-an-ip")


def test_the_shared_store_can_be_redis(users, policy):
    import redis

    from urbangrid.core import login
    from urbangrid.core.ratelimit import counters

    # A Redis database per run: .ci/run runs the suite on SQLite and PostgreSQL side by side.
    policy.URBANGRID_REDIS_URL = f"redis://127.0.0.1:6379/{14 if suite_vendor() == 'sqlite' else 15}"
    client = redis.Redis.from_url(policy.URBANGRID_REDIS_URL)
    client.flushdb()
    try:
        for _ in range(3):
            login.record_failure("clerk", "10.0.0.2", "api")
        assert int(client.get("ug:login:pair:clerk:10.0.0.2")) == 3
        assert 0 < client.ttl("ug:login:pair:clerk:10.0.0.2") <= 60
        assert login.locked_for("clerk", "10.0.0.2") and not Throttle.objects.exists()
        assert type(counters()).__name__ == "RedisCounters"
    finally:
        client.flushdb()
