"""Components (管理部件) as assets: the inventory's rules every door asks here.

* ``inventory_error``: a case's 部件标识码 must name a registered asset when the inventory holds any of the
  case's class (a city that has not surveyed a class yet can still file cases under it, with the standard's
  format as the only check, ``services.component_identifier_error``).
* ``parse_bbox``: the map's bounding box, refused whole when it is malformed or too large.
* ``search``: the list filters of the API (a component's history of cases: places/components.py), in the viewer's
  case scope (``cases.services.visible_cases``).
"""
import math

from django.db.models import Q
from django.utils.translation import gettext as _

from urbangrid.grids.models import Region, ResponsibilityGrid

from .models import Component

# The map asks for one screen's worth at a time: at zoom 16 a 1920-pixel screen spans about 0.04°; the browser
# layer (static/urbangrid/components_layer.js) asks only from that zoom on. Larger boxes are a 400.
MAX_BBOX_DEG = 0.1
MAP_DEFAULT_LIMIT = 2000
MAP_MAX_LIMIT = 5000
HISTORY_LIMIT = 200  # cases shown of one asset (newest first); the count says how many there are


class BadBBox(ValueError):
    """A bounding box that cannot be used; the message names why."""


def parse_bbox(text):
    """(min_lon, min_lat, max_lon, max_lat) of ``text`` ("min_lon,min_lat,max_lon,max_lat", WGS-84)."""
    parts = (text or "").split(",")
    try:
        if len(parts) != 4:
            raise ValueError
        box = tuple(float(p) for p in parts)
    except ValueError:
        raise BadBBox(_("bbox 应为 4 个以逗号分隔的数字：最小经度,最小纬度,最大经度,最大纬度")) from None
    min_lon, min_lat, max_lon, max_lat = box
    if not all(math.isfinite(v) for v in box) or not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180
                                                      and -90 <= min_lat <= 90 and -90 <= max_lat <= 90):
        raise BadBBox(_("bbox 的经度应在 -180 到 180 之间，纬度应在 -90 到 90 之间"))
    if min_lon > max_lon or min_lat > max_lat:
        raise BadBBox(_("bbox 的最小值不能大于最大值"))
    if max_lon - min_lon > MAX_BBOX_DEG or max_lat - min_lat > MAX_BBOX_DEG:
        raise BadBBox(_("bbox 过大：经度和纬度跨度都不能超过 %(deg)s 度，请放大地图") % {"deg": MAX_BBOX_DEG})
    return box


def in_bbox(qs, box):
    min_lon, min_lat, max_lon, max_lat = box
    return qs.filter(lon__gte=min_lon, lon__lte=max_lon, lat__gte=min_lat, lat__lte=max_lat)


def inventory_error(identifier, catalog_class):
    """Why ``identifier`` (already in the standard's format for ``catalog_class``) is not an asset of the
    inventory, or "": the inventory is asked only about the classes it holds."""
    of_class = Component.objects.filter(catalog_class=catalog_class)
    if of_class.filter(identifier=identifier).exists() or not of_class.exists():
        return ""
    return _("部件库中没有标识码为 %(id)s 的%(cls)s") % {"id": identifier, "cls": catalog_class.name}


class UnknownFilter(ValueError):
    """A filter naming something that does not exist (a region or grid code); ``field`` says which."""

    def __init__(self, field, message):
        self.field = field
        super().__init__(message)


def region_q(code):
    """Components in the region ``code`` (city, district, street or community), through their unit grid."""

    region = Region.objects.filter(code=code).first()
    if region is None:
        raise UnknownFilter("region", _("区划 %(code)s 不存在") % {"code": code})
    depth = {Region.Level.COMMUNITY: 0, Region.Level.STREET: 1, Region.Level.DISTRICT: 2, Region.Level.CITY: 3}[region.level]
    return Q(**{"unit_grid__community" + "__parent" * depth: region})


def search(qs, *, version=None, class_code=None, state=None, grid=None, unit_grid=None, region=None, q=None):
    """``qs`` narrowed by the list filters; an unknown region or grid raises ``UnknownFilter``."""

    if version:
        qs = qs.filter(catalog_class__version__code=version)
    if class_code:
        qs = qs.filter(catalog_class__code=class_code)
    if state:
        qs = qs.filter(state=state)
    if grid:
        if not ResponsibilityGrid.objects.filter(code=grid).exists():
            raise UnknownFilter("grid", _("责任网格 %(code)s 不存在") % {"code": grid})
        qs = qs.filter(unit_grid__responsibility_grid__code=grid)
    if unit_grid:
        qs = qs.filter(unit_grid__code=unit_grid)
    if region:
        qs = qs.filter(region_q(region))
    if q:
        qs = qs.filter(identifier__contains=q.strip())
    return qs


def layer_labels():
    """The texts of the maps' component layer (static/urbangrid/components_layer.js), for ``json_script``."""
    return {"layer": _("部件"), "zoom_in": _("放大地图以显示部件"),
            "truncated": _("部件过多，仅显示 %(n)s 个，请放大地图") % {"n": MAP_DEFAULT_LIMIT},
            "load_error": _("部件加载失败")}
