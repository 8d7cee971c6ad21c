"""Gazetteer data (地址库): roads (named from the road segments, with aliases), doorplates (门牌: road + number →
point, with the building or compound name), landmarks and POIs (标志物/兴趣点) and the intersections derived from
the road geometry. Communities, streets and districts are the existing ``grids.Region`` rows (their shapes are
their unit grids). Points are WGS-84 longitude/latitude floats; no GeoDjango (see grids/geometry.py).
"""
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from urbangrid.grids.models import GeometryMixin, Region, RoadSegment

LON = [MinValueValidator(-180), MaxValueValidator(180)]
LAT = [MinValueValidator(-90), MaxValueValidator(90)]


def _aliases_valid(value):
    if not isinstance(value, list) or not all(isinstance(a, str) and 0 < len(a.strip()) <= 100 for a in value):
        raise ValidationError(_("别名应为名称的列表，每个 1–100 字"))


class Road(GeometryMixin):
    """道路: one named road made of road segments; its doorplates are numbered along it."""

    name = models.CharField(_("道路名称"), max_length=100, unique=True)
    aliases = models.JSONField(_("别名"), default=list, blank=True, validators=[_aliases_valid],
                               help_text=_("曾用名、俗称、分段名，如“长江西路”"))
    segments = models.ManyToManyField(RoadSegment, verbose_name=_("路段"), blank=True, related_name="roads")
    length_m = models.FloatField(_("长度(米)"), default=0, editable=False)

    class Meta:
        verbose_name = _("道路")
        verbose_name_plural = _("道路")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Doorplate(models.Model):
    """门牌: a number on a road (odd numbers on one side, even on the other) at a point."""

    road = models.ForeignKey(Road, verbose_name=_("道路"), on_delete=models.CASCADE, related_name="doorplates")
    number = models.PositiveIntegerField(_("门牌号"), validators=[MinValueValidator(1)])
    suffix = models.CharField(_("附号"), max_length=10, blank=True, help_text=_("如“-1”（318-1号）"))
    building_name = models.CharField(_("建筑物/小区名称"), max_length=100, blank=True)
    lon = models.FloatField(_("经度"), validators=LON)
    lat = models.FloatField(_("纬度"), validators=LAT)

    class Meta:
        verbose_name = _("门牌")
        verbose_name_plural = _("门牌")
        ordering = ["road", "number", "suffix"]
        constraints = [models.UniqueConstraint(fields=["road", "number", "suffix"], name="doorplate_unique")]

    def __str__(self):
        return f"{self.road.name}{self.number}{self.suffix}号"


class Landmark(models.Model):
    """标志物/兴趣点: a named place (school, hospital, compound …) with aliases, at a point (and optionally an outline)."""

    class Category(models.TextChoices):
        COMPOUND = "compound", _("小区")
        SCHOOL = "school", _("学校")
        HOSPITAL = "hospital", _("医院")
        PARK = "park", _("公园广场")
        MARKET = "market", _("商场市场")
        BANK = "bank", _("银行")
        HOTEL = "hotel", _("酒店")
        OFFICE = "office", _("机关单位")
        BUILDING = "building", _("楼宇")
        STOP = "stop", _("公交站")
        OTHER = "other", _("其他")

    name = models.CharField(_("名称"), max_length=100, unique=True)
    aliases = models.JSONField(_("别名"), default=list, blank=True, validators=[_aliases_valid])
    category = models.CharField(_("类别"), max_length=10, choices=Category.choices, default=Category.OTHER)
    lon = models.FloatField(_("经度"), validators=LON)
    lat = models.FloatField(_("纬度"), validators=LAT)
    geometry = models.JSONField(_("范围"), null=True, blank=True, help_text=_("GeoJSON Polygon（可选）"))
    community = models.ForeignKey(Region, verbose_name=_("所在社区"), null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="landmarks")

    class Meta:
        verbose_name = _("标志物")
        verbose_name_plural = _("标志物")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Intersection(models.Model):
    """交叉口: where two roads cross, derived from their geometry (``derive_intersections``)."""

    road_a = models.ForeignKey(Road, verbose_name=_("道路甲"), on_delete=models.CASCADE, related_name="+")
    road_b = models.ForeignKey(Road, verbose_name=_("道路乙"), on_delete=models.CASCADE, related_name="+")
    lon = models.FloatField(_("经度"), validators=LON)
    lat = models.FloatField(_("纬度"), validators=LAT)

    class Meta:
        verbose_name = _("交叉口")
        verbose_name_plural = _("交叉口")
        ordering = ["road_a", "road_b", "lon", "lat"]

    def __str__(self):
        return f"{self.road_a.name}与{self.road_b.name}交叉口"
