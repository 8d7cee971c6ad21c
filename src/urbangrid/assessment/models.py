"""综合评价 configuration: one editable scheme with the weights, score bands and grade bands of
standards.md §3 (CJ/T 292 / GB/T 30428.4 style). The numbers live here, not in code.

Band tables are lists of rows checked in order; the first row that matches gives the score:
``{"max": 50, "score": 100}`` matches value ≤ 50, ``{"below": 3, "score": 90}`` matches value < 3 and
``{"score": 0}`` matches anything (the last row).
"""
from django.core.exceptions import ValidationError
from django.db import models
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
UNIT_WEIGHTS = {"filed": 10, "close_rate": 30, "ontime_handle_rate": 30, "rework_rate": 30}
# The published code's weights (10/20/30/10) sum to 70; 40 for 按期结案率 closes the sum (standards.md §3.4).
REGION_WEIGHTS = {"report_rate": 10, "filed": 20, "close_rate": 30, "ontime_close_rate": 40}
POSITION_WEIGHTS = {
    "inspector": {"valid_report_rate": 40, "missed_rate": 20, "ontime_verify_rate": 20, "ontime_check_rate": 20},
    "intake_operator": {"accepted": 25, "ontime_send_verify_rate": 40, "ontime_send_check_rate": 35},
    "shift_lead": {"ontime_file_rate": 25, "accurate_file_rate": 40, "ontime_close_rate": 35},
    "dispatcher": {"dispatched": 20, "ontime_dispatch_rate": 40, "accurate_dispatch_rate": 40},
}


def _copy(value):
    import copy

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
        _("超期未处置回溯天数"), default=90,
        help_text=_("统计期内到期未反馈的案件，只在期初前这么多天内派遣或调整时限的案件中查找"))
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
