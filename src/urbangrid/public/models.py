"""Open311 GeoReport v2: API keys of outside systems, the requests they created, and the updates they fed back."""
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Open311Key(models.Model):
    """An outside system's API key. Only a SHA-256 digest of the key is stored; the key is shown once."""

    key_hash = models.CharField(_("密钥摘要"), max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(_("密钥前缀"), max_length=12, editable=False, help_text=_("用于辨认，不足以调用接口"))
    owner = models.CharField(_("使用方"), max_length=100)
    contact = models.CharField(_("联系方式"), max_length=200, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    can_post_updates = models.BooleanField(
        _("可反馈处置结果"), default=False,
        help_text=_("允许通过 servicerequestupdates 为下方单位正在处置的案件提交处置反馈"))
    unit = models.ForeignKey("org.Unit", verbose_name=_("对应处置单位"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="open311_keys")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True,
                                        help_text=_("至多每 5 分钟更新一次"))
    posts_per_hour = models.PositiveIntegerField(
        _("每小时提交上限"), null=True, blank=True,
        help_text=_("此密钥每小时最多可提交的 POST 次数；留空则使用系统默认值"))

    class Meta:
        verbose_name = _("Open311 接口密钥")
        verbose_name_plural = _("Open311 接口密钥")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.owner} ({self.key_prefix}…)"


class Open311Request(models.Model):
    """A case created through POST requests: which key sent it and what the client gave that we keep."""

    case = models.OneToOneField("cases.Case", verbose_name=_("案件"), on_delete=models.PROTECT, related_name="open311_request")
    key = models.ForeignKey(Open311Key, verbose_name=_("接口密钥"), on_delete=models.PROTECT, related_name="requests")
    service_code = models.CharField(max_length=80)
    media_url = models.URLField(max_length=500, blank=True)
    account_id = models.CharField(max_length=80, blank=True)
    device_id = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Open311 上报")
        verbose_name_plural = _("Open311 上报")


class Open311Update(models.Model):
    """An update an outside system posted (servicerequestupdates); update_id is unique per key."""

    key = models.ForeignKey(Open311Key, verbose_name=_("接口密钥"), on_delete=models.PROTECT, related_name="updates")
    update_id = models.CharField(max_length=100)
    case = models.ForeignKey("cases.Case", verbose_name=_("案件"), on_delete=models.PROTECT, related_name="open311_updates")
    status = models.CharField(max_length=40)
    description = models.TextField(blank=True)
    updated_datetime = models.DateTimeField(null=True, blank=True)
    event = models.ForeignKey("cases.CaseEvent", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Open311 处置反馈")
        verbose_name_plural = _("Open311 处置反馈")
        constraints = [models.UniqueConstraint(fields=["key", "update_id"], name="unique_open311_update_per_key")]
