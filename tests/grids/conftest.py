"""A small city for the grid tests: squares of about 100 m on a regular lattice near Beijing."""
import copy
import math
import sqlite3
import urllib.parse

import pytest
from django.db import connections

LON0, LAT0 = 116.40, 39.90
DLON = 100 / (111_320 * math.cos(math.radians(LAT0)))
DLAT = 100 / 110_574


def corner(col, row):
    """Lattice corner (col, row); rows count southwards. Rounded once, so neighbours share exact floats."""
    return [round(LON0 + col * DLON, 7), round(LAT0 - row * DLAT, 7)]


def ring(c0, r0, c1, r1):
    return [corner(c0, r0), corner(c0, r1), corner(c1, r1), corner(c1, r0), corner(c0, r0)]


def square(col, row, size=1):
    return {"type": "Polygon", "coordinates": [ring(col, row, col + size, row + size)]}


def point(col, row):
    """(lon, lat) of a lattice position, unrounded fractions allowed."""
    return LON0 + col * DLON, LAT0 - row * DLAT


def feature(props, geometry):
    return {"type": "Feature", "geometry": geometry, "properties": props}


REGIONS = [
    ("110000", "北京市", "city", None),
    ("110101", "东城区", "district", "110000"),
    ("110101001", "东华门街道", "street", "110101"),
    ("110101001001", "多福巷社区", "community", "110101001"),
    ("110101001002", "韶九社区", "community", "110101001"),
]


def unit_grid(code, col, row, rg, **extra):
    props = {"layer": "unit_grid", "code": code, "community_code": code[:12], "responsibility_grid_code": rg,
             "management_level": 1, "land_use": "居住用地", **extra}
    return feature(props, square(col, row))


_SAMPLE = {
    "type": "FeatureCollection",
    "features": [
        # Deliberately not in export order, and one unit grid without a layer.
        feature({"layer": "road_segment", "code": "R001", "name": "东华门大街", "road_class": "trunk"},
                {"type": "LineString", "coordinates": [corner(0.5, 0.5), corner(3.5, 0.5)]}),
        feature({"layer": "road_segment", "code": "R002", "name": "多福巷", "road_class": "lane"},
                {"type": "LineString", "coordinates": [corner(0, 1), corner(1, 1)]}),  # along a shared border
        *[feature({"layer": "region", "code": c, "name": n, "level": lv, "parent_code": p}, None) for c, n, lv, p in REGIONS],
        feature({"layer": "responsibility_grid", "code": "DHM-01", "name": "东华门第一网格", "region_code": "110101001",
                 "content": ["市政基础设施", "环境卫生"], "standards": "《城市容貌标准》", "patrol_frequency": "每日2次",
                 "patrol_times": "08:00-10:00, 14:00-16:00", "description": ""}, None),  # geometry: union of its grids
        feature({"layer": "responsibility_grid", "code": "DHM-02", "name": "东华门第二网格", "region_code": "110101001",
                 "content": [{"line": "执法", "note": "夜间"}], "standards": "", "patrol_frequency": "每日1次",
                 "patrol_times": "", "description": "示例",
                 "patrol_route": {"type": "LineString", "coordinates": [corner(2, 0), corner(4, 2)]}},
                {"type": "Polygon", "coordinates": [ring(2, 0, 4, 2)]}),
        unit_grid("110101001001001", 0, 0, "DHM-01", name="故宫东侧", survey={"year": 2024, "by": "测绘院"}),
        unit_grid("110101001001002", 1, 0, "DHM-01"),
        unit_grid("110101001001003", 0, 1, "DHM-01", tags=["商业", "居住"]),
        {"type": "Feature", "geometry": square(1, 1),
         "properties": {"code": "110101001001004", "community_code": "110101001001", "responsibility_grid_code": "DHM-01"}},
        unit_grid("110101001002001", 2, 0, "DHM-02"),
        unit_grid("110101001002002", 3, 0, "DHM-02"),
        unit_grid("110101001002003", 2, 1, "DHM-02"),
        unit_grid("110101001002004", 3, 1, "DHM-02", management_level=2),
    ],
}


@pytest.fixture
def sample_fc():
    return copy.deepcopy(_SAMPLE)


def make_regions():
    """The region tree as rows; returns the two communities."""
    from urbangrid.grids.models import Region

    rows = {}
    for code, name, level, parent in REGIONS:
        rows[code] = Region.objects.create(code=code, name=name, level=level, parent=rows.get(parent))
    return rows["110101001001"], rows["110101001002"]


@pytest.fixture
def cross_process_db(transactional_db, tmp_path):
    """A DATABASE_URL another process can use to reach the test database (committed data only).

    PostgreSQL (or an SQLite file) is shared as is. The in-memory SQLite test database is copied to a
    file and the default connection is pointed at that file for the test, then put back.
    """
    conn = connections["default"]
    if conn.vendor != "sqlite":
        s = conn.settings_dict
        auth = urllib.parse.quote(s["USER"] or "") + (":" + urllib.parse.quote(s["PASSWORD"]) if s["PASSWORD"] else "")
        yield f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        return
    if not conn.is_in_memory_db():
        yield f"sqlite:///{conn.settings_dict['NAME']}"
        return
    path = tmp_path / "shared.sqlite3"
    conn.ensure_connection()
    target = sqlite3.connect(path)
    conn.connection.backup(target)  # the migrated schema, without running migrations again
    target.close()
    file_conn = conn.__class__({**conn.settings_dict, "NAME": str(path)}, "default")
    connections["default"] = file_conn
    try:
        yield f"sqlite:///{path}"
    finally:
        file_conn.close()
        connections["default"] = conn
