"""Point → grid lookup (定位): for a WGS-84 point, its unit grid, responsibility grid, community, street,
district and nearest road segment.

Each process keeps a Shapely STRtree of the unit grids and one of the road segments, in a local metric
plane. The index is rebuilt when ``GridDataVersion`` changes; a process re-reads that version at most
every ``URBANGRID_GRID_VERSION_TTL`` seconds, so an edit made through another app server is seen within
that time without a database query per lookup. An edit made in this process drops the index at once
(``grid_data_changed``).
"""
import gc
import math
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import shapely
from django.conf import settings
from django.utils.translation import gettext as _
from shapely.geometry import shape

from urbangrid.core.tenancy import PerCity

from . import geometry as geo
from .models import GridDataVersion, Region, RoadSegment, UnitGrid, grid_data_changed


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


@contextmanager
def gc_paused():
    """No cyclic garbage collection while building 100,000s of JSON lists and shapes: the collector
    would rescan them over and over (a 100,000-grid index builds three times faster without it)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def fast_shape(geojson):
    """shapely's ``shape()``, faster for the common Polygon (it adds up over 100,000 grids)."""
    if geojson.get("type") == "Polygon" and geojson.get("coordinates"):
        shell, *holes = geojson["coordinates"]
        return shapely.polygons(shell, holes=[shapely.linearrings(h) for h in holes] or None)
    return shape(geojson)


# The C ufunc behind shapely.intersects_xy: the public wrapper adds a few microseconds per call,
# which is most of a single-point lookup. A point intersects a polygon iff the polygon covers it.
_intersects_xy = getattr(shapely.lib, "intersects_xy", None) or shapely.intersects_xy
# A shape whose bounding box spans more cells than this is checked on every lookup instead.
_MAX_CELLS_PER_SHAPE = 64


class _Index:
    """An immutable snapshot of the geography for one grid data version.

    Single points go through a uniform cell hash (cell ≈ a typical grid's size, each cell lists the
    grids whose bounding box touches it, in code order) and a prepared point-in-polygon test: about
    twice as fast as an STRtree query per point. Arrays of points use the STRtree.
    """

    def __init__(self, version):
        self.version = version
        # Sorted by code in Python (database collations differ): the lowest index among hits is the
        # lowest code, the deterministic choice for a point on a shared border.
        rows = sorted(UnitGrid.objects.exclude(geometry=None).values_list(
            "code", "pk", "geometry", "min_lat", "max_lat", "community_id",
            "responsibility_grid_id", "responsibility_grid__code", "responsibility_grid__name"))
        # Regions after the grids: an import committing between the two statements then cannot leave a
        # grid whose community was not read (a grid of a community deleted meanwhile is gone too: skipped).
        regions = {pk: (pk, code, name, parent) for pk, code, name, parent in Region.objects.values_list("pk", "code", "name", "parent_id")}
        rows = [r for r in rows if r[5] in regions]
        ref_lat = float(np.mean([(r[3] + r[4]) / 2 for r in rows])) if rows else 30.0
        self.plane = geo.LocalPlane(ref_lat)
        self.kx, self.ky = self.plane.kx, self.plane.ky
        shapes = self.plane.project(np.array([fast_shape(r[2]) for r in rows], dtype=object))
        shapely.prepare(shapes)
        self.shapes = shapes.tolist()
        self.tree = shapely.STRtree(shapes) if rows else None
        self.codes = np.array([r[0] for r in rows] + [None], dtype=object)  # last slot: outside
        self._build_cells(shapely.bounds(shapes) if rows else np.empty((0, 4)))
        none = (None, None, None, None)
        self.attrs = []
        for code, pk, _geom, _lo, _hi, community_id, rg_id, rg_code, rg_name in rows:
            community = regions[community_id]
            street = regions.get(community[3], none)
            district = regions.get(street[3], none)
            self.attrs.append((pk, code, rg_id, rg_code, rg_name, *community[:3], *street[:3], *district[:3]))
        segs = sorted(RoadSegment.objects.exclude(geometry=None).values_list("code", "pk", "name", "geometry"))
        self.segments = [(pk, code, name) for code, pk, name, _ in segs]
        seg_shapes = [self.plane.project(fast_shape(g)) for *_, g in segs]
        self.seg_tree = shapely.STRtree(seg_shapes) if seg_shapes else None

    def _build_cells(self, bounds):
        sizes = np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
        self.cell = max(float(np.median(sizes)), 1.0) if len(sizes) else 1.0
        lo = np.floor(bounds[:, :2] / self.cell).astype(np.int64)
        hi = np.floor(bounds[:, 2:] / self.cell).astype(np.int64)
        span = (hi - lo + 1).prod(axis=1)
        big = span > _MAX_CELLS_PER_SHAPE
        # (index, bounding box, shape): the bounding box test in Python is ~20 times cheaper than the
        # point-in-polygon call and settles most candidates of a cell.
        entries = [(i, *b, s) for i, b, s in zip(range(len(self.shapes)), bounds.tolist(), self.shapes)]
        cells = {}
        for i in np.flatnonzero(~big).tolist():  # ascending, so every cell's list is in code order
            for ix in range(lo[i, 0], hi[i, 0] + 1):
                for iy in range(lo[i, 1], hi[i, 1] + 1):
                    cells.setdefault((ix, iy), []).append(entries[i])
        self.cells = {key: tuple(ids) for key, ids in cells.items()}
        self.big = tuple(entries[i] for i in np.flatnonzero(big).tolist())

    def hits(self, x, y):
        """Index of the lowest-code grid covering the point (x, y) in the local plane, or None."""
        try:
            cand = self.cells.get((math.floor(x / self.cell), math.floor(y / self.cell)))
        except (ValueError, OverflowError):  # NaN or infinite coordinates
            return None
        best = None
        if cand:
            for i, x0, y0, x1, y1, shp in cand:
                if x0 <= x <= x1 and y0 <= y <= y1 and _intersects_xy(shp, x, y):
                    best = i
                    break
        for i, x0, y0, x1, y1, shp in self.big:
            if best is not None and i >= best:
                break
            if x0 <= x <= x1 and y0 <= y <= y1 and _intersects_xy(shp, x, y):
                best = i
                break
        return best

    def nearest_segment(self, x, y):
        if self.seg_tree is None:
            return None
        pt = shapely.Point(x, y)
        idx, dist = self.seg_tree.query_nearest(pt, return_distance=True, all_matches=False)
        if len(idx) == 0:
            return None
        return self.segments[int(idx[0])], float(dist[0])


class VersionedIndex:
    """A process's index of the geography, built by ``_build(version)`` for one grid data version (the locator's
    here, the geocoder's); thread-safe. The version is re-read at most every ``URBANGRID_GRID_VERSION_TTL``
    seconds; ``invalidate()`` (an edit of this process: ``grid_data_changed``) drops the index at once."""

    def __init__(self):
        self._lock = threading.Lock()
        self._index = None
        self._checked_at = -math.inf  # never: a monotonic clock may start near 0 (a machine just booted)
        self._generation = 0  # +1 per invalidate()

    def _build(self, version):
        raise NotImplementedError

    def index(self):
        index = self._index
        if index is not None and time.monotonic() - self._checked_at < settings.URBANGRID_GRID_VERSION_TTL:
            return index
        now = time.monotonic()
        generation = self._generation
        version = GridDataVersion.current()
        if index is None or index.version != version:
            with self._lock:
                index = self._index  # re-read: another thread may have rebuilt (or invalidated) meanwhile
                if index is None or index.version != version:
                    index = self._index = self._build(version)
        # Invalidated while this was read (an edit of this process committed meanwhile): what was read may be
        # older than the edit, so the next call reads the version again instead of trusting it for the TTL.
        self._checked_at = now if self._generation == generation else -math.inf
        return index

    def invalidate(self):
        self._generation += 1
        self._index = None


class Locator(VersionedIndex):
    """The process-wide lookup service; thread-safe, rebuilds lazily on a new grid data version."""

    def _build(self, version):
        with gc_paused():
            return _Index(version)

    @property
    def version(self):
        """The grid data version of the index in use (None before the first lookup)."""
        index = self._index
        return None if index is None else index.version

    def find_unit_grid(self, lon, lat):
        """The unit grid's attribute tuple for a point, or None (the fast path, no road lookup)."""
        index = self.index()
        i = index.hits(lon * index.kx, lat * index.ky)
        return None if i is None else index.attrs[i]

    def locate(self, lon, lat, with_road=True):
        """Answer a ``Location`` or raise ``OutsideManagedArea``."""
        lon, lat = _check_coordinates(lon, lat)
        index = self.index()
        x, y = lon * index.kx, lat * index.ky
        i = index.hits(x, y)
        if i is None:
            raise OutsideManagedArea(lon, lat)
        if with_road:
            near = index.nearest_segment(x, y)
            if near is not None:
                (seg_id, seg_code, seg_name), dist = near
                return Location(lon, lat, *index.attrs[i], seg_id, seg_code, seg_name, round(dist, 1))
        return Location(lon, lat, *index.attrs[i])

    def locate_points(self, points):
        """``Location`` (no road) per (lon, lat) pair, None for a point outside or a bad one: one version check
        for all of them (a page of cases), where ``locate`` checks per call."""
        index = self.index()
        out = []
        for lon, lat in points:
            try:
                lon, lat = _check_coordinates(lon, lat)
            except ValueError:
                out.append(None)
                continue
            i = index.hits(lon * index.kx, lat * index.ky)
            out.append(None if i is None else Location(lon, lat, *index.attrs[i]))
        return out

    def locate_many(self, lons, lats):
        """Unit grid codes for arrays of points (None outside), one vectorised tree query."""
        index = self.index()
        n = len(lons)
        if index.tree is None or not n:
            return [None] * n
        xs = np.asarray(lons, dtype=float) * index.kx
        ys = np.asarray(lats, dtype=float) * index.ky
        points, grids = index.tree.query(shapely.points(xs, ys), predicate="covered_by")
        best = np.full(n, len(index.codes) - 1)  # the "outside" slot
        np.minimum.at(best, points, grids)  # lowest code per point
        return index.codes[best].tolist()


def _check_coordinates(lon, lat):
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError):
        raise ValueError(_("经纬度必须是数字")) from None
    if not (-180 <= lon <= 180) or not (-90 <= lat <= 90) or lon != lon or lat != lat:
        raise ValueError(_("经纬度超出范围：经度 -180~180，纬度 -90~90"))
    return lon, lat


locator = PerCity(Locator)  # each city its own grids
grid_data_changed.connect(lambda **_: locator.invalidate(), weak=False, dispatch_uid="locator-invalidate")
