import filecmp
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import F

from urbangrid.catalog import loader
from urbangrid.catalog.loader import CatalogDataError, catalog_dir, load_catalogues
from urbangrid.catalog.models import CatalogClass, CatalogVersion, CrosswalkEntry

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "catalog"
C, E = CatalogClass.Kind.COMPONENT, CatalogClass.Kind.EVENT


def classes(version, kind):
    return CatalogClass.objects.filter(version__code=version, kind=kind)


def snapshot():
    return (list(CatalogClass.objects.order_by("pk").values()), list(CrosswalkEntry.objects.order_by("pk").values()),
            list(CatalogVersion.objects.order_by("pk").values()))


@pytest.mark.django_db
def test_load_counts():
    load_catalogues()
    old = classes("cjt214-2007", C)
    assert old.count() == 85
    assert old.values("major_code").distinct().count() == 6
    assert old.filter(code_inferred=True).count() == 5
    assert classes("gbt47678.5-2026", C).count() == 153
    matters = classes("gbt47678.5-2026", E)
    assert matters.count() == 250
    assert matters.exclude(component=None).count() == 153
    assert matters.get(code="01001").component.name == "供水井盖"
    events = classes("local-demo", E)
    assert events.count() == 54
    assert events.values("major_code").distinct().count() == 5
    assert not CatalogClass.objects.filter(version__code="local-demo", kind=C).exists()
    components = CrosswalkEntry.objects.filter(old_class__version__code="cjt214-2007")
    assert components.count() == 89  # 85 old classes, 0117 立杆 split into five 2026 classes
    assert components.filter(relation="none", new_class=None).count() == 3
    split = CrosswalkEntry.objects.filter(old_class__code="0117").order_by("new_class__code")
    assert [(e.relation, e.verified, e.new_class.code) for e in split] == [
        ("split", False, code) for code in ("01030", "01031", "01032", "01033", "01034")]
    assert components.get(old_class__code="0102").verified is True
    # The demo's local events: every one of the 54 has a 2026 counterpart (a GB/T matter, or a local extension
    # matter in the local range 21 where the standard has none); splits and draft renames await a person.
    matters = CrosswalkEntry.objects.filter(old_class__version__code="local-demo")
    assert matters.values("old_class").distinct().count() == 54 and matters.count() == 56
    assert not matters.filter(new_class=None).exists()
    local = CatalogVersion.objects.get(code="local-demo-2026")
    assert local.base.code == "gbt47678.5-2026" and CatalogVersion.objects.get(code="local-demo").base.code == "cjt214-2007"
    assert set(classes("local-demo-2026", E).values_list("major_code", flat=True)) == {"21"}
    assert matters.filter(new_class__version=local).count() == 10
    assert [e.new_class.code for e in matters.filter(old_class__code="0102")] == ["06010"]  # 暴露垃圾
    assert sorted(matters.filter(old_class__code="0202").values_list("relation", "verified", "new_class__code")) == [
        ("split", False, "07003"), ("split", False, "07006")]
    assert matters.filter(relation="same").count() == matters.filter(relation="same", old_class__name=F("new_class__name")).count()
    assert CatalogVersion.objects.get(code="gbt47678.5-2026").identifier_length == 17
    assert CatalogVersion.objects.get(code="cjt214-2007").identifier_length == 16


@pytest.mark.django_db
def test_load_is_idempotent_and_keeps_edits():
    first = load_catalogues()
    assert first.changed == 85 + 153 + 250 + 54 + 10 + 89 + 56
    cls = CatalogClass.objects.get(version__code="cjt214-2007", kind=C, code="0101")
    cls.plain_name, cls.active = "自来水井盖", False
    cls.save()
    entry = CrosswalkEntry.objects.get(old_class__code="0118")  # an edited mapping is kept by a reload
    entry.note, entry.verified = "人工核对", True
    entry.save()
    before = snapshot()
    second = load_catalogues()
    assert second.changed == 0
    assert snapshot() == before


@pytest.mark.django_db
def test_load_updates_changed_name(tmp_path):
    load_catalogues()
    d = tmp_path / "cat"
    shutil.copytree(loader.PACKAGE_DATA, d)
    f = d / "demo-local-events.csv"
    f.write_text(f.read_text(encoding="utf-8").replace("暴露垃圾", "暴露垃圾（含袋装）"), encoding="utf-8")
    report = load_catalogues(d)
    assert report.updated["local-demo/event"] == 1 and report.changed == 1
    assert classes("local-demo", E).get(code="0102").name == "暴露垃圾（含袋装）"


@pytest.mark.django_db
def test_bad_row_is_reported_and_nothing_loaded(tmp_path):
    d = tmp_path / "cat"
    shutil.copytree(loader.PACKAGE_DATA, d)
    f = d / "demo-local-events.csv"
    lines = f.read_text(encoding="utf-8").splitlines()
    lines[3] = "01,市容环境,0901,错误代码"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CatalogDataError, match="demo-local-events.csv:4"):
        load_catalogues(d)
    assert CatalogClass.objects.count() == 0 and CatalogVersion.objects.count() == 0


def test_catalog_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("URBANGRID_CATALOG_DIR", str(tmp_path))
    assert catalog_dir() == tmp_path
    assert catalog_dir("/x") == Path("/x")
    monkeypatch.delenv("URBANGRID_CATALOG_DIR")
    assert catalog_dir() in (SHARED, loader.PACKAGE_DATA)
    monkeypatch.setattr(loader, "_CHECKOUT", tmp_path / "nowhere")
    assert catalog_dir() == loader.PACKAGE_DATA


@pytest.mark.skipif(not SHARED.exists(), reason="no shared/ checkout beside this one")
def test_packaged_copy_matches_shared_data():
    # The files shared/ has (the demo's matters crosswalk and local extensions may not be there yet).
    names = [name for name in loader.DATA_FILES if (SHARED / name).exists()]
    _match, mismatch, errors = filecmp.cmpfiles(SHARED, loader.PACKAGE_DATA, names, shallow=False)
    assert (mismatch, errors) == ([], [])


@pytest.mark.django_db
def test_command_load(capsys):
    call_command("catalog", "load", "--dir", str(loader.PACKAGE_DATA))
    call_command("catalog", "load", "--dir", str(loader.PACKAGE_DATA))
    out = capsys.readouterr().out
    assert "新增 85" in out and out.rstrip().endswith("加载完成（无变化）")
    assert CatalogClass.objects.count() == 85 + 153 + 250 + 54 + 10


def _data_copy(tmp_path):
    d = tmp_path / "cat"
    shutil.copytree(loader.PACKAGE_DATA, d)
    return d


def _rewrite(path, keep):
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(line for line in lines if keep(line)) + "\n", encoding="utf-8")


@pytest.mark.django_db
def test_a_split_grows_on_reload_unless_a_person_decided(tmp_path):
    """A database loaded when the file had one row for 0117 立杆 gets the other four 2026 classes from the file
    that splits it; a class whose row a person has verified (decided) is left as the person left it."""
    d = _data_copy(tmp_path)
    f = d / "crosswalk-cjt214-2007-to-gbt47678.5-2026.csv"
    full = f.read_text(encoding="utf-8")
    _rewrite(f, lambda line: not (line.startswith("0117,") and ",01030," not in line) and not line.startswith("0306,"))
    load_catalogues(d)
    pole = CrosswalkEntry.objects.filter(old_class__code="0117", old_class__version__code="cjt214-2007")
    assert list(pole.values_list("new_class__code", flat=True)) == ["01030"]
    f.write_text(full, encoding="utf-8")
    report = load_catalogues(d)
    assert report.created["crosswalk cjt214-2007"] == 4 + 1  # the split's four new rows and the 0306 row
    assert sorted(pole.values_list("new_class__code", flat=True)) == ["01030", "01031", "01032", "01033", "01034"]

    # A person decides the 0306 draft (灯箱霓虹灯 → 户外广告, verify) and splits it on their own: reloads keep that.
    entry = CrosswalkEntry.objects.get(old_class__code="0306", old_class__version__code="cjt214-2007")
    entry.verified = True
    entry.save()
    CrosswalkEntry.objects.create(old_class=entry.old_class, new_class=CatalogClass.objects.get(
        version__code="gbt47678.5-2026", kind=C, code="03007"), relation="split", verified=False)
    before = snapshot()
    assert load_catalogues(d).changed == 0 and snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("0102,暴露垃圾,gbt47678.5-2026,06010", "0102,暴露垃圾,cjt214-2007,06010"), "不是gbt47678.5-2026或其地方扩展"),
    (lambda t: t.replace("0102,暴露垃圾,gbt47678.5-2026,06010", "0102,暴露垃圾,gbt47678.5-2026,06999"), "不在分类表中"),
    (lambda t: t + "0101,私搭乱建,gbt47678.5-2026,06001,私搭乱建,same name\n", "重复"),
    (lambda t: t.replace("06001,私搭乱建,same name", "06001,私搭乱建,no 2026 matter"), "无对应"),
])
def test_bad_matters_crosswalk_row_loads_nothing(tmp_path, edit, message):
    d = _data_copy(tmp_path)
    f = d / "crosswalk-local-demo-to-gbt47678.5-2026.csv"
    f.write_text(edit(f.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(CatalogDataError, match=message):
        load_catalogues(d)
    assert CatalogClass.objects.count() == 0 and CrosswalkEntry.objects.count() == 0
