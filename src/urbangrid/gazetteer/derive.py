"""Gazetteer data derived from the grid data: roads from the road segments, intersections from the road
geometry, doorplates numbered along a road. Plain functions over Shapely 2 in a local metric plane."""
import math
import re

import shapely
from django.db import transaction
from shapely.geometry import mapping

from urbangrid.grids import geometry as geo
from urbangrid.grids.models import GridDataVersion, RoadSegment
from urbangrid.grids.signals import muted

from .models import Doorplate, Intersection, Road

# "长江路（1段）", "长江路(东段)", "长江路 2段": the road's name is what comes before the section mark.
_SECTION = re.compile(r"\s*[（(][^（）()]*[)）]\s*$|\s*[东西南北中上下一二三四五六七八九十\d]+段\s*$")


def road_name_of(segment_name):
    return _SECTION.sub("", segment_name).strip() or segment_name.strip()


def _merged(shapes):
    merged = shapely.line_merge(shapely.union_all(shapes))
    return merged


@transaction.atomic
def roads_from_segments():
    """One ``Road`` per segment base name, its geometry the merged segments; returns {name: road}."""
    groups = {}
    for seg in RoadSegment.objects.exclude(geometry=None).order_by("code"):
        groups.setdefault(road_name_of(seg.name), []).append(seg)
    roads = {}
    with muted():
        for name, segs in groups.items():
            line = _merged([s.shape for s in segs])
            road, _ = Road.objects.get_or_create(name=name)
            road.geometry = mapping(line)
            road.save()
            road.segments.set(segs)
            roads[name] = road
    GridDataVersion.bump()
    return roads


def _plane(roads):
    lats = [(r.min_lat + r.max_lat) / 2 for r in roads]
    return geo.LocalPlane(sum(lats) / len(lats) if lats else 30.0)


@transaction.atomic
def derive_intersections(roads=None):
    """Replace every intersection by the crossings of the roads' geometry (one per crossing point)."""
    roads = sorted(roads or Road.objects.exclude(geometry=None), key=lambda r: r.name)
    with muted():
        Intersection.objects.all().delete()
        shapes = [r.shape for r in roads]
        tree = shapely.STRtree(shapes)
        rows = []
        for i, shp in enumerate(shapes):
            for j in sorted(int(k) for k in tree.query(shp, predicate="intersects")):
                if j <= i:
                    continue
                crossing = shapely.intersection(shp, shapes[j])
                for part in shapely.get_parts(crossing):
                    pt = part if part.geom_type == "Point" else part.centroid  # an overlap: its middle
                    rows.append(Intersection(road_a=roads[i], road_b=roads[j], lon=round(pt.x, 7), lat=round(pt.y, 7)))
        Intersection.objects.bulk_create(rows)
    GridDataVersion.bump()
    return rows


def doorplate_points(line_lonlat, plane, count_per_side, spacing_m=25.0, offset_m=12.0):
    """(number, lon, lat) along a line from its start: odd numbers on the left, even on the right, number n at
    ((n + 1) // 2 - 0.5) × spacing from the start, ``offset_m`` off the centre line."""
    line = plane.project(line_lonlat)
    out = []
    for k in range(1, count_per_side + 1):
        d = (k - 0.5) * spacing_m
        if d > line.length:
            break
        p = line.interpolate(d)
        q = line.interpolate(min(d + 1.0, line.length)) if d + 1.0 <= line.length else p
        r = line.interpolate(max(d - 1.0, 0.0))
        dx, dy = (q.x - r.x), (q.y - r.y)
        norm = math.hypot(dx, dy) or 1.0
        lx, ly = -dy / norm, dx / norm  # the left normal
        for number, side in ((2 * k - 1, 1.0), (2 * k, -1.0)):
            x, y = p.x + side * offset_m * lx, p.y + side * offset_m * ly
            out.append((number, round(x / plane.kx, 7), round(y / plane.ky, 7)))
    return out


@transaction.atomic
def number_doorplates(roads, spacing_m=25.0, offset_m=12.0):
    """Doorplates along every road from its start (west or north end first), replacing the road's numbers."""
    plane = _plane(roads)
    rows = []
    with muted():
        Doorplate.objects.filter(road__in=roads).delete()
        for road in roads:
            line = road.shape
            if line.geom_type != "LineString":
                line = max(shapely.get_parts(line), key=lambda g: g.length)
            (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
            if (abs(x1 - x0) >= abs(y1 - y0) and x1 < x0) or (abs(x1 - x0) < abs(y1 - y0) and y1 > y0):
                line = shapely.reverse(line)  # west → east, north → south
            for number, lon, lat in doorplate_points(line, plane, 10**5, spacing_m, offset_m):
                rows.append(Doorplate(road=road, number=number, lon=lon, lat=lat))
        Doorplate.objects.bulk_create(rows, batch_size=2000)
    GridDataVersion.bump()
    return rows
