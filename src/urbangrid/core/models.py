"""Platform-wide models: API tokens for the mobile app and outside systems, the shared counters behind
login lock-outs and rate limits, and the security log."""
import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def hash_token(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


def password_stamp(user):
    """A fingerprint of the user's stored password hash: a token issued under one password is dead
    under the next, however the password was changed (form, admin, command, bulk update)."""
    return hashlib.sha256(f"token-stamp:{user.password}".encode()).hexdigest()[:16]


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored, so a database leak does not leak tokens."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("令牌前缀"), max_length=8, editable=False)
    name = models.CharField(_("名称"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    password_stamp = models.CharField(max_length=16, blank=True, editable=False)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self):
        return f"{self.user} {self.prefix}…"

    @classmethod
    def issue(cls, user, name="", ttl=None):
        """A new token; ``ttl`` None means the configured lifetime (URBANGRID_TOKEN_TTL_DAYS), a timedelta
        its own, and ``False`` none at all (only for tokens an administrator issues to a system on purpose)."""

        if ttl is None:
            days = settings.URBANGRID_TOKEN_TTL_DAYS
            ttl = timedelta(days=days) if days else False
        raw = secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, key_hash=hash_token(raw), prefix=raw[:8], name=name,
            expires_at=timezone.now() + ttl if ttl else None, password_stamp=password_stamp(user),
        )
        return token, raw

    def invalid_reason(self, now=None):
        """Why this token may not be used (a short code), or "" when it may."""
        now = now or timezone.now()
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at and self.expires_at <= now:
            return "expired"
        if not self.user.is_active:
            return "inactive"
        if self.password_stamp != password_stamp(self.user):
            return "password_changed"
        return ""

    @classmethod
    def lookup(cls, raw):
        """The valid token for a raw bearer string (not revoked or expired, its user active and on the
        password it was issued under), or None."""
        token = cls.objects.select_related("user").filter(key_hash=hash_token(raw)).first()
        if token is None or token.invalid_reason():
            return None
        return token

    @classmethod
    def authenticate(cls, raw):
        token = cls.lookup(raw)
        return None if token is None else token.user


class UserPreference(models.Model):
    """Per-user settings that follow the person across devices (the interface language)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    language = models.CharField(_("界面语言"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("用户偏好")
        verbose_name_plural = _("用户偏好")


class Throttle(models.Model):
    """One shared counter (login failures, rate-limit hits) for every server process; the store used
    when no Redis is configured. Rows past ``expires_at`` count as absent and are purged by the sweep."""

    key = models.CharField(max_length=200, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("计数器")
        verbose_name_plural = _("计数器")


class SecurityEvent(models.Model):
    """安全日志: sign-ins, failures, lock-outs, unlocks and token changes, at every door. Rows are only
    ever added (the admin shows them read-only)."""

    class Kind(models.TextChoices):
        LOGIN_OK = "login_ok", _("登录成功")
        LOGIN_FAILED = "login_failed", _("登录失败")
        LOCKED = "locked", _("登录锁定")
        UNLOCKED = "unlocked", _("解除锁定")
        TOKEN_ISSUED = "token_issued", _("签发令牌")
        TOKEN_REVOKED = "token_revoked", _("吊销令牌")

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    kind = models.CharField(_("类别"), max_length=20, choices=Kind.choices)
    door = models.CharField(_("入口"), max_length=20, blank=True)
    username = models.CharField(_("用户名"), max_length=150, blank=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("用户"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    address = models.CharField(_("客户端地址"), max_length=64, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        verbose_name = _("安全日志")
        verbose_name_plural = _("安全日志")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.get_kind_display()} {self.username}"
