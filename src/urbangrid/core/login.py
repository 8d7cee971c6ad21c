"""One login policy for every door: the site's login page, the admin's, and the API's token endpoint.

Failures are counted in the shared store (core/ratelimit.py: the database, or Redis when configured), so
every server process sees the same counts, under three keys:

- the account *from one address*: URBANGRID_LOGIN_MAX_FAILURES (5) failures lock that pair;
- the account from anywhere: URBANGRID_LOGIN_ACCOUNT_MAX_FAILURES (20) lock the account, so guessing spread
  over many addresses stops too, while one mistyping colleague cannot lock a user out for everybody;
- the address whatever the account: URBANGRID_LOGIN_ADDRESS_MAX_FAILURES (50), enough for an office behind
  one NAT, few enough to stop one machine trying many accounts.

A lock lasts URBANGRID_LOGIN_LOCK_SECONDS (900) and doubles with each further attempt while locked
(backoff; the password is not even checked then), up to a day. Every failure, lock, success and unlock is written to the security log
(``SecurityEvent``); an administrator lifts a lock in the admin (安全日志 › 解除锁定) or with
``urbangrid unlock-login``.
"""
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import SecurityEvent
from .ratelimit import client_address, counters

MAX_LOCK_SECONDS = 24 * 3600


def _norm(username):
    return (username or "").strip().lower()[:150]


def _keys(username, address):
    """(key, limit) per counter; a limit of 0 turns that counter off."""
    user = _norm(username)
    base = settings.URBANGRID_LOGIN_MAX_FAILURES
    return [
        (f"login:pair:{user}:{address}", base),
        (f"login:user:{user}", settings.URBANGRID_LOGIN_ACCOUNT_MAX_FAILURES),
        (f"login:addr:{address}", settings.URBANGRID_LOGIN_ADDRESS_MAX_FAILURES),
    ]


def _lock_seconds(count, limit):
    base = settings.URBANGRID_LOGIN_LOCK_SECONDS
    return min(MAX_LOCK_SECONDS, base * 2 ** max(0, count - limit))


def locked_for(username, address):
    """Seconds until this account may try again from this address (0: not locked)."""
    store = counters()
    return max([store.ttl(key) for key, limit in _keys(username, address) if limit and store.get(key) >= limit] or [0])


def _log(kind, username, address, door, user=None, **detail):
    SecurityEvent.objects.create(kind=kind, username=_norm(username), address=address[:64], door=door,
                                 user=user, detail=detail)


def record_failure(username, address, door, while_locked=False):
    """Count a failed attempt under every key. An attempt while locked (its password not even checked)
    counts too: hammering a locked account keeps doubling its lock."""
    store = counters()
    newly_locked = []
    for key, limit in _keys(username, address):
        if not limit:
            continue
        count = store.incr(key, _lock_seconds(0, limit))
        if count >= limit:
            store.expire(key, _lock_seconds(count, limit))  # each failure while locked doubles the wait
            if count == limit:
                newly_locked.append(key.split(":")[1])
    _log("login_failed", username, address, door, **({"while_locked": True} if while_locked else {}))
    if newly_locked:
        _log("locked", username, address, door, scope=newly_locked)


def record_success(user, address, door):
    # A success clears this account's counter from this address only: the account-wide and address-wide
    # counts stand, or an attacker could reset them by logging into an account of his own.
    counters().delete(_keys(user.get_username(), address)[0][0])
    _log("login_ok", user.get_username(), address, door, user=user)


def unlock(username="", address="", by=None):
    """Lift the locks on an account (from every address it was locked from) and/or an address."""

    store = counters()
    keys = set()
    if username:
        keys.add(f"login:user:{_norm(username)}")
        seen = SecurityEvent.objects.filter(username=_norm(username)).values_list("address", flat=True).distinct()
        keys.update(f"login:pair:{_norm(username)}:{a}" for a in seen)
    if address:
        keys.add(f"login:addr:{address}")
        if username:
            keys.add(f"login:pair:{_norm(username)}:{address}")
    for key in keys:
        store.delete(key)
    _log("unlocked", username, address or "", "admin", user=None, by=getattr(by, "username", "") or "")


def lock_message(seconds):
    minutes = max(1, (seconds + 59) // 60)
    return _("登录失败次数过多，账号已暂时锁定，请 %(m)s 分钟后再试") % {"m": minutes}


def attempt(request, username, password, door):
    """Authenticate under the policy: (user, None) or (None, error code "locked" | "invalid")."""

    address = client_address(request)
    if locked_for(username, address):
        record_failure(username, address, door, while_locked=True)
        return None, "locked"
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        record_failure(username, address, door)
        return None, "invalid"
    record_success(user, address, door)
    return user, None


class PolicyFormMixin:
    """AuthenticationForm.clean under the login policy."""

    door = "site"

    def clean(self):
        username = self.cleaned_data.get("username")
        address = client_address(self.request) if self.request else "unknown"
        if locked_for(username, address):
            record_failure(username, address, self.door, while_locked=True)
            raise ValidationError(lock_message(locked_for(username, address)), code="locked")
        try:
            cleaned = super().clean()
        except ValidationError:
            record_failure(username, address, self.door)
            raise
        record_success(self.get_user(), address, self.door)
        return cleaned


class ThrottledAuthenticationForm(PolicyFormMixin, AuthenticationForm):
    door = "site"


class ThrottledAdminAuthenticationForm(PolicyFormMixin, AdminAuthenticationForm):
    door = "admin"


class LoginView(auth_views.LoginView):
    """The site's login page; while the account is locked it answers 429 (with Retry-After), still showing
    the form and the lock's message, so the user reads how long to wait and can try again from the same page."""

    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        return _answer_lock(self.request, form, super().form_invalid(form))


def _answer_lock(request, form, response):
    """A form refused because the account is locked: 429 with Retry-After (the page still shows the form and
    the lock's message)."""
    if form is not None and form.is_bound and form.has_error("__all__", code="locked"):
        response.status_code = 429
        seconds = locked_for(form.data.get("username"), client_address(request))
        if seconds:
            response["Retry-After"] = str(seconds)
    return response


def throttled_admin_login(site):
    """Wrap ``site.login`` (Django's admin builds its own LoginView) so that a locked account gets the same
    429 and Retry-After as at the site's login page and the API."""
    login = site.login

    def admin_login(request, extra_context=None):
        response = login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        return _answer_lock(request, form, response)

    return admin_login
