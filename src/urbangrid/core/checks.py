"""Deploy checks of our own (`urbangrid check --deploy`) and the guard that keeps a production server
from starting on the secret key printed in our source."""
import ipaddress

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from .tenancy import cities


def uses_builtin_key():
    return settings.SECRET_KEY == settings.BUILTIN_SECRET_KEY


@register(Tags.security, deploy=True)
def secret_key_check(app_configs, **kwargs):
    if uses_builtin_key():
        return [Error(_("SECRET_KEY 是源代码中的内置开发密钥"),
                      hint=_("设置环境变量 URBANGRID_SECRET_KEY 为至少 50 个随机字符"), id="urbangrid.E001")]
    return []


@register(Tags.security, deploy=True)
def trusted_proxies_check(app_configs, **kwargs):
    errors = []
    for item in settings.URBANGRID_TRUSTED_PROXIES:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            errors.append(Error(_("URBANGRID_TRUSTED_PROXIES 中的 %(v)s 不是地址或网段") % {"v": item}, id="urbangrid.E002"))
    return errors


@register(Tags.security, deploy=True)
def bench_views_check(app_configs, **kwargs):
    if settings.URBANGRID_BENCH:
        return [Error(_("URBANGRID_BENCH 已开启：基准测试的对照视图（/bench/…）已挂载"),
                      hint=_("生产环境中不要设置 URBANGRID_BENCH"), id="urbangrid.E003")]
    return []


def refuse_builtin_key():
    """Called where a production server starts (wsgi.py, `urbangrid serve`)."""
    if uses_builtin_key() and not (settings.DEBUG or settings.URBANGRID_DEMO):
        raise ImproperlyConfigured(
            "URBANGRID_SECRET_KEY is not set and the built-in development key would sign sessions and password "
            "resets: set URBANGRID_SECRET_KEY (50+ random characters), or URBANGRID_DEMO=1 for a demo.")


@register()
def city_registry_check(app_configs, **kwargs):
    """A city registry that does not parse is reported at start (`check`, `serve`, `migrate`), not at the first request."""
    try:
        cities()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), hint=_("城市登记文件的格式见 README 的 Several cities 一节"), id="urbangrid.E004")]
    return []
