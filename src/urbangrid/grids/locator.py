"""Point → grid lookup (定位): for a WGS-84 point, its unit grid, responsibility grid, community, street,
district and nearest road segment.

Each process keeps a Shapely STRtree of the unit grids and one of the road segments, in a local metric
plane. The index is rebuilt when ``GridDataVersion`` changes; a process re-reads that version at most
every ``URBANGRID_GRID_VERSION_TTL`` seconds, so an edit made through another app server is seen within
that time without a database query per lookup.
"""
import threading
import time
from dataclasses import dataclass

import numpy as np
import shapely
from django.conf import settings
from django.utils.translation import gettext as _

from . import geometry as geo


class OutsideManagedArea(Exception):
    """The point is in no unit grid of the managed area (不在管理范围内)."""

    def __init__(self, lon, lat):
        self.lon, self.lat = lon, lat
        super().__init__(_("该位置（%(lon).6f, %(lat).6f）不在管理范围内") % {"lon": lon, "lat": lat})


@dataclass(frozen=True, slots=True)
class Location:
    lon: float
    lat: float
    unit_grid_id: int
    unit_grid_code: str
    responsibility_grid_id: int | None
    responsibility_grid_code: str | None
    responsibility_grid_name: str | None
    community_id: int
    community_code: str
    community_name: str
    street_id: int | None
    street_code: str | None
    street_name: str | None
    district_id: int | None
    district_code: str | None
    district_name: str | None
    road_segment_id: int | None = None
    road_segment_code: str | None = None
    road_segment_name: str | None = None
    road_distance_m: float | None = None

    def as_dict(self):
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


class _Index:
    """An immutable snapshot of the geography for one grid data version."""

    def __init__(self, version):
        from .models import Region, RoadSegment, UnitGrid

        self.version = version
        regions = {r.pk: r for r in Region.objects.all()}
        rows = list(
            UnitGrid.objects.exclude(geometry=None)
            .select_related("responsibility_grid")
            .order_by("code")
            .only("pk", "code", "geometry", "community_id", "responsibility_grid__code", "responsibility_grid__name")
        )
        ref_lat = float(np.mean([(u.min_lat + u.max_lat) / 2 for u in rows])) if rows else 30.0
        self.plane = geo.LocalPlane(ref_lat)
        shapes = [self.plane.project(geo.to_shape(u.geometry)) for u in rows]
        for s in shapes:
            shapely.prepare(s)
        self.tree = shapely.STRtree(shapes) if shapes else None
        # Rows are sorted by code, so the lowest index among hits is the lowest code: the
        # deterministic choice for a point on a shared border.
        self.attrs = []
        for u in rows:
            community = regions.get(u.community_id)
            street = regions.get(community.parent_id) if community else None
            district = regions.get(street.parent_id) if street else None
            rg = u.responsibility_grid
            self.attrs.append((
                u.pk, u.code,
                rg.pk if rg else None, rg.code if rg else None, rg.name if rg else None,
                community.pk, community.code, community.name,
                street.pk if street else None, street.code if street else None, street.name if street else None,
                district.pk if district else None, district.code if district else None, district.name if district else None,
            ))
        segs = list(RoadSegment.objects.exclude(geometry=None).order_by("code").only("pk", "code", "name", "geometry"))
        self.segments = [(s.pk, s.code, s.name) for s in segs]
        seg_shapes = [self.plane.project(geo.to_shape(s.geometry)) for s in segs]
        self.seg_tree = shapely.STRtree(seg_shapes) if seg_shapes else None

    def hits(self, x, y):
        if self.tree is None:
            return None
        idx = self.tree.query(shapely.Point(x, y), predicate="covered_by")
        if len(idx) == 0:
            return None
        return int(idx.min())

    def nearest_segment(self, x, y):
        if self.seg_tree is None:
            return None
        pt = shapely.Point(x, y)
        idx, dist = self.seg_tree.query_nearest(pt, return_distance=True, all_matches=False)
        if len(idx) == 0:
            return None
        return self.segments[int(idx[0])], float(dist[0])


class Locator:
    """The process-wide lookup service; thread-safe, rebuilds lazily on a new grid data version."""

    def __init__(self):
        self._lock = threading.Lock()
        self._index = None
        self._checked_at = 0.0

    def _current_index(self):
        from .models import GridDataVersion

        now = time.monotonic()
        index = self._index
        ttl = settings.URBANGRID_GRID_VERSION_TTL
        if index is not None and now - self._checked_at < ttl:
            return index
        version = GridDataVersion.current()
        if index is None or index.version != version:
            with self._lock:
                if self._index is None or self._index.version != version:
                    self._index = _Index(version)
                index = self._index
        self._checked_at = now
        return index

    def invalidate(self):
        self._index = None

    def find_unit_grid(self, lon, lat):
        """The unit grid's attribute tuple for a point, or None (the fast path, no road lookup)."""
        index = self._current_index()
        x, y = index.plane.xy(lon, lat)
        i = index.hits(x, y)
        return None if i is None else index.attrs[i]

    def locate(self, lon, lat, with_road=True):
        """Answer a ``Location`` or raise ``OutsideManagedArea``."""
        lon, lat = _check_coordinates(lon, lat)
        index = self._current_index()
        x, y = index.plane.xy(lon, lat)
        i = index.hits(x, y)
        if i is None:
            raise OutsideManagedArea(lon, lat)
        loc = Location(lon, lat, *index.attrs[i])
        if with_road:
            near = index.nearest_segment(x, y)
            if near is not None:
                (seg_id, seg_code, seg_name), dist = near
                loc = Location(lon, lat, *index.attrs[i], seg_id, seg_code, seg_name, round(dist, 1))
        return loc

    def locate_many(self, lons, lats):
        """Unit grid codes for arrays of points (None outside), one vectorised tree query."""
        index = self._current_index()
        result = [None] * len(lons)
        if index.tree is None or not len(lons):
            return result
        xs = np.asarray(lons, dtype=float) * index.plane.kx
        ys = np.asarray(lats, dtype=float) * index.plane.ky
        pts = shapely.points(xs, ys)
        pairs = index.tree.query(pts, predicate="covered_by")
        best = {}
        for p, g in zip(pairs[0].tolist(), pairs[1].tolist()):
            if p not in best or g < best[p]:
                best[p] = g
        for p, g in best.items():
            result[p] = index.attrs[g][1]
        return result


def _check_coordinates(lon, lat):
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError):
        raise ValueError(_("经纬度必须是数字")) from None
    if not (-180 <= lon <= 180) or not (-90 <= lat <= 90) or lon != lon or lat != lat:
        raise ValueError(_("经纬度超出范围：经度 -180~180，纬度 -90~90"))
    return lon, lat


locator = Locator()
