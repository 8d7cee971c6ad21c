"""Cases (案件/案卷), their append-only event log (案件流转记录) and photos."""
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .states import OPEN, ArchiveType, PhotoKind, Satisfaction, Source, Stage, State, Urgency


class CaseNumberSequence(models.Model):
    """Per-year counter behind human-readable case numbers; its row is locked while a number is taken."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("案件编号序列")
        verbose_name_plural = _("案件编号序列")


def new_tracking_code():
    # Public tracking code: unguessable, short enough to read over the phone.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))


class Case(models.Model):
    """案件: one problem found in a grid, from report to closure and evaluation."""

    number = models.CharField(_("案件编号"), max_length=16, unique=True)
    tracking_code = models.CharField(_("查询码"), max_length=12, unique=True, default=new_tracking_code)
    source = models.CharField(_("案件来源"), max_length=20, choices=Source.choices, db_index=True)
    catalog_class = models.ForeignKey("catalog.CatalogClass", verbose_name=_("小类"), on_delete=models.PROTECT, related_name="cases")
    # Kept as filed, so the case counts under the version it was filed with even if the class is edited.
    class_code = models.CharField(_("小类代码"), max_length=5)
    catalog_version = models.CharField(_("分类版本"), max_length=40)
    kind = models.CharField(_("类型"), max_length=10)
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    description = models.TextField(_("问题描述"), max_length=4000)
    # No point, grid or community yet while the case is 待定位 (an address the gazetteer could not place).
    lon = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    address = models.CharField(_("地址"), max_length=256, blank=True)
    unit_grid = models.ForeignKey("grids.UnitGrid", verbose_name=_("单元网格"), null=True, on_delete=models.PROTECT,
                                  related_name="cases")
    responsibility_grid = models.ForeignKey("grids.ResponsibilityGrid", verbose_name=_("责任网格"), null=True, on_delete=models.PROTECT,
                                            related_name="cases")
    community = models.ForeignKey("grids.Region", verbose_name=_("社区"), null=True, on_delete=models.PROTECT, related_name="+")
    street = models.ForeignKey("grids.Region", verbose_name=_("街道"), null=True, on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey("grids.Region", verbose_name=_("区"), null=True, on_delete=models.PROTECT, related_name="+")
    road_segment = models.ForeignKey("grids.RoadSegment", verbose_name=_("路段"), null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="cases")
    component_identifier = models.CharField(_("部件标识码"), max_length=17, blank=True)
    reporter_user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("上报账号"), null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")
    reporter = models.ForeignKey("org.Person", verbose_name=_("上报人"), null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="reported_cases")
    reporter_name = models.CharField(_("举报人"), max_length=50, blank=True)
    reporter_contact = models.CharField(_("举报人联系方式"), max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=120, null=True, blank=True, unique=True, editable=False)
    # A hotline work order's own number (工单号), e.g. "12345:GD2026112700123": re-sent orders are recognised.
    external_ref = models.CharField(_("外部工单号"), max_length=80, null=True, blank=True, unique=True)
    # 上级时限: the deadline of the body that assigned the case (a province task), beside the loop's own clocks.
    due_at = models.DateTimeField(_("上级时限"), null=True, blank=True)
    recurrence_of = models.ForeignKey("self", verbose_name=_("反复问题（前案）"), null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="recurrences")

    state = models.CharField(_("状态"), max_length=30, choices=State.choices, default=State.REPORTED, db_index=True)
    version = models.PositiveIntegerField(_("版本"), default=0, help_text=_("每次流转加一，用于并发冲突检测"))
    current_unit = models.ForeignKey("org.Unit", verbose_name=_("当前处置单位"), null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="current_cases")
    current_person = models.ForeignKey("org.Person", verbose_name=_("当前处理人"), null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="current_cases")
    district_centre = models.ForeignKey("grids.Region", verbose_name=_("二级派遣区"), null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")
    rule = models.ForeignKey("catalog.ResponsibilityRule", verbose_name=_("责任清单规则"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="cases")
    handle_limit_value = models.DecimalField(_("处置时限"), max_digits=8, decimal_places=2, null=True, blank=True)
    handle_limit_unit = models.CharField(_("处置时限单位"), max_length=20, blank=True)

    # The clock the case is on now (one step at a time; 处置 keeps running through return/extension requests).
    stage = models.CharField(_("当前环节"), max_length=20, choices=Stage.choices, blank=True)
    stage_started_at = models.DateTimeField(_("环节开始"), null=True, blank=True)
    stage_deadline = models.DateTimeField(_("环节时限"), null=True, blank=True, db_index=True)
    stage_budget_seconds = models.FloatField(default=0, editable=False)
    # When the light turns yellow, precomputed so lists can filter by light in SQL.
    stage_yellow_at = models.DateTimeField(_("黄灯时间"), null=True, blank=True)
    stage_paused_at = models.DateTimeField(_("暂停于"), null=True, blank=True)
    handle_deadline = models.DateTimeField(_("处置时限"), null=True, blank=True)
    handle_first_deadline = models.DateTimeField(_("首次处置时限"), null=True, blank=True)

    created_at = models.DateTimeField(_("上报时间"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    filed_at = models.DateTimeField(_("立案时间"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("派遣时间"), null=True, blank=True)
    fed_back_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True, db_index=True)
    archive_type = models.CharField(_("结案类型"), max_length=10, choices=ArchiveType.choices, blank=True)

    is_overdue = models.BooleanField(_("超期"), default=False, db_index=True)
    handle_overdue = models.BooleanField(_("处置超期"), default=False)
    needs_verification = models.BooleanField(_("需核实"), default=False)
    self_handled = models.BooleanField(_("自行处置"), default=False)
    is_supervised = models.BooleanField(_("督办"), default=False)
    duplicate_of = models.ForeignKey("self", verbose_name=_("合并到"), null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="duplicates")
    rework_count = models.PositiveIntegerField(_("返工次数"), default=0)
    return_count = models.PositiveIntegerField(_("回退次数"), default=0)
    extension_count = models.PositiveIntegerField(_("延期次数"), default=0)
    suspension_count = models.PositiveIntegerField(_("挂账次数"), default=0)
    supervision_count = models.PositiveIntegerField(_("督办次数"), default=0)
    reopen_count = models.PositiveIntegerField(_("重新派遣次数"), default=0)
    satisfaction = models.CharField(_("满意度"), max_length=15, choices=Satisfaction.choices, blank=True)
    # 不满意件的处理: the centre re-dispatched it (reopen) or kept the closure with a reason (keep_closed);
    # either way it leaves the intake to-do.
    kept_closed = models.BooleanField(_("不满意维持结案"), default=False)
    chain_hash = models.CharField(_("流转记录链哈希"), max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("案件")
        verbose_name_plural = _("案件")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "stage_deadline"], name="case_state_deadline"),
            models.Index(fields=["stage_deadline", "stage_yellow_at"], name="case_light"),
            models.Index(fields=["current_unit", "state"], name="case_unit_state"),
            models.Index(fields=["responsibility_grid", "state"], name="case_grid_state"),
            models.Index(fields=["district_centre", "state"], name="case_district_state"),
            models.Index(fields=["catalog_class", "lat", "lon"], name="case_class_place"),
            # a component's history of cases (places/components.py: cases_of); most cases name none
            models.Index(fields=["component_identifier"], name="case_component",
                         condition=~models.Q(component_identifier="")),
        ]

    def __str__(self):
        return self.number

    @property
    def is_open(self):
        return self.state in OPEN

    def due_overdue(self, now=None):
        """超期 against the assigning body's deadline (``due_at``): it passed and the case is still open (the
        province flags its task the same way)."""
        return self.due_at is not None and self.state in OPEN and (now or timezone.now()) > self.due_at


class CaseUnit(models.Model):
    """Every unit a case has been dispatched to: a unit keeps seeing its past cases."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="unit_links")
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="case_links")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "unit"], name="unique_case_unit")]


class EventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("case events are append-only")

    def delete(self):
        raise PermissionError("case events are append-only")

    def bulk_update(self, *args, **kwargs):
        raise PermissionError("case events are append-only")


class CaseEvent(models.Model):
    """案件流转记录: one per transition, never updated or deleted (also enforced by database triggers)."""

    case = models.ForeignKey(Case, verbose_name=_("案件"), on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField(_("序号"))
    action = models.CharField(_("操作"), max_length=30, db_index=True)
    from_state = models.CharField(_("原状态"), max_length=30, blank=True)
    to_state = models.CharField(_("新状态"), max_length=30)
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("操作账号"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    actor_person = models.ForeignKey("org.Person", verbose_name=_("操作人"), null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="case_events")
    role = models.CharField(_("角色"), max_length=30, blank=True)
    unit = models.ForeignKey("org.Unit", verbose_name=_("相关单位"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(_("意见/说明"), blank=True)
    reason_code = models.CharField(_("原因代码"), max_length=40, blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)  # inputs, stopped clocks with on-time, counts
    deadline = models.DateTimeField(_("时限快照"), null=True, blank=True)
    stage = models.CharField(_("环节"), max_length=20, blank=True)
    public = models.BooleanField(_("公开"), default=True, help_text=_("是否出现在公众可见的时间线中"))
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    hash = models.CharField(max_length=64, blank=True, editable=False)

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = _("案件流转记录")
        verbose_name_plural = _("案件流转记录")
        ordering = ["case_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="unique_case_event_seq")]
        indexes = [models.Index(fields=["action", "at"], name="caseevent_action_at"),
                   # overdue handling clocks of a period: found by deadline, not by scanning the lookback window
                   models.Index(fields=["deadline"], condition=models.Q(stage="handle"), name="caseevent_handle_deadline")]

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise PermissionError("case events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("case events are append-only")


def photo_path(instance, filename):
    now = timezone.now()
    return f"cases/{now:%Y/%m}/{secrets.token_hex(12)}.jpg"


class CasePhoto(models.Model):
    """照片: before (上报), verify, after (处置), check (核查); stored re-encoded as JPEG without EXIF."""

    case = models.ForeignKey(Case, verbose_name=_("案件"), on_delete=models.PROTECT, related_name="photos")
    event = models.ForeignKey(CaseEvent, verbose_name=_("流转记录"), null=True, blank=True, on_delete=models.PROTECT, related_name="photos")
    kind = models.CharField(_("类型"), max_length=10, choices=PhotoKind.choices)
    image = models.FileField(_("图片"), upload_to=photo_path)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("案件照片")
        verbose_name_plural = _("案件照片")


class Notification(models.Model):
    """通知 outbox: written in the transaction that causes it, delivered later by the task engine."""

    class Kind(models.TextChoices):
        DISPATCHED = "dispatched", _("新派遣")
        APPROACHING = "approaching", _("即将超期")
        OVERDUE = "overdue", _("已超期")
        RETURNED = "returned", _("回退")
        REWORK = "rework", _("返工")
        SUPERVISED = "supervised", _("督办")
        CLOSED = "closed", _("结案")

    case = models.ForeignKey(Case, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    unit = models.ForeignKey("org.Unit", verbose_name=_("接收单位"), null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(_("接收岗位"), max_length=30, blank=True)
    text = models.CharField(_("内容"), max_length=500)
    dedupe_key = models.CharField(max_length=200, unique=True, editable=False)
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at"]


class Delivery(models.Model):
    """One notification through one channel: sent once, retried with backoff until it is."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("渠道"), max_length=40)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), default=timezone.now, db_index=True)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    # The trace of a dead delivery put back in the queue by hand (cases/outbox.py): who, when, how often.
    requeues = models.PositiveSmallIntegerField(_("重新投递次数"), default=0)
    requeued_at = models.DateTimeField(_("重新投递时间"), null=True, blank=True)
    requeued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("重新投递人"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("通知投递")
        verbose_name_plural = _("通知投递")
        constraints = [models.UniqueConstraint(fields=["notification", "channel"], name="unique_delivery")]
