"""Login with throttling: after too many failures for one username (or from one address) the login is
locked for a while, whatever the password. The same guard protects the API's token endpoint."""
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .ratelimit import client_address


def _limits():
    return (getattr(settings, "URBANGRID_LOGIN_MAX_FAILURES", 5), getattr(settings, "URBANGRID_LOGIN_LOCK_SECONDS", 900))


def _keys(username, address):
    return [f"login-fail:user:{(username or '').strip().lower()}", f"login-fail:addr:{address}"]


def locked(username, address):
    max_failures, _lock = _limits()
    user_key, addr_key = _keys(username, address)
    # An address gets more room than a username: an office behind one NAT shares an address.
    return (cache.get(user_key, 0) >= max_failures) or (cache.get(addr_key, 0) >= max_failures * 4)


def record_failure(username, address):
    _max, lock_seconds = _limits()
    for key in _keys(username, address):
        cache.add(key, 0, timeout=lock_seconds)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=lock_seconds)


def clear_failures(username, address):
    cache.delete(_keys(username, address)[0])


class ThrottledAuthenticationForm(AuthenticationForm):
    def clean(self):
        username = self.cleaned_data.get("username")
        address = client_address(self.request) if self.request else "unknown"
        if locked(username, address):
            raise ValidationError(_("登录失败次数过多，账号已暂时锁定，请 %(m)s 分钟后再试") % {"m": _limits()[1] // 60},
                                  code="locked")
        try:
            cleaned = super().clean()
        except ValidationError:
            record_failure(username, address)
            raise
        clear_failures(username, address)
        return cleaned


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True
