"""WGS-84 ↔ GCJ-02 (grids/coords.py) against published reference pairs, and the datum the pages are given."""
import pytest
from django.test import Client

from urbangrid.grids.coords import GCJ02, WGS84, gcj02_to_wgs84, tile_crs, wgs84_to_gcj02

# (wgs lon, wgs lat, gcj lon, gcj lat): reference pairs published with the eviltransform library.
REFERENCE = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),  # Shanghai
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),  # Shenzhen
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),  # Beijing
]


@pytest.mark.parametrize("w_lon,w_lat,g_lon,g_lat", REFERENCE)
def test_forward_matches_reference(w_lon, w_lat, g_lon, g_lat):
    lon, lat = wgs84_to_gcj02(w_lon, w_lat)
    assert lon == pytest.approx(g_lon, abs=1e-9) and lat == pytest.approx(g_lat, abs=1e-9)


@pytest.mark.parametrize("w_lon,w_lat,g_lon,g_lat", REFERENCE)
def test_inverse_returns_the_wgs84_point_to_a_millimetre(w_lon, w_lat, g_lon, g_lat):
    lon, lat = gcj02_to_wgs84(g_lon, g_lat)
    assert lon == pytest.approx(w_lon, abs=1e-8) and lat == pytest.approx(w_lat, abs=1e-8)


def test_inverse_matches_an_independent_reference():
    # gcoord's published test value (GCJ-02 [123, 45] → WGS-84), to its 5 decimals.
    lon, lat = gcj02_to_wgs84(123, 45)
    assert lon == pytest.approx(122.99395597, abs=1e-5) and lat == pytest.approx(44.99804071, abs=1e-5)


def test_the_shift_is_hundreds_of_metres_in_china_and_none_outside():
    lon, lat = wgs84_to_gcj02(117.25, 31.86)  # the demo city (Hefei)
    assert 0.003 < lon - 117.25 < 0.008 and -0.004 < lat - 31.86 < 0
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)  # Paris
    assert gcj02_to_wgs84(151.2, -33.9) == (151.2, -33.9)  # Sydney


@pytest.mark.parametrize("url,configured,expected", [
    ("", "", WGS84),
    ("https://t{s}.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}", "", WGS84),
    ("https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}&style=8", "", GCJ02),
    ("https://wprd0{s}.amap.com/appmaptile?x={x}&y={y}&z={z}", "", GCJ02),
    ("https://rt{s}.map.gtimg.com/tile?z={z}&x={x}&y={y}", "", GCJ02),
    ("https://webrd0{s}.is.autonavi.com/appmaptile?x={x}", "wgs84", WGS84),  # the setting wins
    ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "GCJ02", GCJ02),
])
def test_tile_crs_from_setting_or_url(url, configured, expected):
    assert tile_crs(url, configured) == expected


@pytest.mark.django_db
def test_pages_get_the_datum_from_the_tile_url(settings):
    settings.URBANGRID_TILE_URL = "https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}&style=8"
    settings.URBANGRID_TILE_CRS = ""
    page = Client().get("/report/").content.decode()
    assert 'urbangrid/coords.js" data-crs="gcj02"' in page
    settings.URBANGRID_TILE_URL = ""
    page = Client().get("/report/").content.decode()
    assert 'urbangrid/coords.js" data-crs="wgs84"' in page
