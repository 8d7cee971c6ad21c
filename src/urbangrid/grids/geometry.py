"""Geometry helpers: GeoJSON in WGS-84 stored as JSON, measured in a local metric plane.

No GeoDjango here (SpatiaLite cannot load on our machines), so geometry lives in JSON columns with a
bounding box beside it, and Shapely 2 does the work in memory. Areas and distances use a local
equirectangular projection around the city (error well under 0.5 % across a city of 50 km).
"""
import math

import shapely
from shapely.geometry import mapping, shape

M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON_EQUATOR = 111_320.0


def to_shape(geojson):
    return shape(geojson)


def to_geojson(geom):
    return mapping(geom)


def bbox(geom):
    minx, miny, maxx, maxy = geom.bounds
    return {"min_lon": minx, "min_lat": miny, "max_lon": maxx, "max_lat": maxy}


class LocalPlane:
    """An affine map from (lon, lat) degrees to metres around a reference latitude.

    Point-in-polygon answers are unchanged by an affine map, so the lookup index can work in metres
    and give nearest-road distances in metres too.
    """

    def __init__(self, ref_lat):
        self.ref_lat = ref_lat
        self.kx = M_PER_DEG_LON_EQUATOR * math.cos(math.radians(ref_lat))
        self.ky = M_PER_DEG_LAT

    def project(self, geom):
        return shapely.transform(geom, lambda c: c * (self.kx, self.ky))

    def xy(self, lon, lat):
        return lon * self.kx, lat * self.ky


def area_m2(geom):
    if geom.is_empty:
        return 0.0
    plane = LocalPlane(geom.centroid.y)
    return plane.project(geom).area


def length_m(geom):
    if geom.is_empty:
        return 0.0
    plane = LocalPlane(geom.centroid.y)
    return plane.project(geom).length
