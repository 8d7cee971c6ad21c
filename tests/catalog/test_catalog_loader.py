import filecmp
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

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
    assert CrosswalkEntry.objects.count() == 89  # 85 old classes, 0117 立杆 split into five 2026 classes
    assert CrosswalkEntry.objects.filter(relation="none", new_class=None).count() == 3
    split = CrosswalkEntry.objects.filter(old_class__code="0117").order_by("new_class__code")
    assert [(e.relation, e.verified, e.new_class.code) for e in split] == [
        ("split", False, code) for code in ("01030", "01031", "01032", "01033", "01034")]
    assert CrosswalkEntry.objects.get(old_class__code="0102").verified is True
    assert CatalogVersion.objects.get(code="gbt47678.5-2026").identifier_length == 17
    assert CatalogVersion.objects.get(code="cjt214-2007").identifier_length == 16


@pytest.mark.django_db
def test_load_is_idempotent_and_keeps_edits():
    first = load_catalogues()
    assert first.changed == 85 + 153 + 250 + 54 + 89
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
    names = [f for f, _v, _k in loader.CLASS_FILES] + [loader.CROSSWALK_FILE[0]]
    _match, mismatch, errors = filecmp.cmpfiles(SHARED, loader.PACKAGE_DATA, names, shallow=False)
    assert (mismatch, errors) == ([], [])


@pytest.mark.django_db
def test_command_load(capsys):
    call_command("catalog", "load", "--dir", str(loader.PACKAGE_DATA))
    call_command("catalog", "load", "--dir", str(loader.PACKAGE_DATA))
    out = capsys.readouterr().out
    assert "新增 85" in out and out.rstrip().endswith("加载完成（无变化）")
    assert CatalogClass.objects.count() == 85 + 153 + 250 + 54
