"""The city's outbox toward the province (联网上报): where the stream stands (and the province's tasks fetched), the batches built (kept until
acknowledged, then for ``URBANGRID_EXCHANGE_KEEP_DAYS``), and which days' tallies were sent as computed when."""
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ExchangeState(models.Model):
    """联网上报状态 (one row): the last batch built and the last one the province acknowledged, with the
    retry state of the stream (consecutive failures, when to try next, the last error)."""

    built_sequence = models.BigIntegerField(_("已生成批次"), default=0)
    built_cursor = models.BigIntegerField(_("已生成至事件"), default=0)
    acked_sequence = models.BigIntegerField(_("已确认批次"), default=0)
    acked_cursor = models.BigIntegerField(_("已确认至事件"), default=0)
    grid_version_sent = models.BigIntegerField(_("已上报网格数据版本"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("连续失败次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("最近尝试"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("最近成功"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    # 省级交办任务 fetched downward (exchange/inbox.py): the last task id made a case, when and how the last fetch went.
    tasks_after = models.BigIntegerField(_("已接收任务至"), default=0)
    tasks_pulled_at = models.DateTimeField(_("最近获取任务"), null=True, blank=True)
    tasks_error = models.CharField(_("获取任务错误"), max_length=500, blank=True)
    # One pusher at a time: the worker's and a command's runs take turns (host:pid, until when).
    lease_owner = models.CharField(_("发送进程"), max_length=100, blank=True)
    lease_until = models.DateTimeField(_("占用至"), null=True, blank=True)

    class Meta:
        verbose_name = _("联网上报状态")
        verbose_name_plural = _("联网上报状态")

    @classmethod
    def load(cls):
        return cls.objects.get_or_create(pk=1)[0]


class OutboxBatch(models.Model):
    """上报批次: one batch as built, byte for byte (a resend is the same bytes, so the province can tell a
    resend from a different batch under the same sequence)."""

    sequence = models.BigIntegerField(_("批次序号"), unique=True)
    cursor_from = models.BigIntegerField(_("游标起"))
    cursor_to = models.BigIntegerField(_("游标止"))
    payload_version = models.PositiveSmallIntegerField(_("格式版本"))
    body = models.BinaryField(_("内容"))
    digest = models.CharField(_("SHA-256"), max_length=64)
    events = models.PositiveIntegerField(_("事件数"), default=0)
    cases = models.PositiveIntegerField(_("案件数"), default=0)
    tallies = models.PositiveIntegerField(_("日统计天数"), default=0)
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    acked_at = models.DateTimeField(_("确认时间"), null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(_("发送次数"), default=0)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("上报批次")
        verbose_name_plural = _("上报批次")
        ordering = ["sequence"]


class TallySent(models.Model):
    """A day whose tally went into a batch, as computed at ``computed_at`` (a re-tallied day is sent again)."""

    day = models.DateField(unique=True)
    computed_at = models.DateTimeField()
