import copy
import io
import json

import pytest
from django.core.management import CommandError, call_command

from urbangrid.grids import importer
from urbangrid.grids.importer import ImportRefused, export_geojson, import_geojson, validate_feature_collection
from urbangrid.grids.models import GridDataVersion, Region, ResponsibilityGrid, RoadSegment, UnitGrid

from .conftest import corner, feature, ring, square, unit_grid

pytestmark = pytest.mark.django_db

MODELS = (Region, ResponsibilityGrid, UnitGrid, RoadSegment)


def snapshot():
    """Every stored value of the geography, including primary keys and computed columns."""
    rows = {m.__name__: list(m.objects.order_by("pk").values()) for m in MODELS}
    rows["links"] = sorted(RoadSegment.unit_grids.through.objects.values_list("roadsegment_id", "unitgrid_id"))
    rows["rg_links"] = sorted(RoadSegment.grids.through.objects.values_list("roadsegment_id", "responsibilitygrid_id"))
    rows["version"] = GridDataVersion.current()
    return rows


def wipe():
    RoadSegment.objects.all().delete()
    UnitGrid.objects.all().delete()
    ResponsibilityGrid.objects.all().delete()
    for level in ("community", "street", "district", "city"):
        Region.objects.filter(level=level).delete()


def by_code(fc, code):
    return next(f for f in fc["features"] if f["properties"].get("code") == code)


def messages(problems):
    return [str(p) for p in problems]


# --- import, export, round trip -----------------------------------------------------------------------

def test_import_creates_everything_and_bumps_the_version_once(sample_fc):
    before = GridDataVersion.current()
    stats = import_geojson(sample_fc)
    assert GridDataVersion.current() == before + 1
    assert {k: v["created"] for k, v in stats.items()} == {"region": 5, "responsibility_grid": 2, "unit_grid": 8, "road_segment": 2}
    ug = UnitGrid.objects.get(code="110101001001001")
    assert ug.community.code == "110101001001" and ug.responsibility_grid.code == "DHM-01"
    assert ug.extra == {"name": "故宫东侧", "survey": {"year": 2024, "by": "测绘院"}}
    assert ug.area_m2 == pytest.approx(10_000, rel=0.01) and ug.min_lon == corner(0, 0)[0]
    assert UnitGrid.objects.get(code="110101001002004").management_level == 2
    # A responsibility grid without geometry gets the union of its unit grids.
    rg = ResponsibilityGrid.objects.get(code="DHM-01")
    assert rg.geometry["type"] == "Polygon" and rg.area_m2 == pytest.approx(40_000, rel=0.01)
    # Crossings come from geometry: R001 runs through the top row, R002 along a border (both sides count).
    r1, r2 = RoadSegment.objects.get(code="R001"), RoadSegment.objects.get(code="R002")
    assert sorted(r1.unit_grids.values_list("code", flat=True)) == [
        "110101001001001", "110101001001002", "110101001002001", "110101001002002"]
    assert sorted(r1.grids.values_list("code", flat=True)) == ["DHM-01", "DHM-02"]
    assert sorted(r2.unit_grids.values_list("code", flat=True)) == ["110101001001001", "110101001001003"]
    assert r1.length_m == pytest.approx(300, rel=0.01)


def test_round_trip_is_identical(sample_fc):
    import_geojson(sample_fc)
    first = export_geojson()
    wipe()
    assert not any(m.objects.exists() for m in MODELS)
    import_geojson(copy.deepcopy(first))
    second = export_geojson()
    assert json.dumps(first, ensure_ascii=False) == json.dumps(second, ensure_ascii=False)
    # Coordinates and properties as given in the original file.
    original = {f["properties"]["code"]: f for f in sample_fc["features"]}
    for f in first["features"]:
        props, given = f["properties"], original[f["properties"]["code"]]
        assert {k: v for k, v in given["properties"].items() if k != "layer"}.items() <= props.items()
        if given["geometry"] is not None:
            assert f["geometry"] == given["geometry"]
    # Deterministic order: layer, then code.
    keys = [(importer.LAYERS.index(f["properties"]["layer"]), f["properties"]["code"]) for f in first["features"]]
    assert keys == sorted(keys)


def test_reimport_of_the_same_file_changes_nothing(sample_fc):
    import_geojson(copy.deepcopy(sample_fc))
    before = snapshot()
    stats = import_geojson(copy.deepcopy(sample_fc))
    assert snapshot() == before
    assert all(s["created"] == s["updated"] == s["deleted"] == 0 for s in stats.values())
    assert stats["unit_grid"]["unchanged"] == 8


def test_update_by_code_keeps_rows_and_their_ids(sample_fc):
    import_geojson(sample_fc)
    pk = UnitGrid.objects.get(code="110101001001001").pk
    by_code(sample_fc, "110101001001001")["properties"]["land_use"] = "商业用地"
    stats = import_geojson(sample_fc)
    assert stats["unit_grid"] == {"created": 0, "updated": 1, "deleted": 0, "unchanged": 7}
    assert UnitGrid.objects.get(pk=pk).land_use == "商业用地"


def test_partial_file_keeps_other_rows_and_replace_deletes_them(sample_fc):
    import_geojson(sample_fc)
    small = {"type": "FeatureCollection", "features": [f for f in sample_fc["features"] if f["properties"].get("layer") == "region"]}
    import_geojson(small)
    assert UnitGrid.objects.count() == 8
    stats = import_geojson(small, replace=True)
    assert stats["unit_grid"]["deleted"] == 8 and stats["road_segment"]["deleted"] == 2
    assert UnitGrid.objects.count() == 0 and Region.objects.count() == 5


def test_replace_refuses_to_delete_rows_other_data_needs(sample_fc):
    from urbangrid.org.models import Unit

    import_geojson(sample_fc)
    Unit.objects.create(code="U1", name="多福巷社区居委会", region=Region.objects.get(code="110101001002"))
    # The file drops community 110101001002 (and its grids and responsibility grid), which a unit still serves.
    sample_fc["features"] = [f for f in sample_fc["features"]
                             if not f["properties"]["code"].startswith("110101001002") and f["properties"]["code"] != "DHM-02"]
    before = snapshot()
    with pytest.raises(ImportRefused) as exc:
        import_geojson(sample_fc, replace=True)
    assert any("行政区划" in m and "单位" in m for m in messages(exc.value.problems))
    assert snapshot() == before


# --- validation -------------------------------------------------------------------------------------

def _drop(fc, code):
    fc["features"] = [f for f in fc["features"] if f["properties"].get("code") != code]


def _mutate(fc, target, **props):
    by_code(fc, target)["properties"].update(props)


def _make_gap(fc):
    """Add a bottom row and take out a grid of the row above: a 100 m hole inside the block."""
    _drop(fc, "110101001001004")
    fc["features"] += [unit_grid(f"11010100100100{n}", c, 2, "DHM-01") for n, c in zip(range(5, 9), range(4))]


CASES = {
    "unknown layer": (lambda fc: _mutate(fc, "R001", layer="river"), "未知图层 'river'"),
    "missing code": (lambda fc: by_code(fc, "R002")["properties"].pop("code"), "缺少代码"),
    "malformed code": (lambda fc: _mutate(fc, "110101001001002", code="11010100100100"), "应为15位数字"),
    "code not a string": (lambda fc: _mutate(fc, "110101001001002", code=110101001001002), "代码应为字符串"),
    "region code length": (lambda fc: _mutate(fc, "110101001", code="1101010010"), "街道代码应为9位数字"),
    "duplicate code": (lambda fc: fc["features"].append(unit_grid("110101001001001", 0, 5, "DHM-01")), "代码重复"),
    "self-intersection": (lambda fc: by_code(fc, "110101001001002").update(geometry={"type": "Polygon", "coordinates": [
        [corner(1, 0), corner(2, 1), corner(2, 0), corner(1, 1), corner(1, 0)]]}), "Self-intersection"),
    "unclosed ring": (lambda fc: by_code(fc, "110101001001002")["geometry"]["coordinates"][0].pop(), "闭合"),
    "wrong geometry type": (lambda fc: by_code(fc, "110101001001002").update(geometry={"type": "Point", "coordinates": corner(1, 0)}),
                            "几何类型应为 Polygon 或 MultiPolygon，实为 Point"),
    "road not a line": (lambda fc: by_code(fc, "R001").update(geometry=square(0, 0)), "实为 Polygon"),
    "missing geometry": (lambda fc: by_code(fc, "110101001001002").update(geometry=None), "缺少几何"),
    "out of range": (lambda fc: by_code(fc, "R001")["geometry"]["coordinates"].append([200.0, 39.9]), "超出 WGS-84 范围"),
    "region geometry": (lambda fc: by_code(fc, "110101").update(geometry=square(0, 0)), "行政区划不保存几何"),
    "unknown region property": (lambda fc: _mutate(fc, "110101", population=10), "不保存这些属性：population"),
    "unknown parent": (lambda fc: _mutate(fc, "110101001", parent_code="110102"), "上级区划 110102 不存在"),
    "parent of wrong level": (lambda fc: _mutate(fc, "110101001", parent_code="110000"), "层级应为区"),
    "unknown community": (lambda fc: _mutate(fc, "110101001001002", community_code="110101001009"), "所在社区 110101001009 不存在"),
    "code outside its community": (lambda fc: _mutate(fc, "110101001001002", community_code="110101001002"), "应以所在社区代码 110101001002 开头"),
    "unknown responsibility grid": (lambda fc: _mutate(fc, "110101001001002", responsibility_grid_code="DHM-09"), "责任网格 DHM-09 不存在"),
    "unknown region of a responsibility grid": (lambda fc: _mutate(fc, "DHM-01", region_code="110101002"), "所属区划 110101002 不存在"),
    "bad road class": (lambda fc: _mutate(fc, "R001", road_class="主路"), "road_class 应为"),
    "bad management level": (lambda fc: _mutate(fc, "110101001001002", management_level="一级"), "management_level 应为 1、2 或 3"),
    "overlap in the file": (lambda fc: by_code(fc, "110101001001002").update(geometry={"type": "Polygon", "coordinates": [
        ring(0.5, 0, 2, 1)]}), "与单元网格 110101001001001（features["),
    "gap": (_make_gap, "单元网格之间有空洞"),
}


@pytest.mark.parametrize("case", CASES)
def test_each_problem_is_reported_and_nothing_is_written(sample_fc, case):
    mutate, expected = CASES[case]
    mutate(sample_fc)
    problems = validate_feature_collection(sample_fc)
    assert any(expected in m for m in messages(problems)), messages(problems)
    before = snapshot()
    with pytest.raises(ImportRefused):
        import_geojson(sample_fc)
    assert snapshot() == before and not UnitGrid.objects.exists()


def test_problem_names_the_feature_index_and_code(sample_fc):
    _mutate(sample_fc, "110101001001002", responsibility_grid_code="DHM-09")
    index = next(i for i, f in enumerate(sample_fc["features"]) if f["properties"].get("code") == "110101001001002")
    [problem] = validate_feature_collection(sample_fc)
    assert (problem.index, problem.code) == (index, "110101001001002")
    assert str(problem).startswith(f"features[{index}] (110101001001002): ")


def test_gap_names_its_place_and_neighbours(sample_fc):
    import re

    _make_gap(sample_fc)
    [problem] = validate_feature_collection(sample_fc)
    assert problem.index is None
    m = re.search(r"约 ([\d.]+) 平方米，位于 \(([\d.]+), ([\d.]+)\)，相邻网格：(.*)$", problem.message)
    assert float(m[1]) == pytest.approx(10_000, rel=0.01)
    (lon0, lat1), (lon1, lat0) = corner(1, 2), corner(2, 1)
    assert lon0 < float(m[2]) < lon1 and lat0 > float(m[3]) > lat1  # inside the missing square
    assert m[4].split("、") == ["110101001001001", "110101001001002", "110101001001003", "110101001001005",
                                "110101001001006", "110101001001007", "110101001002001", "110101001002003"]


@pytest.mark.parametrize("data", [[], {"type": "Feature"}, {"type": "FeatureCollection"}, {"type": "FeatureCollection", "features": {}}])
def test_not_a_feature_collection(data):
    [problem] = validate_feature_collection(data)
    assert "不是 GeoJSON FeatureCollection" in problem.message


def test_overlap_with_a_database_grid_not_in_the_file(sample_fc):
    import_geojson(sample_fc)
    newcomer = unit_grid("110101001002005", 3.5, 1, "DHM-02")
    problems = validate_feature_collection({"type": "FeatureCollection", "features": [newcomer]})
    assert any("与数据库中的单元网格 110101001002004 重叠" in m for m in messages(problems)), messages(problems)
    # The same grid moved by the file is not an overlap: the file replaces it.
    moved = unit_grid("110101001002004", 3, 1, "DHM-02")
    moved["geometry"]["coordinates"][0][0][0] += 1e-9  # a harmless nudge (well under 1 m²)
    moved["geometry"]["coordinates"][0][-1][0] += 1e-9
    assert validate_feature_collection({"type": "FeatureCollection", "features": [moved]}) == []


def test_touching_grids_and_tiny_slivers_are_no_overlap(sample_fc):
    g = by_code(sample_fc, "110101001001002")["geometry"]["coordinates"][0]
    for pt in g:
        if pt[0] == corner(1, 0)[0]:
            pt[0] -= 1e-8  # about 1 mm into the western neighbour: 0.1 m², below the 1 m² threshold
    assert validate_feature_collection(sample_fc) == []


def test_references_resolve_against_the_database(sample_fc):
    import_geojson(sample_fc)
    newcomer = unit_grid("110101001001009", 0, 2, "DHM-01")
    assert validate_feature_collection({"type": "FeatureCollection", "features": [newcomer]}) == []
    # With --replace the file is everything, so the database rows do not count.
    problems = messages(validate_feature_collection({"type": "FeatureCollection", "features": [newcomer]}, replace=True))
    assert any("所在社区 110101001001 不存在" in m for m in problems)


def test_big_files_stay_fast():
    """Validation of 1,998 grids in a 37 × 54 block, with the STRtree and one union."""
    import time

    from .conftest import REGIONS

    fc = {"type": "FeatureCollection", "features": [
        feature({"layer": "region", "code": c, "name": n, "level": lv, "parent_code": p}, None) for c, n, lv, p in REGIONS]}
    for n in range(1998):  # 999 grids in each of the two communities
        row, col = divmod(n, 37)
        fc["features"].append(unit_grid(f"11010100100{1 + n // 999}{n % 999 + 1:03d}", col, row, None))
    started = time.perf_counter()
    assert validate_feature_collection(fc) == []
    assert time.perf_counter() - started < 10


# --- the command --------------------------------------------------------------------------------------

def test_command_import_and_export(sample_fc, tmp_path):
    path = tmp_path / "city.geojson"
    path.write_text(json.dumps(sample_fc, ensure_ascii=False), encoding="utf-8")
    out = io.StringIO()
    call_command("grids", "import", str(path), stdout=out)
    assert "单元网格：新增 8，更新 0，删除 0，未变 0" in out.getvalue()
    out = io.StringIO()
    call_command("grids", "export", stdout=out)
    assert json.loads(out.getvalue()) == export_geojson()
    target = tmp_path / "out.geojson"
    call_command("grids", "export", "-o", str(target), stdout=io.StringIO(), stderr=io.StringIO())
    assert target.read_text(encoding="utf-8") == out.getvalue()
    # Export → import into an empty database → export is byte-identical.
    wipe()
    call_command("grids", "import", str(target), stdout=io.StringIO())
    again = io.StringIO()
    call_command("grids", "export", stdout=again)
    assert again.getvalue() == out.getvalue()


def test_command_fails_with_every_problem_and_writes_nothing(sample_fc, tmp_path):
    _mutate(sample_fc, "R001", layer="river")
    _mutate(sample_fc, "110101001001002", responsibility_grid_code="DHM-09")
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps(sample_fc, ensure_ascii=False), encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match="共 2 个问题，未导入任何数据"):
        call_command("grids", "import", str(path), stdout=io.StringIO(), stderr=err)
    assert "未知图层 'river'" in err.getvalue() and "责任网格 DHM-09 不存在" in err.getvalue()
    assert not Region.objects.exists()


@pytest.mark.parametrize("text, expected", [("{not json", "不是有效的 JSON"), ('{"type": "FeatureCollection", "features": [NaN]}', "不允许 NaN"),
                                             ('{"type": "Topology"}', "不是 GeoJSON FeatureCollection")])
def test_command_refuses_bad_files(tmp_path, text, expected):
    path = tmp_path / "bad.geojson"
    path.write_text(text, encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("grids", "import", str(path), stdout=io.StringIO(), stderr=err)
    assert expected in err.getvalue()


def test_command_missing_file(tmp_path):
    with pytest.raises(CommandError, match="无法读取文件"):
        call_command("grids", "import", str(tmp_path / "nope.geojson"))


def test_command_replace_option(sample_fc, tmp_path):
    import_geojson(sample_fc)
    _drop(sample_fc, "R002")
    path = tmp_path / "city.geojson"
    path.write_text(json.dumps(sample_fc), encoding="utf-8")
    call_command("grids", "import", str(path), "--replace", stdout=io.StringIO())
    assert not RoadSegment.objects.filter(code="R002").exists()


@pytest.mark.django_db(transaction=True)
def test_an_import_mutes_only_its_own_thread(sample_fc):
    """While an import runs (per-row bumps muted in its thread), a grid saved by another thread of the same
    process still bumps the version; after the import, this thread bumps again."""
    import threading

    from django.db import connection

    from urbangrid.grids import signals

    import_geojson(sample_fc)
    region = Region.objects.first()
    before = GridDataVersion.current()
    with signals.muted():
        region.save()  # muted here
        assert GridDataVersion.current() == before

        def other():
            try:
                Region.objects.get(pk=region.pk).save()
            finally:
                connection.close()

        t = threading.Thread(target=other)
        t.start()
        t.join()
        assert GridDataVersion.current() == before + 1
    region.save()
    assert GridDataVersion.current() == before + 2
