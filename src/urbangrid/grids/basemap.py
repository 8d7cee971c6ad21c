"""The city's own base map: unit-grid outlines, road segments and district borders as one GeoJSON document.

Drawn by every Leaflet map when no tile URL is configured (``static/urbangrid/basemap.js``), so a case point
sits among the grids and roads it belongs to instead of on a blank rectangle. Built from the grid data and
cached per ``GridDataVersion``: any edit to geography bumps the version, so the next request builds anew
(old entries simply expire).

Scopes: ``staff`` carries unit-grid codes and district names; ``public`` (anonymous visitors of the citizens'
pages) carries the outlines, road names and district names only — no codes of the internal grid system.
District borders are the union of their unit grids (regions hold no geometry of their own).
"""
import json

from django.core.cache import cache
from shapely import union_all
from shapely.geometry import mapping

from . import geometry as geo
from .models import GridDataVersion, Region, RoadSegment, UnitGrid

SCOPES = ("staff", "public")
CACHE_SECONDS = 24 * 3600
DIGITS = 6  # about 0.1 m: plenty for a base layer, and a third smaller than full floats


def _round(coords):
    if isinstance(coords, (int, float)):
        return round(coords, DIGITS)
    return [_round(c) for c in coords]


def _geometry(g):
    return {"type": g["type"], "coordinates": _round(g["coordinates"])}


def build(scope):
    """The FeatureCollection for ``scope``; each feature's ``layer`` is ``grid``, ``road`` or ``district``."""
    if scope not in SCOPES:
        raise ValueError(scope)
    staff = scope == "staff"
    features = []
    by_district = {}
    rows = UnitGrid.objects.exclude(geometry=None).select_related("community__parent").only(
        "code", "geometry", "community__parent__parent_id").order_by("code")
    for ug in rows.iterator(chunk_size=2000):
        props = {"layer": "grid"}
        if staff:
            props["code"] = ug.code
        features.append({"type": "Feature", "geometry": _geometry(ug.geometry), "properties": props})
        district_id = ug.community.parent.parent_id if ug.community and ug.community.parent else None
        if district_id:
            by_district.setdefault(district_id, []).append(ug.geometry)
    for seg in RoadSegment.objects.exclude(geometry=None).only("code", "name", "road_class", "geometry").order_by("code"):
        props = {"layer": "road", "name": seg.name, "road_class": seg.road_class}
        if staff:
            props["code"] = seg.code
        features.append({"type": "Feature", "geometry": _geometry(seg.geometry), "properties": props})
    names = dict(Region.objects.filter(pk__in=by_district).values_list("pk", "name"))
    for district_id, shapes in sorted(by_district.items()):
        outline = union_all([geo.to_shape(s) for s in shapes]).boundary  # borders only: lines draw no fill
        features.append({"type": "Feature", "geometry": _geometry(mapping(outline)),
                         "properties": {"layer": "district", "name": names.get(district_id, "")}})
    return {"type": "FeatureCollection", "features": features}


def cached(scope):
    """(version, JSON text) for ``scope``, built once per grid data version."""
    version = GridDataVersion.current()
    key = f"ug:basemap:{scope}:{version}"
    body = cache.get(key)
    if body is None:
        body = json.dumps(build(scope), ensure_ascii=False, separators=(",", ":"))
        cache.set(key, body, CACHE_SECONDS)
    return version, body
