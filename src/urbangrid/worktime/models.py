"""Working calendar (工作日历) for deadlines in working time: days, daily periods, stage time limits."""
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from . import clock


class WorkCalendarDay(models.Model):
    """One day of the calendar. Days missing from the table count as Monday–Friday workdays less the statutory
    holidays (``statutory.py``), unconfirmed like the days seeded from the ``holidays`` package."""

    class Kind(models.TextChoices):
        WORKDAY = "workday", _("工作日")
        WEEKEND = "weekend", _("周末")
        HOLIDAY = "holiday", _("节假日")
        MAKEUP_WORKDAY = "makeup_workday", _("调休上班")

    class Source(models.TextChoices):
        CHINESE_CALENDAR = "chinese-calendar", _("chinese-calendar 法定节假日数据")
        NOTICE = "notice", _("导入的国务院放假通知")
        HOLIDAYS = "holidays", _("按法定节假日推算（待确认）")
        WEEKDAY_FALLBACK = "weekday-fallback", _("按周一至周五推定")
        MANUAL = "manual", _("手工维护")

    WORKING_KINDS = {Kind.WORKDAY, Kind.MAKEUP_WORKDAY}
    # Days no official notice stands behind yet: a deadline counted over one of them is 期限待确认.
    UNCONFIRMED_SOURCES = {Source.HOLIDAYS, Source.WEEKDAY_FALLBACK}
    # Days re-seeding leaves alone: a person's edit and an imported notice win over the packages.
    KEPT_SOURCES = {Source.MANUAL, Source.NOTICE}

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("是否上班"), editable=False, help_text=_("由类型决定"))
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    holiday_name = models.CharField(_("节日名称"), max_length=50, blank=True)
    source = models.CharField(_("来源"), max_length=20, choices=Source.choices, default=Source.MANUAL)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("日历日")
        verbose_name_plural = _("工作日历")

    def __str__(self):
        return f"{self.date} {self.get_kind_display()}"

    def save(self, *args, **kwargs):
        # is_workday is derived so the two fields can never disagree.
        self.is_workday = self.kind in self.WORKING_KINDS
        super().save(*args, **kwargs)


class WorkingPeriod(models.Model):
    """A daily working period (上班时段) on working days."""

    start = models.TimeField(_("开始时间"))
    end = models.TimeField(_("结束时间"))
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        ordering = ["order", "start"]
        verbose_name = _("上班时段")
        verbose_name_plural = _("上班时段")

    def __str__(self):
        return f"{self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self):
        if self.start is None or self.end is None:
            return
        if self.start >= self.end:
            raise ValidationError(_("结束时间应晚于开始时间"))
        if WorkingPeriod.objects.exclude(pk=self.pk).filter(start__lt=self.end, end__gt=self.start).exists():
            raise ValidationError(_("与已有上班时段重叠"))


class TimeUnit(models.TextChoices):
    WORKING_HOURS = clock.WORKING_HOURS, _("工作时")
    WORKING_DAYS = clock.WORKING_DAYS, _("工作日")
    CALENDAR_HOURS = clock.CALENDAR_HOURS, _("自然时")


class Stage(models.TextChoices):
    LOCATE = "locate", _("定位")  # a 待定位 report placed on the map by the centre
    ACCEPT = "accept", _("受理")
    VERIFY = "verify", _("核实")
    FILE = "file", _("立案")
    DISPATCH = "dispatch", _("派遣")
    SECOND_DISPATCH = "second_dispatch", _("二级派遣")
    HANDLE = "handle", _("处置")
    SEND_CHECK = "send_check", _("发核查")
    CHECK = "check", _("核查")
    CLOSE = "close", _("结案")


# Practice values (docs/standards.md, Stage time limits): 核实确认 + 立案派遣 ≤ 1 工作时; 核实, 核查 30 min.
# Used by the data migration and as the fallback when a row is missing.
DEFAULT_LIMITS = {
    Stage.LOCATE: (Decimal("1"), TimeUnit.WORKING_HOURS),
    Stage.ACCEPT: (Decimal("1"), TimeUnit.WORKING_HOURS),
    Stage.VERIFY: (Decimal("0.5"), TimeUnit.WORKING_HOURS),
    Stage.FILE: (Decimal("1"), TimeUnit.WORKING_HOURS),
    Stage.DISPATCH: (Decimal("1"), TimeUnit.WORKING_HOURS),
    Stage.SECOND_DISPATCH: (Decimal("1"), TimeUnit.WORKING_HOURS),
    Stage.SEND_CHECK: (Decimal("1"), TimeUnit.WORKING_HOURS),
    Stage.CHECK: (Decimal("0.5"), TimeUnit.WORKING_HOURS),
    Stage.CLOSE: (Decimal("1"), TimeUnit.WORKING_HOURS),
}
DEFAULT_YELLOW_SHARE = Decimal("0.2")


class TimeLimitSetting(models.Model):
    """The time limit and yellow share of a stage. The handling (处置) limit comes from the responsibility rule:
    the 处置 row holds its yellow share only (no value, no unit)."""

    Stage = Stage

    stage = models.CharField(_("环节"), max_length=20, choices=Stage.choices, unique=True)
    value = models.DecimalField(_("时限"), max_digits=8, decimal_places=2, null=True, blank=True,
                                validators=[MinValueValidator(Decimal("0"))],
                                help_text=_("处置环节的时限由责任清单规定，此处留空"))
    unit = models.CharField(_("单位"), max_length=20, choices=TimeUnit.choices, default=TimeUnit.WORKING_HOURS, blank=True)
    yellow_share = models.DecimalField(
        _("黄灯比例"), max_digits=3, decimal_places=2, default=DEFAULT_YELLOW_SHARE,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text=_("剩余时间低于时限的这一比例时亮黄灯，例如 0.20"),
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("环节时限")
        verbose_name_plural = _("环节时限")

    def __str__(self):
        if self.stage == Stage.HANDLE:
            return f"{self.get_stage_display()} {_('时限见责任清单')}"
        return f"{self.get_stage_display()} {self.value.normalize():f} {self.get_unit_display()}"

    def clean(self):
        if self.stage == Stage.HANDLE:
            if self.value is not None:
                raise ValidationError({"value": _("处置环节的时限由责任清单规定，这里只设黄灯比例")})
            self.unit = ""
        elif self.value is None:
            raise ValidationError({"value": _("请填写时限")})
        elif not self.unit:
            raise ValidationError({"unit": _("请选择单位")})

    @classmethod
    def for_stage(cls, stage):
        """The stage's setting; an unsaved default when the row is missing, so callers never fail."""
        found = cls.objects.filter(stage=stage).first()
        if found:
            return found
        if stage == Stage.HANDLE:
            return cls(stage=stage, value=None, unit="", yellow_share=DEFAULT_YELLOW_SHARE)
        value, unit = DEFAULT_LIMITS[Stage(stage)]
        return cls(stage=stage, value=value, unit=unit, yellow_share=DEFAULT_YELLOW_SHARE)

    def deadline(self, start, calendar=None):
        return clock.deadline(start, self.value, self.unit, calendar or clock.get_calendar())

    def start_clock(self, start, calendar=None):
        return clock.Clock.start(start, self.value, self.unit, calendar or clock.get_calendar())
