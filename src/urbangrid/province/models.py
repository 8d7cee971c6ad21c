"""The province node (省级平台)'s tables: its registered cities, what each has sent (batches, case summaries, daily
tallies, grid versions), the batches it refused and the tasks it assigns them (省级交办任务). Used in a province's own database ("province mode"); a
city's database has the tables and leaves them empty.

Codes, not foreign keys, name a city's grids, regions and units: the province holds none of a city's rows.
"""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .wire import REGION_COUNTS, UNIT_COUNTS


class ProvinceCity(models.Model):
    """联网城市: a city that sends this province its data, with its key and where its stream stands."""

    code = models.CharField(_("城市代码"), max_length=20, unique=True)
    name = models.CharField(_("城市名称"), max_length=100)
    # The shared HMAC key (both sides hold it: a signature is checked by recomputing it).
    key = models.CharField(_("签名密钥"), max_length=200)
    last_sequence = models.BigIntegerField(_("最后批次序号"), default=0)
    last_cursor = models.BigIntegerField(_("最后事件游标"), default=0)
    last_received_at = models.DateTimeField(_("最后接收时间"), null=True, blank=True)
    events_received = models.BigIntegerField(_("已接收事件数"), default=0)
    grid_version = models.BigIntegerField(_("网格数据版本"), null=True, blank=True)
    # Where the province map shows the city (WGS-84; the summaries carry no points): set at registration.
    lon = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("联网城市")
        verbose_name_plural = _("联网城市")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name} ({self.code})"


class ProvinceBatch(models.Model):
    """已接收批次: one applied batch of a city (its digest answers a resend of the same sequence)."""

    city = models.ForeignKey(ProvinceCity, on_delete=models.CASCADE, related_name="batches")
    sequence = models.BigIntegerField(_("批次序号"))
    cursor_from = models.BigIntegerField(_("游标起"))
    cursor_to = models.BigIntegerField(_("游标止"))
    payload_version = models.PositiveSmallIntegerField(_("格式版本"))
    digest = models.CharField(_("SHA-256"), max_length=64)
    cases = models.PositiveIntegerField(_("案件数"), default=0)
    steps = models.PositiveIntegerField(_("流转记录数"), default=0)
    tallies = models.PositiveIntegerField(_("日统计天数"), default=0)
    built_at = models.DateTimeField(_("生成时间"))
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)

    class Meta:
        verbose_name = _("已接收批次")
        verbose_name_plural = _("已接收批次")
        constraints = [models.UniqueConstraint(fields=["city", "sequence"], name="province_batch_unique_seq")]


class ProvinceCase(models.Model):
    """省级案件摘要: a city's case as its last batch described it (codes of the standard classes and of the unit
    grid, the time of each step, the state), and its steps (``steps``: [event, seq, action, from, to, at, stage,
    deadline, unit])."""

    city = models.ForeignKey(ProvinceCity, on_delete=models.CASCADE, related_name="cases")
    number = models.CharField(_("案件编号"), max_length=32)
    version = models.PositiveIntegerField(_("版本"))
    source = models.CharField(_("案件来源"), max_length=40)
    catalog_version = models.CharField(_("分类版本"), max_length=40)
    class_code = models.CharField(_("小类代码"), max_length=40)
    kind = models.CharField(_("类型"), max_length=40)
    urgency = models.CharField(_("紧急程度"), max_length=40, blank=True)
    state = models.CharField(_("状态"), max_length=40)
    archive_type = models.CharField(_("结案类型"), max_length=40, blank=True)
    satisfaction = models.CharField(_("满意度"), max_length=40, blank=True)
    unit_grid = models.CharField(_("单元网格"), max_length=32, null=True, blank=True)
    responsibility_grid = models.CharField(_("责任网格"), max_length=32, null=True, blank=True)
    community = models.CharField(_("社区"), max_length=32, null=True, blank=True)
    street = models.CharField(_("街道"), max_length=32, null=True, blank=True)
    district = models.CharField(_("区"), max_length=32, null=True, blank=True)
    current_unit = models.CharField(_("当前处置单位"), max_length=32, null=True, blank=True)
    self_handled = models.BooleanField(_("自行处置"), default=False)
    is_supervised = models.BooleanField(_("督办"), default=False)
    reported_at = models.DateTimeField(_("上报时间"))
    filed_at = models.DateTimeField(_("立案时间"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("派遣时间"), null=True, blank=True)
    fed_back_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    handle_deadline = models.DateTimeField(_("处置时限"), null=True, blank=True)
    updated_at = models.DateTimeField(_("城市更新时间"), null=True, blank=True)
    counts = models.JSONField(_("次数"), default=dict)
    steps = models.JSONField(_("流转记录"), default=list)
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)

    class Meta:
        verbose_name = _("省级案件摘要")
        verbose_name_plural = _("省级案件摘要")
        constraints = [models.UniqueConstraint(fields=["city", "number"], name="province_case_unique_number")]
        indexes = [models.Index(fields=["city", "state"], name="province_case_city_state"),
                   models.Index(fields=["city", "reported_at"], name="province_case_city_reported"),
                   # the province's evaluation counts a period's filings and closures (province/evaluation.py)
                   models.Index(fields=["city", "filed_at"], name="province_case_city_filed"),
                   models.Index(fields=["city", "closed_at"], name="province_case_city_closed"),
                   # a past period's overdue count: the summaries fed back after its end (evaluation.overdue_at)
                   models.Index(fields=["city", "fed_back_at"], name="province_case_city_fed_back"),
                   # the drill-down's district choices, stepped through code by code (pages.city_districts)
                   models.Index(fields=["city", "district"], name="province_case_city_district")]


class ProvinceTallyDay(models.Model):
    """省级日统计: a city's tally of one day as last sent (rows in ``ProvinceRegionDay`` / ``ProvinceUnitDay``)."""

    city = models.ForeignKey(ProvinceCity, on_delete=models.CASCADE, related_name="tally_days")
    day = models.DateField(_("日期"))
    computed_at = models.DateTimeField(_("城市统计时间"))
    events = models.PositiveIntegerField(_("事件数"), default=0)
    grace_minutes = models.PositiveIntegerField(_("按时判定宽限（分钟）"), default=0)
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)

    class Meta:
        verbose_name = _("省级日统计")
        verbose_name_plural = _("省级日统计")
        constraints = [models.UniqueConstraint(fields=["city", "day"], name="province_tally_unique_day")]


ProvinceRegionDay = type("ProvinceRegionDay", (models.Model,), {
    "__module__": __name__,
    "__doc__": "省级日统计·区域: a city's counts of one day for one unit grid (and its grids and regions, by code).",
    "city": models.ForeignKey(ProvinceCity, on_delete=models.CASCADE, related_name="+"),
    "day": models.DateField(),
    **{f: models.CharField(max_length=32, null=True) for f in ("unit_grid", "responsibility_grid", "community",
                                                               "street", "district")},
    "self_handled": models.BooleanField(default=False),
    **{name: models.BigIntegerField(default=0) for name in REGION_COUNTS},
    "Meta": type("Meta", (), {"indexes": [models.Index(fields=["city", "day"], name="province_regionday")]}),
})
ProvinceUnitDay = type("ProvinceUnitDay", (models.Model,), {
    "__module__": __name__,
    "__doc__": "省级日统计·单位: a city's counts of one day for one unit (by its code).",
    "city": models.ForeignKey(ProvinceCity, on_delete=models.CASCADE, related_name="+"),
    "day": models.DateField(),
    "unit": models.CharField(max_length=32),
    **{name: models.BigIntegerField(default=0) for name in UNIT_COUNTS},
    "Meta": type("Meta", (), {"indexes": [models.Index(fields=["city", "day"], name="province_unitday")]}),
})


class ProvinceGridVersion(models.Model):
    """城市网格数据版本: each grid data version a city reported, with its counts and the digest of its codes."""

    city = models.ForeignKey(ProvinceCity, on_delete=models.CASCADE, related_name="grid_versions")
    version = models.BigIntegerField(_("版本"))
    unit_grids = models.PositiveIntegerField(_("单元网格数"), default=0)
    responsibility_grids = models.PositiveIntegerField(_("责任网格数"), default=0)
    regions = models.PositiveIntegerField(_("区划数"), default=0)
    digest = models.CharField(_("编码摘要"), max_length=64)
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)

    class Meta:
        verbose_name = _("城市网格数据版本")
        verbose_name_plural = _("城市网格数据版本")
        constraints = [models.UniqueConstraint(fields=["city", "version"], name="province_grid_unique_version")]


class Rejection(models.Model):
    """拒收记录: a batch or cursor request the province refused (bad signature, unknown city, malformed, out of
    order, a sequence reused with other content), kept for the audit; nothing of it was applied."""

    city = models.ForeignKey(ProvinceCity, null=True, blank=True, on_delete=models.SET_NULL, related_name="rejections")
    city_code = models.CharField(_("城市代码"), max_length=40, blank=True)
    sequence = models.BigIntegerField(_("批次序号"), null=True, blank=True)
    reason = models.CharField(_("原因"), max_length=30, db_index=True)
    status = models.PositiveSmallIntegerField(_("HTTP 状态"))
    detail = models.TextField(_("说明"), blank=True)
    body_sha256 = models.CharField(max_length=64, blank=True)
    body_bytes = models.PositiveIntegerField(default=0)
    remote_addr = models.CharField(_("来源地址"), max_length=64, blank=True)
    received_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("拒收记录")
        verbose_name_plural = _("拒收记录")
        ordering = ["-received_at"]


class ProvinceTask(models.Model):
    """省级交办任务: a task the province assigns a city (督办 or 专项任务; 监督检查 downward). The city fetches it
    (``/province/api/v1/exchange/tasks``), makes it a case of source 上级交办 and reports the case's progress in its
    batches (the case summary's ``province_task``); ``state`` and its times follow that case."""

    class Kind(models.TextChoices):
        # A kind of task (a noun), not the case step 督办 (Supervise): its own context for the translation.
        SUPERVISION = "supervision", pgettext_lazy("province task kind", "督办")
        SPECIAL = "special", _("专项任务")

    class State(models.TextChoices):
        SENT = "sent", _("已下发")
        RECEIVED = "received", _("城市已接收")
        IN_PROGRESS = "in_progress", _("办理中")
        FED_BACK = "fed_back", _("已反馈")
        CLOSED = "closed", _("已办结")
        DECLINED = "declined", _("未立案办理")

    city = models.ForeignKey(ProvinceCity, verbose_name=_("城市"), on_delete=models.PROTECT, related_name="tasks")
    kind = models.CharField(_("任务类型"), max_length=20, choices=Kind.choices, default=Kind.SUPERVISION)
    title = models.CharField(_("标题"), max_length=100)
    description = models.TextField(_("任务内容"), max_length=4000)
    address = models.CharField(_("地点"), max_length=200, blank=True)
    lon = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    class_code = models.CharField(_("小类代码"), max_length=40, blank=True)
    unit_grid = models.CharField(_("单元网格"), max_length=32, blank=True)
    deadline = models.DateTimeField(_("办理时限"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("交办人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("交办时间"), default=timezone.now)
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.SENT, db_index=True)
    # When the city first fetched it (it may not have made the case yet), then the case's own times as reported.
    fetched_at = models.DateTimeField(_("城市获取时间"), null=True, blank=True)
    received_at = models.DateTimeField(_("城市接收时间"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("派遣时间"), null=True, blank=True)
    fed_back_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    case_number = models.CharField(_("城市案件编号"), max_length=32, blank=True)
    case_state = models.CharField(_("城市案件状态"), max_length=40, blank=True)
    case_version = models.PositiveIntegerField(_("城市案件版本"), default=0)
    updated_at = models.DateTimeField(_("最后更新"), null=True, blank=True)

    class Meta:
        verbose_name = _("省级交办任务")
        verbose_name_plural = _("省级交办任务")
        ordering = ["-pk"]
        indexes = [models.Index(fields=["city", "id"], name="province_task_city_id"),
                   models.Index(fields=["state", "deadline"], name="province_task_state_deadline")]

    def __str__(self):
        return f"{self.pk} {self.title}"

    def is_overdue(self, now=None):
        """超期: the deadline passed and the city has not closed the case."""
        return self.state != self.State.CLOSED and (now or timezone.now()) > self.deadline
