"""Full data export for a bureau that leaves: every table as JSON Lines or Excel, re-read and compared
with the database."""
import hashlib
import json
import random
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from urbangrid.ops import export as ex

pytestmark = pytest.mark.django_db


@pytest.fixture
def some_cases(demo_city):
    """The demo city without history has no cases: report and dispatch a few through the service layer."""
    from django.contrib.auth import get_user_model

    from urbangrid.cases import services
    from urbangrid.catalog.models import CatalogClass
    from urbangrid.org.scope import actor_for

    users = get_user_model().objects
    a = {n: actor_for(users.get(username=n)) for n in ("inspector", "intake_operator", "shift_lead", "dispatcher")}
    cls = CatalogClass.objects.get(version__code="local-demo", code="0401")
    made = []
    for i in range(3):
        case, _ = services.report(a["inspector"], catalog_class=cls, lon=117.2352, lat=31.8785, description=f"塌陷{i}",
                                  source="inspector", require_photos=False)
        services.transition(a["intake_operator"], case.number, "accept")
        services.transition(a["shift_lead"], case.number, "file")
        services.transition(a["dispatcher"], case.number, "dispatch", {"unit": "CGJ-SZ", "opinion": "速办"})
        made.append(case)
    return made


def _sha(p):
    return hashlib.sha256(Path(p).read_bytes()).hexdigest()


def _db_rows(model, cols):
    pk = model._meta.pk.attname
    return {r[pk]: r for r in ex.rows(model, cols)}


def _check_manifest(out, manifest):
    on_disk = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk["counts"] == manifest["counts"]
    listed = set(on_disk["files"])
    present = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {"manifest.json", "README.txt"}
    assert listed == present
    for rel, digest in on_disk["files"].items():
        assert _sha(out / rel) == digest, rel
    readme = (out / "README.txt").read_text(encoding="utf-8")
    for name, n in on_disk["counts"].items():
        assert f"  {name}: {n}" in readme


def test_jsonl_export_of_the_demo_city_rereads_equal(some_cases, tmp_path, settings):
    from urbangrid.cases.models import Case, CaseEvent, CasePhoto

    # A formula-looking description and a photo file on disk, so both paths of the export are exercised.
    case = Case.objects.order_by("pk").first()
    Case.objects.filter(pk=case.pk).update(description='=HYPERLINK("http://evil","x")')
    media = Path(settings.MEDIA_ROOT)
    photo = CasePhoto.objects.filter(image__gt="").first()
    if photo is None:
        photo = CasePhoto.objects.create(case=case, kind="report", image="cases/test/export.jpg", width=1, height=1)
    (media / photo.image.name).parent.mkdir(parents=True, exist_ok=True)
    (media / photo.image.name).write_bytes(b"\xff\xd8fake-jpeg")

    out = tmp_path / "export"
    call_command("export_all", "--format", "jsonl", "--out", str(out))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    _check_manifest(out, manifest)
    rng = random.Random(8)
    names = {ex.model_name(m) for m in ex.export_models()} | {"auth.User"}
    assert set(manifest["counts"]) == names
    for name, model, cols in ex._tables():
        lines = (out / "data" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(lines) == model._default_manager.count() == manifest["counts"][name], name
        got = [json.loads(line) for line in lines]
        db = _db_rows(model, cols)
        for row in rng.sample(got, min(5, len(got))):
            want = db[row[model._meta.pk.attname]]
            assert row == json.loads(json.dumps({k: ex._json_value(v) for k, v in want.items()})), name
    assert manifest["counts"]["cases.Case"] > 0 and manifest["counts"]["cases.CaseEvent"] >= manifest["counts"]["cases.Case"]
    # Natural keys next to the ids; geometry is GeoJSON; no secrets.
    ev = json.loads((out / "data" / "cases.CaseEvent.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert ev["case"] == Case.objects.get(pk=ev["case_id"]).number
    grid = json.loads((out / "data" / "grids.UnitGrid.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert grid["geometry"]["type"] in ("Polygon", "MultiPolygon") and grid["geometry"]["coordinates"]
    users = (out / "data" / "auth.User.jsonl").read_text(encoding="utf-8")
    assert "password" not in users and "pbkdf2" not in users and "md5$" not in users
    keys = (out / "data" / "public.Open311Key.jsonl").read_text(encoding="utf-8")
    assert "key_hash" not in keys
    # Photo files copied at their stored path.
    assert (out / "photos" / photo.image.name).read_bytes() == b"\xff\xd8fake-jpeg"
    assert manifest["photos"] >= 1
    assert CaseEvent.objects.exists()


def test_xlsx_export_rereads_with_openpyxl_and_neutralises_formulas(some_cases, tmp_path):
    from openpyxl import load_workbook

    from urbangrid.cases.models import Case

    case = Case.objects.order_by("pk").first()
    Case.objects.filter(pk=case.pk).update(description="=1+2", address="@SUM(A1)")
    out = tmp_path / "xlsx"
    manifest = ex.export_all(out, "xlsx", excel_max_rows=50)  # small sheets so the split is exercised
    _check_manifest(out, manifest)
    wb = load_workbook(out / "urbangrid.xlsx", read_only=True)
    split_seen = False
    for name, model, cols in ex._tables():
        n = manifest["counts"][name]
        assert n == model._default_manager.count(), name
        parts = max(1, -(-n // 50))
        split_seen |= parts > 1
        seen = []
        for part in range(1, parts + 1):
            ws = wb[ex.sheet_title(name, part)]
            it = ws.iter_rows(values_only=True)
            header = list(next(it))
            assert header == [c for c, _ in cols]
            body = [r for r in it if any(v is not None for v in r)]
            assert len(body) <= 50
            seen.extend(body)
        assert len(seen) == n, name
        assert ex.sheet_title(name, parts + 1) not in wb.sheetnames
        if name == "cases.Case":
            rows = {r[header.index("id")]: dict(zip(header, r)) for r in seen}
            assert rows[case.pk]["description"] == "'=1+2"
            assert rows[case.pk]["address"] == "'@SUM(A1)"
            assert rows[case.pk]["number"] == case.number
    assert split_seen
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            for v in row:
                assert not (isinstance(v, str) and v[:1] in "=+-@" and len(v) > 1 and not v[1:2].isdigit()), v


def test_bad_out_and_format_fail_clearly(tmp_path, db):
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    with pytest.raises(CommandError, match="不是空目录|not empty"):
        call_command("export_all", "--out", str(full))
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(CommandError):
        call_command("export_all", "--out", str(afile))
    with pytest.raises(CommandError, match="csv"):
        call_command("export_all", "--format", "csv", "--out", str(tmp_path / "new"))
    assert not (tmp_path / "new").exists()


def test_cli_exit_status_for_a_bad_out(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "f"
    bad.write_text("x")
    run = subprocess.run([str(Path(sys.executable).parent / "urbangrid"), "export-all", "--out", str(bad)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and str(bad) in run.stderr
