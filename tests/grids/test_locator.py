import os
import subprocess
import sys
from pathlib import Path

import pytest

from urbangrid.grids.locator import OutsideManagedArea, locator
from urbangrid.grids.models import GridDataVersion, ResponsibilityGrid, RoadSegment, UnitGrid

from .conftest import corner, make_regions, point, ring, square

ROOT = Path(__file__).resolve().parents[2]


def grid(code, geometry, community, rg=None):
    return UnitGrid.objects.create(code=code, geometry=geometry, community=community, responsibility_grid=rg)


@pytest.fixture
def city(db):
    """Four squares meeting at corner (1, 1), a donut around an island, a lone donut, one road."""
    c1, c2 = make_regions()
    rg = ResponsibilityGrid.objects.create(code="DHM-01", name="东华门第一网格", region=c1)
    # Codes deliberately not in reading order, to show the lowest code wins, not the first created.
    grid("110101001001004", square(0, 0), c1, rg)
    grid("110101001001002", square(1, 0), c1, rg)
    grid("110101001001003", square(0, 1), c1)
    grid("110101001001001", square(1, 1), c1)
    # A donut (a 300 m square with a 100 m hole) with an island grid filling the hole.
    grid("110101001002001", {"type": "Polygon", "coordinates": [ring(3, 0, 6, 3), ring(4, 1, 5, 2)]}, c2)
    grid("110101001002002", square(4, 1), c2)
    # A donut whose hole nobody manages.
    grid("110101001002003", {"type": "Polygon", "coordinates": [ring(7, 0, 10, 3), ring(8, 1, 9, 2)]}, c2)
    RoadSegment.objects.create(code="R001", name="东华门大街", road_class="trunk",
                               geometry={"type": "LineString", "coordinates": [corner(0, 3), corner(10, 3)]})
    return c1, c2


def test_inside(city):
    loc = locator.locate(*point(0.5, 0.5))
    assert loc.unit_grid_code == "110101001001004"
    assert (loc.responsibility_grid_code, loc.responsibility_grid_name) == ("DHM-01", "东华门第一网格")
    assert (loc.community_code, loc.street_code, loc.district_code) == ("110101001001", "110101001", "110101")
    assert (loc.community_name, loc.street_name, loc.district_name) == ("多福巷社区", "东华门街道", "东城区")
    assert locator.find_unit_grid(*point(1.5, 0.5))[1] == "110101001001002"


def test_shared_border_goes_to_the_lowest_code(city):
    lon, lat = corner(1, 0.5)  # on the border of ...004 (west) and ...002 (east)
    assert locator.locate(lon, lat, with_road=False).unit_grid_code == "110101001001002"
    lon, lat = corner(0.5, 1)  # border of ...004 (north) and ...003 (south)
    assert locator.locate(lon, lat, with_road=False).unit_grid_code == "110101001001003"


def test_shared_vertex_of_four_grids(city):
    lon, lat = corner(1, 1)
    assert locator.locate(lon, lat).unit_grid_code == "110101001001001"
    assert locator.locate_many([lon], [lat]) == ["110101001001001"]


def test_hole_of_a_polygon(city):
    # In the donut's hole the island answers, never the donut.
    assert locator.locate(*point(4.5, 1.5)).unit_grid_code == "110101001002002"
    assert locator.locate(*point(3.5, 1.5)).unit_grid_code == "110101001002001"
    # An empty hole is outside the managed area.
    with pytest.raises(OutsideManagedArea):
        locator.locate(*point(8.5, 1.5))
    assert locator.find_unit_grid(*point(8.5, 1.5)) is None


def test_outside(city):
    lon, lat = point(-5, -5)
    with pytest.raises(OutsideManagedArea) as exc:
        locator.locate(lon, lat)
    assert str(exc.value) == f"该位置（{lon:.6f}, {lat:.6f}）不在管理范围内"
    assert (exc.value.lon, exc.value.lat) == (lon, lat)
    for bad in ((200, 39.9), (116.4, float("nan")), ("东", 39.9)):
        with pytest.raises(ValueError):
            locator.locate(*bad)
    assert locator.find_unit_grid(float("nan"), 39.9) is None


def test_nearest_road_and_its_distance(city):
    RoadSegment.objects.create(code="R002", name="南池子大街", road_class="secondary",
                               geometry={"type": "LineString", "coordinates": [corner(2, 0), corner(2, 3)]})
    loc = locator.locate(*point(3.5, 2.5))  # 50 m north of R001 (row 3), 150 m east of R002 (column 2)
    assert (loc.road_segment_code, loc.road_segment_name) == ("R001", "东华门大街")
    assert loc.road_distance_m == pytest.approx(50, abs=0.2)
    loc = locator.locate(*point(1.5, 0.5))  # 50 m west of R002, 250 m north of R001
    assert loc.road_segment_code == "R002" and loc.road_distance_m == pytest.approx(50, abs=0.2)
    assert loc.road_segment_id == RoadSegment.objects.get(code="R002").pk
    bare = locator.locate(*point(1.5, 0.5), with_road=False)
    assert bare.road_segment_code is None and bare.road_distance_m is None
    assert bare.as_dict()["unit_grid_code"] == "110101001001002"


def test_locate_many_agrees_with_locate(city):
    pts = [point(0.5, 0.5), corner(1, 0.5), corner(1, 1), point(4.5, 1.5), point(8.5, 1.5), point(-5, -5)]
    single = []
    for lon, lat in pts:
        found = locator.find_unit_grid(lon, lat)
        single.append(found[1] if found else None)
    assert locator.locate_many([p[0] for p in pts], [p[1] for p in pts]) == single
    assert single[-2:] == [None, None]
    assert locator.locate_many([], []) == []


def _bump_elsewhere():
    """The version raised as another process's edit raises it: the row only (no signal reaches this process)."""
    from django.db.models import F

    GridDataVersion.objects.filter(pk=1).update(version=F("version") + 1)


def test_ttl_caches_the_index_within_a_process(city, settings):
    settings.URBANGRID_GRID_VERSION_TTL = 3600
    locator.locate(*point(0.5, 0.5))
    _bump_elsewhere()  # this process does not look for an hour
    assert locator._index.version == GridDataVersion.current() - 1
    locator.locate(*point(0.5, 0.5))
    assert locator._index.version == GridDataVersion.current() - 1
    settings.URBANGRID_GRID_VERSION_TTL = 0
    locator.locate(*point(0.5, 0.5))
    assert locator._index.version == GridDataVersion.current()


def test_an_edit_in_this_process_is_seen_at_once_whatever_the_ttl(city, settings):
    """The process that edits the geography drops its own indexes (the locator's and the geocoder's) at the edit,
    without reading the version again: an hour's TTL does not delay it."""
    from urbangrid.gazetteer.geocoder import geocoder

    settings.URBANGRID_GRID_VERSION_TTL = 3600
    moved_to = point(12.5, 0.5)  # nothing is there yet
    assert locator.locate(*point(0.5, 0.5)).unit_grid_code == "110101001001004"
    with pytest.raises(OutsideManagedArea):
        locator.locate(*moved_to)
    geocoder.index()
    held = geocoder._index
    g = UnitGrid.objects.get(code="110101001001004")
    g.geometry = square(12, 0)
    g.save()  # the post_save signal bumps the grid data version
    assert locator.locate(*moved_to).unit_grid_code == "110101001001004"
    with pytest.raises(OutsideManagedArea):
        locator.locate(*point(0.5, 0.5))
    assert geocoder._index is None or geocoder._index is not held
    # a bump made as another process's, with the TTL not yet passed, is not seen: the edit above was, without it
    seen = locator._index.version
    _bump_elsewhere()
    locator.locate(*moved_to)
    assert locator._index.version == seen


@pytest.mark.django_db
def test_an_index_overtaken_by_an_edit_reads_the_version_again_on_a_machine_just_booted(settings, monkeypatch,
                                                                                      django_assert_num_queries):
    """An index built while an edit of this process committed is used once, then the version is read again,
    whatever the monotonic clock reads: it starts near 0 on a machine just booted, where "checked at 0.0"
    once looked fresh for the first TTL of the machine's life and the edit went unseen for it."""
    from urbangrid.grids import locator as module

    settings.URBANGRID_GRID_VERSION_TTL = 3600
    monkeypatch.setattr(module.time, "monotonic", lambda: 20.0)  # the machine up for 20 s
    builds = []

    class Index(module.VersionedIndex):
        def _build(self, version):
            builds.append(version)
            if len(builds) == 1:
                self.invalidate()  # an edit of this process commits while the index is read
            return type("Built", (), {"version": version})()

    index = Index()
    index.index()
    with django_assert_num_queries(1):  # overtaken: the version read again (unchanged, so no rebuild)
        index.index()
    with django_assert_num_queries(0):  # now trusted for the TTL
        index.index()
    assert builds == [GridDataVersion.current()]


EDIT_IN_ANOTHER_PROCESS = """
import django
django.setup()
from urbangrid.grids.models import UnitGrid
g = UnitGrid.objects.get(code="110101001001004")
g.geometry = {geometry!r}
g.save()  # the post_save signal bumps the grid data version
"""


def test_edit_in_another_process_is_seen_after_the_ttl(cross_process_db, settings):
    c1, _ = make_regions()
    grid("110101001001001", square(0, 0), c1)
    grid("110101001001004", square(1, 0), c1)
    settings.URBANGRID_GRID_VERSION_TTL = 3600
    moved_to = point(5.5, 0.5)
    assert locator.locate(*point(1.5, 0.5)).unit_grid_code == "110101001001004"
    with pytest.raises(OutsideManagedArea):
        locator.locate(*moved_to)

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "urbangrid.settings", "DATABASE_URL": cross_process_db}
    code = EDIT_IN_ANOTHER_PROCESS.format(geometry=square(5, 0))
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr

    # Within the TTL this process still answers from its index ...
    assert locator.locate(*point(1.5, 0.5)).unit_grid_code == "110101001001004"
    # ... once the TTL has passed it sees the new version and the moved grid.
    settings.URBANGRID_GRID_VERSION_TTL = 0
    assert locator.locate(*moved_to).unit_grid_code == "110101001001004"
    with pytest.raises(OutsideManagedArea):
        locator.locate(*point(1.5, 0.5))
