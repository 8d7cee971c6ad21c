"""综合评价 configuration: one editable scheme with the weights, score bands, grade bands and readings of
docs/standards.md, "Evaluation indicators" (CJ/T 292 / GB/T 30428.4). The numbers live here, not in code.

Band tables are lists of rows checked in order; the first row that matches gives the score:
``{"max": 50, "score": 100}`` matches value ≤ 50, ``{"below": 3, "score": 90}`` matches value < 3 and
``{"score": 0}`` matches anything (the last row).
"""
import copy
import secrets
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

GRADE_BANDS = [
    {"grade": "A", "min": 90, "color": "green", "label": "绿色"},
    {"grade": "B", "min": 75, "color": "blue", "label": "蓝色"},
    {"grade": "C", "min": 60, "color": "yellow", "label": "黄色"},
    {"grade": "D", "min": 40, "color": "red", "label": "红色"},
    {"grade": "E", "min": 0, "color": "black", "label": "黑色"},
]
UNIT_FILED_BANDS = [{"max": 50, "score": 100}, {"max": 100, "score": 90}, {"max": 200, "score": 75},
                    {"max": 500, "score": 60}, {"max": 1000, "score": 40}, {"score": 0}]
COUNT_BANDS = [{"max": 100, "score": 0}, {"max": 300, "score": 40}, {"max": 500, "score": 60},
               {"max": 1200, "score": 75}, {"max": 2000, "score": 90}, {"score": 100}]
REGION_CLASS_BANDS = {
    "1": [{"max": 0, "score": 100}, {"below": 3, "score": 90}, {"below": 5, "score": 75}, {"below": 7, "score": 60},
          {"below": 9, "score": 40}, {"score": 0}],
    "2": [{"max": 0, "score": 100}, {"below": 4, "score": 90}, {"below": 6, "score": 75}, {"below": 8, "score": 60},
          {"below": 10, "score": 40}, {"score": 0}],
}
# How far back the evaluation looks for a 处置 deadline that is still overdue (docs/standards.md, 超期未处置).
DEFAULT_LOOKBACK_DAYS = 365
UNIT_WEIGHTS = {"filed": 10, "close_rate": 30, "ontime_handle_rate": 30, "rework_rate": 30}
# The weights published with the standard (10/20/30/10) sum to 70; 40 for 按期结案率 closes the sum
# (docs/standards.md, Evaluation indicators, 区域评价).
REGION_WEIGHTS = {"report_rate": 10, "filed": 20, "close_rate": 30, "ontime_close_rate": 40}
POSITION_WEIGHTS = {
    "inspector": {"valid_report_rate": 40, "missed_rate": 20, "ontime_verify_rate": 20, "ontime_check_rate": 20},
    "intake_operator": {"accepted": 25, "ontime_send_verify_rate": 40, "ontime_send_check_rate": 35},
    "shift_lead": {"ontime_file_rate": 25, "accurate_file_rate": 40, "ontime_close_rate": 35},
    "dispatcher": {"dispatched": 20, "ontime_dispatch_rate": 40, "accurate_dispatch_rate": 40},
}


def _copy(value):
    return copy.deepcopy(value)


def default_grade_bands():
    return _copy(GRADE_BANDS)


def default_unit_weights():
    return _copy(UNIT_WEIGHTS)


def default_unit_filed_bands():
    return _copy(UNIT_FILED_BANDS)


def default_count_bands():
    return _copy(COUNT_BANDS)


def default_position_weights():
    return _copy(POSITION_WEIGHTS)


def default_region_weights():
    return _copy(REGION_WEIGHTS)


def default_region_class_bands():
    return _copy(REGION_CLASS_BANDS)


class EvaluationScheme(models.Model):
    """评价方案: weights, score bands, region classes, grade bands and on-time rules."""

    name = models.CharField(_("方案名称"), max_length=100)
    active = models.BooleanField(_("当前使用"), default=True,
                                 help_text=_("评价使用启用的方案中编号最大的一个"))
    grade_bands = models.JSONField(_("等级划分"), default=default_grade_bands,
                                   help_text=_("按分数从高到低：等级、最低分、颜色"))
    unit_weights = models.JSONField(_("部门评价权重（%）"), default=default_unit_weights)
    unit_filed_bands = models.JSONField(_("部门立案数分值表"), default=default_unit_filed_bands)
    accept_bands = models.JSONField(_("受理数分值表"), default=default_count_bands)
    dispatch_bands = models.JSONField(_("派遣数分值表"), default=default_count_bands)
    position_weights = models.JSONField(_("岗位评价权重（%）"), default=default_position_weights)
    region_weights = models.JSONField(_("区域评价权重（%）"), default=default_region_weights)
    region_class_bands = models.JSONField(_("区域立案数分值表（一类/二类）"), default=default_region_class_bands,
                                          help_text=_("按单元网格平均立案数计分；键 1 为一类区域，2 为二类区域"))
    class_two_regions = models.JSONField(_("二类区域"), default=list, blank=True,
                                         help_text=_("区划代码或单元网格代码列表；其下的区域按二类计分，其余按一类"))
    zero_denominator_score = models.DecimalField(
        _("分母为零时的分值"), max_digits=5, decimal_places=2, default=100,
        help_text=_("比率的分母为零（无应办事项）时比率记为空，分值取此值"))
    ontime_grace_minutes = models.PositiveIntegerField(
        _("按时判定宽限（分钟）"), default=0, help_text=_("环节完成时间不晚于时限加宽限即视为按时"))
    deadline_lookback_days = models.PositiveIntegerField(
        _("超期未处置回溯天数"), default=DEFAULT_LOOKBACK_DAYS,
        help_text=_("超期未处置的案件在其超期的每个统计期都计入；只在期初前这么多天内派遣或调整时限的处置时限中查找"
                    "（限定统计的查询量；更早设定时限、至今仍超期的案件不再计入）"))
    self_handled_in_regions = models.BooleanField(
        _("自行处置计入区域立案与结案"), default=False,
        help_text=_("不勾选（默认）：自行处置的案件不计入区域评价的立案数、结案数、应结案数和按期结案数，另列自行处置结案数；"
                    "勾选：其受理计为立案，其结案计为结案"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("评价方案")
        verbose_name_plural = _("评价方案")
        ordering = ["-active", "-pk"]

    def __str__(self):
        return self.name

    @classmethod
    def current(cls):
        scheme = cls.objects.filter(active=True).order_by("-pk").first()
        return scheme or cls(name="default")

    def clean(self):
        errors = {}
        for name in ("unit_filed_bands", "accept_bands", "dispatch_bands"):
            if msg := band_table_error(getattr(self, name)):
                errors[name] = msg
        if not isinstance(self.region_class_bands, dict) or not self.region_class_bands:
            errors["region_class_bands"] = _("应为 {\"1\": [...], \"2\": [...]}")
        else:
            for key, table in self.region_class_bands.items():
                if msg := band_table_error(table):
                    errors["region_class_bands"] = f"{key}: {msg}"
        bands = self.grade_bands
        if not isinstance(bands, list) or not bands or not all(isinstance(b, dict) and "grade" in b and "min" in b for b in bands):
            errors["grade_bands"] = _("每一行应包含 grade 与 min")
        for name, keys in (("unit_weights", UNIT_WEIGHTS), ("region_weights", REGION_WEIGHTS)):
            if msg := weights_error(getattr(self, name), keys):
                errors[name] = msg
        pw = self.position_weights
        if not isinstance(pw, dict):
            errors["position_weights"] = _("格式错误")
        else:
            for role, keys in POSITION_WEIGHTS.items():
                if msg := weights_error(pw.get(role), keys):
                    errors["position_weights"] = f"{role}: {msg}"
        if not isinstance(self.class_two_regions, list):
            errors["class_two_regions"] = _("应为代码列表")
        if errors:
            raise ValidationError(errors)


def band_table_error(table):
    if not isinstance(table, list) or not table:
        return _("应为非空列表")
    for row in table:
        if not isinstance(row, dict) or "score" not in row:
            return _("每一行应包含 score，以及 max（不大于）或 below（小于）")
    if "max" in table[-1] or "below" in table[-1]:
        return _("最后一行应只有 score（其余情况）")
    return None


def weights_error(weights, keys):
    if not isinstance(weights, dict) or set(weights) != set(keys):
        return _("应包含且仅包含：%(k)s") % {"k": "、".join(keys)}
    try:
        total = sum(float(v) for v in weights.values())
    except (TypeError, ValueError):
        return _("权重应为数字")
    if abs(total - 100) > 1e-6:
        return _("权重之和应为 100（现为 %(t)s）") % {"t": total}
    return None


# --- 倒扣分: the deduction standard, deductions and appeals ---------------------------------------

class SixFixed(models.TextChoices):
    """六定: the part of a grid's management a check belongs to."""

    SCOPE = "scope", _("定范围")
    PEOPLE = "people", _("定人员")
    CONTENT = "content", _("定内容")
    STANDARDS = "standards", _("定标准")
    RESPONSIBILITY = "responsibility", _("定责任")
    PATROL = "patrol", _("定巡查")


class TargetType(models.TextChoices):
    """Who a deduction is counted against (考核对象)."""

    GRID = "grid", _("责任网格")
    SEGMENT = "segment", _("路段")
    UNIT = "unit", _("责任单位")
    PARTY = "party", _("党组织")
    PERSON = "person", _("人员")


class CountPeriod(models.TextChoices):
    DAY = "day", _("日")
    WEEK = "week", _("周")
    MONTH = "month", _("月")
    QUARTER = "quarter", _("季")
    YEAR = "year", _("年")


def all_target_types():
    return list(TargetType.values)


class DeductionPolicy(models.Model):
    """倒扣分规则: the numbers of the appeal procedure and the starting score (one active row is used)."""

    name = models.CharField(_("规则名称"), max_length=100)
    active = models.BooleanField(_("当前使用"), default=True)
    base_score = models.DecimalField(_("期初分"), max_digits=6, decimal_places=2, default=100,
                                     help_text=_("每个考核对象每个考核期的起始分"))
    appeal_days = models.PositiveSmallIntegerField(_("申诉期限（天）"), default=3,
                                                   help_text=_("自记录扣分起，被考核方可在这么多天内申诉"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("倒扣分规则")
        verbose_name_plural = _("倒扣分规则")
        ordering = ["-active", "-pk"]

    def __str__(self):
        return self.name

    @classmethod
    def current(cls):
        return cls.objects.filter(active=True).order_by("-pk").first() or cls(name="default")


class InspectionItem(models.Model):
    """检查项目 (扣分标准): what an assessor checks, which 六定 part it belongs to and how many points it costs."""

    code = models.CharField(_("项目编号"), max_length=20, unique=True)
    name = models.CharField(_("检查内容"), max_length=100)
    standard = models.TextField(_("扣分标准"), blank=True, help_text=_("何种情形扣分，如“饭店提前店外经营，1处扣0.1分”"))
    aspect = models.CharField(_("所属六定"), max_length=20, choices=SixFixed.choices, default=SixFixed.CONTENT)
    catalog_class = models.ForeignKey("catalog.CatalogClass", verbose_name=_("对应案件小类"), null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="inspection_items",
                                      help_text=_("扣分同时立案时使用的问题类别"))
    default_points = models.DecimalField(_("默认扣分"), max_digits=5, decimal_places=2)
    max_points = models.DecimalField(_("单次最高扣分"), max_digits=5, decimal_places=2,
                                     help_text=_("考核员可调整扣分，但不超过此值"))
    max_times = models.PositiveIntegerField(_("每期最多扣分次数"), null=True, blank=True,
                                            help_text=_("同一考核对象每个计次周期内的上限；留空不限"))
    count_period = models.CharField(_("计次周期"), max_length=10, choices=CountPeriod.choices, default=CountPeriod.MONTH)
    target_types = models.JSONField(_("适用考核对象"), default=all_target_types,
                                    help_text=_("grid、segment、unit、party、person 中的若干项"))
    earn_back = models.BooleanField(_("可整改返还"), default=False,
                                    help_text=_("关联案件按期结案时返还部分扣分"))
    earn_back_ratio = models.DecimalField(_("返还比例"), max_digits=4, decimal_places=3, default=0.5,
                                          help_text=_("0–1，按扣分的比例返还"))
    earn_back_points = models.DecimalField(_("返还分值"), max_digits=5, decimal_places=2, null=True, blank=True,
                                           help_text=_("填写则按固定分值返还（不超过扣分），优先于比例"))
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("检查项目")
        verbose_name_plural = _("检查项目（扣分标准）")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    def clean(self):
        errors = item_errors(self)
        if errors:
            raise ValidationError(errors)

    def earn_back_for(self, points):
        """How many of ``points`` come back when the problem is fixed on time (0 if not allowed)."""

        if not self.earn_back:
            return Decimal("0")
        if self.earn_back_points is not None:
            return min(Decimal(self.earn_back_points), Decimal(points))
        return (Decimal(points) * Decimal(self.earn_back_ratio)).quantize(Decimal("0.01"))


class Deduction(models.Model):
    """倒扣分: one problem an assessor found, with the points it costs a target, and its appeal."""

    class State(models.TextChoices):
        RECORDED = "recorded", _("已记录")
        APPEALED = "appealed", _("申诉中")
        UPHELD = "upheld", _("维持扣分")
        CANCELLED = "cancelled", _("撤销扣分")

    state = models.CharField(_("状态"), max_length=12, choices=State.choices, default=State.RECORDED, db_index=True)
    item = models.ForeignKey(InspectionItem, verbose_name=_("检查项目"), on_delete=models.PROTECT, related_name="deductions")
    points = models.DecimalField(_("扣分"), max_digits=5, decimal_places=2)
    earn_back_points = models.DecimalField(_("整改可返还分"), max_digits=5, decimal_places=2, default=0,
                                           help_text=_("记录时按检查项目计算；关联案件按期结案才返还"))
    target_type = models.CharField(_("考核对象类型"), max_length=10, choices=TargetType.choices)
    grid = models.ForeignKey("grids.ResponsibilityGrid", verbose_name=_("责任网格"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="deductions")
    road_segment = models.ForeignKey("grids.RoadSegment", verbose_name=_("路段"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="deductions")
    unit = models.ForeignKey("org.Unit", verbose_name=_("责任单位"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="deductions")
    party_organization = models.ForeignKey("org.PartyOrganization", verbose_name=_("党组织"), null=True, blank=True,
                                           on_delete=models.PROTECT, related_name="deductions")
    person = models.ForeignKey("org.Person", verbose_name=_("人员"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="deductions_against")
    lon = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))
    address = models.CharField(_("地址"), max_length=256, blank=True)
    # Where the problem was (from the locator), kept as found.
    unit_grid = models.ForeignKey("grids.UnitGrid", verbose_name=_("单元网格"), on_delete=models.PROTECT, related_name="+")
    place_grid = models.ForeignKey("grids.ResponsibilityGrid", verbose_name=_("所在责任网格"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    place_segment = models.ForeignKey("grids.RoadSegment", verbose_name=_("最近路段"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    note = models.TextField(_("说明"), blank=True, max_length=2000)
    occurred_at = models.DateTimeField(_("发现时间"), db_index=True)
    recorded_at = models.DateTimeField(_("记录时间"))
    assessor = models.ForeignKey("org.Person", verbose_name=_("考核员"), null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="deductions_recorded")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("记录账号"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    case = models.ForeignKey("cases.Case", verbose_name=_("关联案件"), null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="deductions")
    idempotency_key = models.CharField(max_length=120, null=True, blank=True, unique=True, editable=False)
    appeal_deadline = models.DateTimeField(_("申诉截止"))
    appeal_reason = models.TextField(_("申诉理由"), blank=True)
    appealed_at = models.DateTimeField(_("申诉时间"), null=True, blank=True)
    appealed_by = models.ForeignKey("org.Person", verbose_name=_("申诉人"), null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    review_note = models.TextField(_("复核意见"), blank=True)
    reviewed_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("复核账号"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("倒扣分记录")
        verbose_name_plural = _("倒扣分记录")
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["target_type", "occurred_at"], name="deduction_target_idx"),
                   models.Index(fields=["assessor", "occurred_at"], name="deduction_assessor_idx")]
        constraints = [
            models.CheckConstraint(name="deduction_points_positive", condition=models.Q(points__gt=0)),
            # Exactly the target column of the target type is set.
            models.CheckConstraint(name="deduction_one_target", condition=(
                models.Q(target_type="grid", grid__isnull=False, road_segment__isnull=True, unit__isnull=True,
                         party_organization__isnull=True, person__isnull=True)
                | models.Q(target_type="segment", grid__isnull=True, road_segment__isnull=False, unit__isnull=True,
                           party_organization__isnull=True, person__isnull=True)
                | models.Q(target_type="unit", grid__isnull=True, road_segment__isnull=True, unit__isnull=False,
                           party_organization__isnull=True, person__isnull=True)
                | models.Q(target_type="party", grid__isnull=True, road_segment__isnull=True, unit__isnull=True,
                           party_organization__isnull=False, person__isnull=True)
                | models.Q(target_type="person", grid__isnull=True, road_segment__isnull=True, unit__isnull=True,
                           party_organization__isnull=True, person__isnull=False))),
        ]

    def __str__(self):
        return f"{self.item.code} −{self.points} {self.target}"

    @property
    def target(self):
        return {"grid": self.grid, "segment": self.road_segment, "unit": self.unit, "party": self.party_organization,
                "person": self.person}.get(self.target_type)

    @property
    def target_code(self):
        """The target's code (a person's employee number), as used in URLs and the API."""
        t = self.target
        if t is None:
            return ""
        return t.employee_no if self.target_type == "person" else t.code

    @property
    def target_id(self):
        return {"grid": self.grid_id, "segment": self.road_segment_id, "unit": self.unit_id,
                "party": self.party_organization_id, "person": self.person_id}.get(self.target_type)


def deduction_photo_path(instance, filename):
    return f"deductions/{timezone.now():%Y/%m}/{secrets.token_hex(12)}.jpg"


class DeductionPhoto(models.Model):
    """现场照片 of a deduction, re-encoded as JPEG without EXIF (same checks as case photos)."""

    deduction = models.ForeignKey(Deduction, verbose_name=_("倒扣分记录"), on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(_("图片"), upload_to=deduction_photo_path)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("扣分照片")
        verbose_name_plural = _("扣分照片")


class DeductionEvent(models.Model):
    """扣分流转记录: append-only history (recorded, appealed, upheld, cancelled) with who and when."""

    deduction = models.ForeignKey(Deduction, verbose_name=_("倒扣分记录"), on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("操作"), max_length=12)
    from_state = models.CharField(_("原状态"), max_length=12, blank=True)
    to_state = models.CharField(_("新状态"), max_length=12)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("账号"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    person = models.ForeignKey("org.Person", verbose_name=_("人员"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    role = models.CharField(_("角色"), max_length=30, blank=True)
    note = models.TextField(_("意见"), blank=True)
    at = models.DateTimeField(_("时间"), db_index=True)

    class Meta:
        verbose_name = _("扣分流转记录")
        verbose_name_plural = _("扣分流转记录")
        ordering = ["at", "pk"]

    def save(self, *args, **kwargs):
        if self.pk is not None:  # history is written once, never rewritten
            raise ValueError("DeductionEvent is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("DeductionEvent is append-only")


# --- 日统计: daily tallies behind the standard evaluation (derived data, rebuilt from the event log) ----

class TallyDay(models.Model):
    """日统计状态: when a day's tallies were computed, over how many events, with which on-time grace."""

    day = models.DateField(_("日期"), unique=True)
    computed_at = models.DateTimeField(_("统计时间"))
    events = models.PositiveIntegerField(_("事件数"), default=0)
    grace_minutes = models.PositiveIntegerField(_("按时判定宽限（分钟）"), default=0)
    dirty = models.BooleanField(_("待重算"), default=False)

    class Meta:
        verbose_name = _("日统计状态")
        verbose_name_plural = _("日统计状态")
        ordering = ["-day"]

    def __str__(self):
        return str(self.day)


class TallyCursor(models.Model):
    """The last case event whose day was checked for re-tallying (one row)."""

    last_event_id = models.BigIntegerField(default=0)


def _counts(*names):
    return {name: models.BigIntegerField(default=0) for name in names}


UNIT_DAY_COUNTS = ("filed", "fed", "handled", "ontime", "rework")
REGION_DAY_COUNTS = ("verified", "filed", "closed", "ontime", "handle_sum", "handle_n")
POST_DAY_COUNTS = ("reported", "verified", "ontime_verified", "checked", "ontime_checked", "accepted", "sent_verify",
                   "ontime_sent_verify", "sent_check", "ontime_sent_check", "filed", "ontime_filed", "closed",
                   "ontime_closed", "dispatched", "ontime_dispatched")

# Derived tables: plain integers, not foreign keys (rebuilt at any time from the event log).
UnitDay = type("UnitDay", (models.Model,), {
    "__module__": __name__,
    "__doc__": "日统计·单位: a unit's counts of one day (立案 = first dispatch of a case to it, 处置, 按期处置, 返工).",
    "day": models.DateField(), "unit": models.BigIntegerField(), **_counts(*UNIT_DAY_COUNTS),
    "Meta": type("Meta", (), {"indexes": [models.Index(fields=["day"], name="unitday_day")]}),
})
RegionDay = type("RegionDay", (models.Model,), {
    "__module__": __name__,
    "__doc__": "日统计·区域: the counts of one day for one combination of unit grid, responsibility grid, community, "
               "street and district, 自行处置 cases apart (核实, 立案 — for 自行处置 cases their acceptance —, a "
               "case's first 结案 with its verdict and handling seconds).",
    "day": models.DateField(), **{f: models.BigIntegerField(null=True) for f in ("grid", "rgrid", "community", "street",
                                                                                  "district")},
    "self_handled": models.BooleanField(default=False),
    **_counts(*REGION_DAY_COUNTS),
    "Meta": type("Meta", (), {"indexes": [models.Index(fields=["day"], name="regionday_day")]}),
})
PostDay = type("PostDay", (models.Model,), {
    "__module__": __name__,
    "__doc__": "日统计·岗位: a post-holder's counts of one day (监督员, 受理员, 值班长, 派遣员).",
    "day": models.DateField(), "role": models.CharField(max_length=20), "person": models.BigIntegerField(),
    **_counts(*POST_DAY_COUNTS),
    "Meta": type("Meta", (), {"indexes": [models.Index(fields=["day"], name="postday_day")]}),
})


class CaseFact(models.Model):
    """个案统计事实: what one case contributes that a day's sums cannot carry.

    Kinds: ``filed_again`` / ``fed_again`` (a case dispatched to, or fed back by, the same unit again:
    k1 = unit, prev_day = the previous time), ``closed_again`` (a re-closed case: regions, this and the
    previous close's verdict and handling seconds), ``report_pending`` (an inspector's report not yet filed:
    k1 = inspector, day = report day), ``voided_filing`` (a filing later voided: k1 = filer, day = file day),
    ``returned`` (a dispatch answered by 回退: k1 = dispatcher, day = dispatch day), ``clock`` (one span of a
    handling clock overdue while it ran, or the would-be one of a running clock: k1 = unit, regions, overdue_at =
    its start, until_at = its end (挂账, new deadline or stop; null while it lasts), n1 = 1 when a recomputed
    deadline replaced it, n2 = 1 for a 自行处置 case, stop_at = the clock's stop, set_at = when its deadline was
    set). ``closed_again`` carries k1 = 1 for a 自行处置 case."""

    case_id = models.BigIntegerField(db_index=True)
    kind = models.CharField(max_length=20)
    day = models.DateField(null=True)
    k1 = models.BigIntegerField(null=True)
    r1 = models.BigIntegerField(null=True)
    r2 = models.BigIntegerField(null=True)
    r3 = models.BigIntegerField(null=True)
    r4 = models.BigIntegerField(null=True)
    r5 = models.BigIntegerField(null=True)
    prev_day = models.DateField(null=True)
    n1 = models.BigIntegerField(null=True)
    n2 = models.BigIntegerField(null=True)
    p1 = models.BigIntegerField(null=True)
    p2 = models.BigIntegerField(null=True)
    overdue_at = models.DateTimeField(null=True)
    stop_at = models.DateTimeField(null=True)
    set_at = models.DateTimeField(null=True)
    until_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "day"], name="casefact_kind_day"),
                   models.Index(fields=["kind", "overdue_at"], name="casefact_kind_overdue")]


def item_errors(item):
    """Field errors of an InspectionItem (used by the admin form and the Excel import)."""
    errors = {}
    dp, mp = item.default_points, item.max_points
    if dp is not None and Decimal(dp) <= 0:
        errors["default_points"] = _("默认扣分应大于 0")
    if mp is not None and Decimal(mp) <= 0:
        errors["max_points"] = _("单次最高扣分应大于 0")
    if dp is not None and mp is not None and Decimal(dp) > Decimal(mp):
        errors["max_points"] = _("单次最高扣分不能小于默认扣分")
    types = item.target_types
    if not isinstance(types, list) or not types or any(t not in TargetType.values for t in types):
        errors["target_types"] = _("应为以下若干项：%(v)s") % {"v": "、".join(TargetType.values)}
    ratio = item.earn_back_ratio
    if ratio is not None and not (0 <= Decimal(ratio) <= 1):
        errors["earn_back_ratio"] = _("返还比例应在 0 到 1 之间")
    if item.earn_back_points is not None and Decimal(item.earn_back_points) < 0:
        errors["earn_back_points"] = _("返还分值不能为负")
    if item.max_times is not None and item.max_times < 1:
        errors["max_times"] = _("每期最多扣分次数至少为 1")
    return errors
