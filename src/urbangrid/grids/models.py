"""Geography: regions, unit grids, responsibility grids and road segments.

Geometry is GeoJSON (WGS-84) in a JSON column with its bounding box in four float columns, so a
bounding-box prefilter is a plain indexed query on any database.
"""
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.dispatch import Signal
from django.utils.translation import gettext_lazy as _

from . import geometry as geo

digits = lambda n: RegexValidator(rf"^\d{{{n}}}$", _("应为%(n)s位数字") % {"n": n})  # noqa: E731


class GeometryMixin(models.Model):
    geometry = models.JSONField(_("几何"), null=True, blank=True, help_text=_("GeoJSON，WGS-84 经纬度"))
    min_lon = models.FloatField(editable=False, default=0)
    min_lat = models.FloatField(editable=False, default=0)
    max_lon = models.FloatField(editable=False, default=0)
    max_lat = models.FloatField(editable=False, default=0)

    class Meta:
        abstract = True

    @property
    def shape(self):
        return geo.to_shape(self.geometry)

    def update_derived(self, shp=None):
        """Fill the bounding box and the measure (area or length) from the geometry."""
        shp = shp if shp is not None else self.shape
        for key, value in geo.bbox(shp).items():
            setattr(self, key, value)
        if hasattr(self, "area_m2"):
            self.area_m2 = geo.area_m2(shp)
        if hasattr(self, "length_m"):
            self.length_m = geo.length_m(shp)

    def save(self, *args, **kwargs):
        if self.geometry:
            self.update_derived()
        super().save(*args, **kwargs)


class Region(models.Model):
    """行政区划: city › district (区) › street (街道) › community (社区), GB/T 2260-based codes."""

    class Level(models.TextChoices):
        CITY = "city", _("市")
        DISTRICT = "district", _("区")
        STREET = "street", _("街道")
        COMMUNITY = "community", _("社区")

    CODE_LENGTH = {Level.CITY: 6, Level.DISTRICT: 6, Level.STREET: 9, Level.COMMUNITY: 12}
    PARENT_LEVEL = {Level.DISTRICT: Level.CITY, Level.STREET: Level.DISTRICT, Level.COMMUNITY: Level.STREET}

    code = models.CharField(_("区划代码"), max_length=12, unique=True, validators=[RegexValidator(r"^\d{6}(\d{3}){0,2}$")])
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices, db_index=True)
    parent = models.ForeignKey("self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children")

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def clean(self):
        errors = {}
        want = self.CODE_LENGTH.get(self.level)
        if want and len(self.code or "") != want:
            errors["code"] = _("%(level)s代码应为%(n)s位") % {"level": self.get_level_display(), "n": want}
        parent_level = self.PARENT_LEVEL.get(self.level)
        if parent_level:
            if not self.parent_id:
                errors["parent"] = _("必须指定上级区划")
            elif self.parent.level != parent_level:
                errors["parent"] = _("上级区划层级应为%(level)s") % {"level": self.Level(parent_level).label}
            elif self.level in (self.Level.STREET, self.Level.COMMUNITY) and not self.code.startswith(self.parent.code):
                errors["code"] = _("代码应以上级区划代码%(code)s开头") % {"code": self.parent.code}
        elif self.parent_id:
            errors["parent"] = _("市级区划不能有上级")
        if errors:
            raise ValidationError(errors)

    def ancestors(self, include_self=True):
        """This region and its parents, nearest first."""
        node = self if include_self else self.parent
        chain = []
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain


class ResponsibilityGrid(GeometryMixin):
    """责任网格: a patrol and responsibility area made of unit grids; the grid roles attach here.

    Also carries its 六定 card fields (scope is the geometry, people are the role assignments,
    responsibility comes from the responsibility list).
    """

    code = models.CharField(_("网格编号"), max_length=20, unique=True)
    name = models.CharField(_("网格名称"), max_length=100)
    region = models.ForeignKey(Region, verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="responsibility_grids")
    area_m2 = models.FloatField(_("面积(平方米)"), default=0, editable=False)
    # 定内容: which lines of work the grid covers (市政基础设施, 园林绿化, 环境卫生, 执法, 文明创建, 环境保护)
    content = models.JSONField(_("定内容"), default=list, blank=True)
    standards = models.TextField(_("定标准"), blank=True)
    patrol_frequency = models.CharField(_("巡查频次"), max_length=100, blank=True)
    patrol_times = models.CharField(_("巡查时段"), max_length=200, blank=True)
    patrol_route = models.JSONField(_("巡查路线"), null=True, blank=True, help_text=_("GeoJSON LineString"))
    description = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("责任网格")
        verbose_name_plural = _("责任网格")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class UnitGrid(GeometryMixin):
    """单元网格: ~10,000 m² cell; 15-digit code = 6 district + 3 street + 3 community + 3 sequence."""

    class Level(models.IntegerChoices):
        FIRST = 1, _("一级")
        SECOND = 2, _("二级")
        THIRD = 3, _("三级")

    code = models.CharField(_("单元网格标识码"), max_length=15, unique=True, validators=[digits(15)])
    community = models.ForeignKey(Region, verbose_name=_("所在社区"), on_delete=models.PROTECT, related_name="unit_grids")
    responsibility_grid = models.ForeignKey(
        ResponsibilityGrid, verbose_name=_("责任网格"), null=True, blank=True, on_delete=models.SET_NULL, related_name="unit_grids"
    )
    management_level = models.PositiveSmallIntegerField(_("管理等级"), choices=Level.choices, default=Level.FIRST)
    land_use = models.CharField(_("用地类别"), max_length=50, blank=True)
    area_m2 = models.FloatField(_("面积(平方米)"), default=0, editable=False)
    # Properties of an imported feature that we do not model, kept so export gives them back.
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("单元网格")
        verbose_name_plural = _("单元网格")
        ordering = ["code"]
        indexes = [models.Index(fields=["min_lon", "min_lat", "max_lon", "max_lat"], name="unitgrid_bbox")]

    def __str__(self):
        return self.code


class RoadSegment(GeometryMixin):
    """路段: a named stretch of road, owned by a party branch, crossing one or more grids."""

    class RoadClass(models.TextChoices):
        TRUNK = "trunk", _("主干道")
        SECONDARY = "secondary", _("次干道")
        BRANCH = "branch", _("支路")
        LANE = "lane", _("街坊路")

    code = models.CharField(_("路段编号"), max_length=20, unique=True)
    name = models.CharField(_("路段名称"), max_length=100)
    road_class = models.CharField(_("道路等级"), max_length=10, choices=RoadClass.choices)
    length_m = models.FloatField(_("长度(米)"), default=0, editable=False)
    grids = models.ManyToManyField(ResponsibilityGrid, verbose_name=_("经过的责任网格"), blank=True, related_name="road_segments")
    unit_grids = models.ManyToManyField(UnitGrid, verbose_name=_("经过的单元网格"), blank=True, related_name="road_segments")

    class Meta:
        verbose_name = _("路段")
        verbose_name_plural = _("路段")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name} ({self.code})"


# Sent by ``GridDataVersion.bump()`` in the process that made the edit: its lookup indexes (the point → grid
# locator, the geocoder) connect to it and drop what they hold.
grid_data_changed = Signal()


class GridDataVersion(models.Model):
    """One row counting edits to geography; each process rebuilds its lookup index when it changes."""

    version = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("网格数据版本")
        verbose_name_plural = _("网格数据版本")

    @classmethod
    def current(cls):
        row = cls.objects.filter(pk=1).values_list("version", flat=True).first()
        return row or 0

    @classmethod
    def bump(cls):
        """Increase the version inside the caller's transaction, so it commits with the edit. This process's
        indexes are dropped at once (``grid_data_changed``), so it sees its own edit without waiting for
        ``URBANGRID_GRID_VERSION_TTL`` (which other processes wait for), and again at commit: another thread may
        have rebuilt from the rows before the edit while it was open."""
        updated = cls.objects.filter(pk=1).update(version=models.F("version") + 1)
        if not updated:
            cls.objects.get_or_create(pk=1, defaults={"version": 1})
        grid_data_changed.send(sender=cls)
        transaction.on_commit(lambda: grid_data_changed.send(sender=cls))
