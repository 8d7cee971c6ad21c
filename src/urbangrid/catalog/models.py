"""Responsibility list (责任清单): catalogue versions, classes, rules, components and the crosswalk.

Classification is data: the national list changed (CJ/T 214-2007 → GB/T 47678.5-2026) and every city
extends it (major code 21), so each class belongs to a version and cases keep the version they used.
"""
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from urbangrid.grids.locator import OutsideManagedArea, locator
from urbangrid.worktime.models import TimeUnit

LOCAL_EXTENSION_MAJOR = "21"  # de-facto major code of a city's own classes (docs/standards.md, Catalogue codes)


class CatalogVersion(models.Model):
    """分类版本: one published list (CJ/T 214-2007, GB/T 47678.5-2026) or a city's local list."""

    code = models.SlugField(_("版本代码"), max_length=40, unique=True, help_text=_("如 cjt214-2007、gbt47678.5-2026、local-demo"))
    name = models.CharField(_("名称"), max_length=200)
    standard = models.CharField(_("标准编号"), max_length=60, blank=True)
    effective_date = models.DateField(_("实施日期"), null=True, blank=True)
    # Code length decides the component identifier: 6 district + class code + 6 serial (16 or 17 digits).
    code_length = models.PositiveSmallIntegerField(_("小类代码位数"), choices=[(4, "4"), (5, "5")], default=4)
    # Several versions can be current together (the national list plus a local event list).
    is_current = models.BooleanField(_("现行"), default=False, help_text=_("新立案件可选用此版本的分类"))
    # A city's local list names the national version it extends: switching the city to a national version
    # makes it and its extensions current together (``cases.catalog_switch``).
    base = models.ForeignKey("self", verbose_name=_("所依据的版本"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="extensions", help_text=_("地方扩展清单所依据的国家标准版本；国家标准版本留空"))

    class Meta:
        verbose_name = _("分类版本")
        verbose_name_plural = _("分类版本")
        ordering = ["code"]

    def __str__(self):
        return f"{self.standard or self.name} ({self.code})"

    @property
    def identifier_length(self):
        return 12 + self.code_length

    @property
    def family(self):
        """The national version this one belongs to (itself, or the one it extends)."""
        return self.base if self.base_id else self


class CatalogClassQuerySet(models.QuerySet):
    def current(self):
        """现行分类: the classes a case may be filed under now (a current version's, active); every door's choices."""
        return self.filter(version__is_current=True, active=True)


class CatalogClass(models.Model):
    """部件/事件(事项)小类: one class of a catalogue version, e.g. 0101 上水井盖."""

    class Kind(models.TextChoices):
        COMPONENT = "component", _("部件")
        EVENT = "event", _("事件/事项")

    version = models.ForeignKey(CatalogVersion, verbose_name=_("分类版本"), on_delete=models.PROTECT, related_name="classes")
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    major_code = models.CharField(_("大类代码"), max_length=2, validators=[RegexValidator(r"^\d{2}$", _("大类代码应为2位数字"))])
    major_name = models.CharField(_("大类名称"), max_length=50)
    code = models.CharField(_("小类代码"), max_length=5, validators=[RegexValidator(r"^\d{4,5}$", _("小类代码应为4或5位数字"))])
    name = models.CharField(_("小类名称"), max_length=100)
    plain_name = models.CharField(_("通俗名称"), max_length=100, blank=True, help_text=_("市民上报时显示的说法"))
    description = models.TextField(_("说明"), blank=True)
    code_inferred = models.BooleanField(_("代码为推断"), default=False, help_text=_("来源清单缺此代码，按位置推断"))
    # GB/T 47678.5-2026: matter 01001 供水井盖异常 belongs to component 01001 供水井盖.
    component = models.ForeignKey(
        "self", verbose_name=_("对应部件"), null=True, blank=True, on_delete=models.SET_NULL, related_name="matters",
        limit_choices_to={"kind": "component"},
    )
    active = models.BooleanField(_("启用"), default=True)

    objects = CatalogClassQuerySet.as_manager()

    class Meta:
        verbose_name = _("分类小类")
        verbose_name_plural = _("分类小类")
        ordering = ["version__code", "kind", "code"]
        constraints = [
            models.UniqueConstraint(fields=["version", "kind", "code"], name="unique_catalog_class_code",
                                    violation_error_message=_("该版本中已有相同类型和代码的小类")),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def is_local_extension(self):
        return self.major_code == LOCAL_EXTENSION_MAJOR

    @property
    def component_code(self):
        return self.component.code if self.component_id else None

    def clean(self):
        errors = {}
        if self.code and self.major_code and not self.code.startswith(self.major_code):
            errors["code"] = _("小类代码应以大类代码%(major)s开头") % {"major": self.major_code}
        elif self.code and self.version_id and len(self.code) != self.version.code_length:
            errors["code"] = _("该版本的小类代码应为%(n)s位") % {"n": self.version.code_length}
        if self.component_id:
            if self.kind != self.Kind.EVENT or self.component.kind != self.Kind.COMPONENT:
                errors["component"] = _("只有事项可以对应部件")
            elif self.component.version_id != self.version_id:
                errors["component"] = _("对应部件应属于同一版本")
        if errors:
            raise ValidationError(errors)


class Urgency(models.TextChoices):
    """紧急程度 of a class (from its rule) and of a case."""

    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")


class ResponsibilityRule(models.Model):
    """责任清单条目: (class, optional 立案条件, optional area) → unit, urgency, time limit, standards.

    Area-specific rules beat city-wide ones (属地管理); see ``responsibility.resolve``.
    """

    Urgency = Urgency
    TimeUnit = TimeUnit  # the working calendar's units: one vocabulary for every time limit

    catalog_class = models.ForeignKey(CatalogClass, verbose_name=_("小类"), on_delete=models.PROTECT, related_name="rules")
    filing_condition = models.CharField(_("立案条件"), max_length=200, blank=True, help_text=_("留空表示适用于该小类的所有情形"))
    region = models.ForeignKey("grids.Region", verbose_name=_("适用区划"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="responsibility_rules", help_text=_("留空表示全市"))
    responsibility_grid = models.ForeignKey("grids.ResponsibilityGrid", verbose_name=_("适用责任网格"), null=True, blank=True,
                                            on_delete=models.PROTECT, related_name="responsibility_rules")
    unit = models.ForeignKey("org.Unit", verbose_name=_("责任单位"), on_delete=models.PROTECT, related_name="responsibility_rules")
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    time_limit_value = models.DecimalField(_("处置时限"), max_digits=6, decimal_places=1,
                                           validators=[MinValueValidator(Decimal("0.1"), _("处置时限应大于0"))])
    time_limit_unit = models.CharField(_("时限单位"), max_length=20, choices=TimeUnit.choices, default=TimeUnit.WORKING_HOURS)
    filing_standard = models.TextField(_("立案标准"), blank=True)
    closing_standard = models.TextField(_("结案标准"), blank=True)
    auto_dispatch = models.BooleanField(_("自动派遣"), default=False)
    active = models.BooleanField(_("启用"), default=True)
    note = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("责任清单条目")
        verbose_name_plural = _("责任清单")
        ordering = ["catalog_class__version__code", "catalog_class__code", "filing_condition", "pk"]
        constraints = [
            # 责任主体唯一: one rule per class × condition × area. COALESCE so that NULL areas also
            # collide on SQLite and PostgreSQL alike (plain UNIQUE treats NULLs as distinct).
            models.UniqueConstraint(
                F("catalog_class"), F("filing_condition"),
                Coalesce("region", Value(0), output_field=models.BigIntegerField()),
                Coalesce("responsibility_grid", Value(0), output_field=models.BigIntegerField()),
                name="unique_responsibility_rule",
                violation_error_message=_("同一小类、立案条件和适用范围已有责任清单条目"),
            ),
        ]

    def __str__(self):
        cond = f"（{self.filing_condition}）" if self.filing_condition else ""
        return f"{self.catalog_class}{cond} · {self.area_display} → {self.unit}"

    @property
    def area_display(self):
        parts = [str(x.name) for x in (self.region, self.responsibility_grid) if x is not None]
        return " / ".join(parts) or gettext("全市")

    @property
    def time_limit_display(self):
        # The enum's own labels, not get_time_limit_unit_display(): Django rebuilds a hashable copy of the choices
        # on every call, and the 六定 card shows the limit of every class (~400 a page).
        unit = self.time_limit_unit
        label = TimeUnit(unit).label if unit in TimeUnit.values else unit
        return f"{self.time_limit_value.normalize():f} {label}"

    def clean(self):
        if self.responsibility_grid_id and self.region_id:
            grid_region = self.responsibility_grid.region
            if self.region_id not in {r.pk for r in grid_region.ancestors()}:
                raise ValidationError({"responsibility_grid": _("责任网格不在所选区划内")})


class Component(models.Model):
    """管理部件: one asset (a manhole cover, a lamp) with its standard identifier and location."""

    class State(models.TextChoices):
        INTACT = "intact", _("完好")
        DAMAGED = "damaged", _("破损")
        LOST = "lost", _("丢失")
        ABANDONED = "abandoned", _("废弃")
        REMOVED = "removed", _("移除")

    class Source(models.TextChoices):
        SURVEY = "survey", _("实测")
        TOPOGRAPHIC = "topographic", _("地形图")
        BASE_GEODATA = "base_geodata", _("基础地理数据")
        OTHER = "other", _("其他")

    identifier = models.CharField(_("部件标识码"), max_length=17, unique=True,
                                  help_text=_("CJ/T 214：16位；GB/T 47678.5：17位（区划6+大类2+小类2或3+顺序号6）"))
    catalog_class = models.ForeignKey(CatalogClass, verbose_name=_("部件小类"), on_delete=models.PROTECT, related_name="components",
                                      limit_choices_to={"kind": "component"})
    name = models.CharField(_("部件名称"), max_length=100, blank=True)
    lon = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))
    unit_grid = models.ForeignKey("grids.UnitGrid", verbose_name=_("所在单元网格"), null=True, blank=True, editable=False,
                                  on_delete=models.SET_NULL, related_name="components")
    competent_unit = models.ForeignKey("org.Unit", verbose_name=_("主管部门"), null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="competent_components")
    owner_unit = models.ForeignKey("org.Unit", verbose_name=_("权属单位"), null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="owned_components")
    maintenance_unit = models.ForeignKey("org.Unit", verbose_name=_("养护单位"), null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="maintained_components")
    state = models.CharField(_("部件状态"), max_length=10, choices=State.choices, default=State.INTACT)
    initial_date = models.DateField(_("初始日期"), null=True, blank=True)
    changed_date = models.DateField(_("变更日期"), null=True, blank=True)
    data_source = models.CharField(_("数据来源"), max_length=20, choices=Source.choices, blank=True)
    note = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("管理部件")
        verbose_name_plural = _("管理部件")
        ordering = ["identifier"]
        # the maps' component layer asks by bounding box (catalog/components.py: in_bbox)
        indexes = [models.Index(fields=["lat", "lon"], name="component_place")]

    def __str__(self):
        return f"{self.identifier} {self.name or self.catalog_class.name}"

    def locate(self):
        """The unit grid under the point, or None outside the managed area."""

        try:
            return locator.locate(self.lon, self.lat, with_road=False)
        except (OutsideManagedArea, ValueError):
            return None

    def clean(self):
        errors = {}
        if self.catalog_class_id:
            try:
                validate_component_identifier(self.identifier, self.catalog_class)
            except ValidationError as exc:
                errors["identifier"] = exc.messages
        if self.lon is not None and self.lat is not None:
            loc = self.locate()
            if loc is None:
                errors["lon"] = _("部件位置不在管理范围内")
            elif self.identifier and len(self.identifier) >= 6 and self.identifier[:6] != loc.unit_grid_code[:6]:
                errors.setdefault("identifier", []).append(
                    gettext("标识码的区划代码%(code)s与所在单元网格的区划%(grid)s不符")
                    % {"code": self.identifier[:6], "grid": loc.unit_grid_code[:6]})
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        # The unit grid is derived from the point, never typed in, so it cannot disagree with it.
        loc = self.locate()
        self.unit_grid_id = loc.unit_grid_id if loc else None
        super().save(*args, **kwargs)


def validate_component_identifier(identifier, catalog_class):
    """部件标识码 = 6 district + class code (2+2 or 2+3) + 6 serial; the class code must be the class's."""
    length = catalog_class.version.identifier_length
    identifier = identifier or ""
    if catalog_class.kind != CatalogClass.Kind.COMPONENT:
        raise ValidationError(_("%(cls)s 不是部件小类") % {"cls": catalog_class}, code="not_component")
    if len(identifier) != length or not identifier.isdigit():
        raise ValidationError(_("%(std)s部件标识码应为%(n)s位数字") % {"std": catalog_class.version.standard or catalog_class.version.code, "n": length},
                              code="format")
    embedded = identifier[6:6 + len(catalog_class.code)]
    if embedded != catalog_class.code:
        raise ValidationError(_("标识码中的分类代码%(got)s与部件小类%(want)s不符") % {"got": embedded, "want": catalog_class.code},
                              code="class_mismatch")


class CrosswalkEntry(models.Model):
    """新旧分类对照: an old class (CJ/T 214-2007) and its class in a newer version (GB/T 47678.5-2026)."""

    class Relation(models.TextChoices):
        SAME = "same", _("同名")
        RENAMED = "renamed", _("更名")
        SPLIT = "split", _("拆分")
        MERGED = "merged", _("合并")
        NONE = "none", _("无对应")

    old_class = models.ForeignKey(CatalogClass, verbose_name=_("原分类"), on_delete=models.CASCADE, related_name="crosswalk_forward")
    new_class = models.ForeignKey(CatalogClass, verbose_name=_("新分类"), null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="crosswalk_backward")
    relation = models.CharField(_("对应关系"), max_length=10, choices=Relation.choices)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    verified = models.BooleanField(_("已核实"), default=False, help_text=_("按名称匹配的草稿，经人工核对后勾选"))

    class Meta:
        verbose_name = _("新旧分类对照")
        verbose_name_plural = _("新旧分类对照")
        ordering = ["old_class__version__code", "old_class__code", "new_class__code"]
        constraints = [
            models.UniqueConstraint(fields=["old_class", "new_class"], name="unique_crosswalk_pair"),
            models.UniqueConstraint(fields=["old_class"], condition=Q(new_class__isnull=True), name="unique_crosswalk_none"),
        ]

    def __str__(self):
        return f"{self.old_class} → {self.new_class or '—'} ({self.get_relation_display()})"

    def clean(self):
        if (self.relation == self.Relation.NONE) != (self.new_class_id is None):
            raise ValidationError({"new_class": _("“无对应”时不填新分类，其他关系必须填新分类")})
        if self.new_class_id and self.old_class_id and self.new_class.version_id == self.old_class.version_id:
            raise ValidationError({"new_class": _("新分类应属于另一版本")})
