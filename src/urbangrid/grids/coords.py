"""WGS-84 ↔ GCJ-02 (火星坐标, the offset datum Chinese map tiles such as AMap and Tencent are drawn in).

We store and exchange WGS-84 only (GPS, Open311, the locator). When the configured tile layer is in
GCJ-02, the browser shifts what it draws onto the tiles and shifts clicked points back; this module is
the Python twin of ``static/urbangrid/coords.js`` (same constants, same iteration) and decides which
datum the pages use (``tile_crs``).
"""
import math
import re

from urbangrid.core.tenancy import setting as city_setting

WGS84, GCJ02 = "wgs84", "gcj02"
# Krasovsky 1940 ellipsoid, as the published GCJ-02 algorithm uses it.
_A = 6378245.0
_EE = 0.00669342162296594323
# Tile hosts known to serve GCJ-02: AMap (autonavi/amap) and Tencent (gtimg).
_GCJ_HOSTS = re.compile(r"autonavi|amap|gtimg", re.IGNORECASE)


def tile_crs(url=None, configured=None):
    """The datum of the tile layer: URBANGRID_TILE_CRS when set, else gcj02 for AMap/Tencent URLs, else wgs84."""
    configured = (city_setting("URBANGRID_TILE_CRS") if configured is None else configured or "").strip().lower()
    if configured in (WGS84, GCJ02):
        return configured
    url = city_setting("URBANGRID_TILE_URL") if url is None else url
    return GCJ02 if url and _GCJ_HOSTS.search(url) else WGS84


def out_of_china(lon, lat):
    """GCJ-02 applies inside China's bounding box only; elsewhere both datums are the same."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x, y):
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x, y):
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _delta(lon, lat):
    d_lat = _transform_lat(lon - 105.0, lat - 35.0)
    d_lon = _transform_lon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon, lat):
    """(lon, lat) in WGS-84 → GCJ-02."""
    if out_of_china(lon, lat):
        return lon, lat
    d_lon, d_lat = _delta(lon, lat)
    return lon + d_lon, lat + d_lat


def gcj02_to_wgs84(lon, lat, tolerance=1e-9, max_iter=30):
    """(lon, lat) in GCJ-02 → WGS-84, by fixed-point iteration on the forward transform (to ~1 mm)."""
    if out_of_china(lon, lat):
        return lon, lat
    w_lon, w_lat = lon, lat
    for _i in range(max_iter):
        g_lon, g_lat = wgs84_to_gcj02(w_lon, w_lat)
        e_lon, e_lat = lon - g_lon, lat - g_lat
        w_lon, w_lat = w_lon + e_lon, w_lat + e_lat
        if abs(e_lon) < tolerance and abs(e_lat) < tolerance:
            break
    return w_lon, w_lat
