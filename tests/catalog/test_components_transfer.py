"""Component inventory import and export (GeoJSON and Excel): round trips into an empty inventory, bad files refused
whole with the feature index or sheet row and the field, updates by identifier, --replace; the CLI and the admin."""
import copy
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from openpyxl import load_workbook

from urbangrid.catalog import components_transfer as transfer
from urbangrid.catalog.models import Component
from urbangrid.core import excel

pytestmark = pytest.mark.django_db


def _snapshot():
    return list(Component.objects.order_by("identifier").values_list(
        "identifier", "catalog_class_id", "name", "lon", "lat", "unit_grid_id", "state", "competent_unit_id", "owner_unit_id",
        "maintenance_unit_id", "initial_date", "changed_date", "data_source", "note"))


def _dress_up_one():
    """Give one asset every optional field, so the round trips carry them all."""
    from urbangrid.org.models import Unit

    c = Component.objects.order_by("identifier").first()
    units = list(Unit.objects.order_by("code")[:2])
    Component.objects.filter(pk=c.pk).update(owner_unit=units[0], maintenance_unit=units[1], initial_date="2021-03-04",
                                             changed_date="2024-05-06", note="更换过井盖\n第二行", state="lost")
    return c.identifier


def test_geojson_round_trip_into_an_empty_inventory(demo_city, tmp_path):
    _dress_up_one()
    before, doc = _snapshot(), transfer.export_geojson()
    assert len(doc["features"]) == len(before) > 3000
    path = tmp_path / "components.geojson"
    call_command("components", "export", str(path))
    Component.objects.all().delete()
    call_command("components", "import", str(path))
    assert _snapshot() == before
    assert transfer.export_geojson() == doc


def test_xlsx_round_trip_into_an_empty_inventory(demo_city, tmp_path):
    _dress_up_one()
    before = _snapshot()
    path = tmp_path / "components.xlsx"
    call_command("components", "export", "--format", "xlsx", str(path))
    assert load_workbook(path, read_only=True).sheetnames == ["components"]
    Component.objects.all().delete()
    call_command("components", "import", str(path))
    assert _snapshot() == before


def _doc(n=2):
    """The first ``n`` components of the demo as a GeoJSON document."""
    doc = transfer.export_geojson()
    return {"type": "FeatureCollection", "features": doc["features"][:n]}


def _bytes(doc, mutate=None):
    doc = copy.deepcopy(doc)
    if mutate:
        mutate(doc["features"])
    return json.dumps(doc, ensure_ascii=False).encode()


def test_update_by_identifier_and_replace(demo_city):
    doc = _doc(2)
    first = doc["features"][0]["properties"]["identifier"]
    doc["features"][0]["properties"].update(state="破损", name="改名的井盖", data_source="实测")  # labels are taken too
    new = copy.deepcopy(doc["features"][1])
    new["properties"]["identifier"] = new["properties"]["identifier"][:-6] + "999998"
    doc["features"].append(new)
    total = Component.objects.count()
    stats = transfer.import_records(transfer.read_geojson_bytes(_bytes(doc)))
    assert stats == {"created": 1, "updated": 1, "unchanged": 1, "deleted": 0}
    c = Component.objects.get(identifier=first)
    assert (c.state, c.name, c.data_source) == ("damaged", "改名的井盖", "survey")
    assert Component.objects.count() == total + 1
    added = Component.objects.get(identifier=new["properties"]["identifier"])
    assert added.unit_grid_id is not None  # derived from the point on import

    stats = transfer.import_records(transfer.read_geojson_bytes(_bytes(doc)), replace=True)
    assert stats["deleted"] == total + 1 - 3 and stats["unchanged"] == 3
    assert Component.objects.count() == 3


@pytest.mark.parametrize("mutate, where, field", [
    (lambda f: f[1]["properties"].pop("identifier"), "features[1]", "identifier"),
    (lambda f: f[1]["properties"].update(identifier=3499020101000001), "features[1]", "identifier"),  # a number
    (lambda f: f[0]["properties"].update(identifier=f[0]["properties"]["identifier"][:-1]), "features[0]", "identifier"),
    (lambda f: f[0]["properties"].update(class_code="0999"), "features[0]", "class_code"),
    (lambda f: f[0]["properties"].update(version="nope"), "features[0]", "class_code"),
    (lambda f: f[0]["properties"].update(identifier="999999" + f[0]["properties"]["identifier"][6:]), "features[0]", "identifier"),
    (lambda f: f[0].update(geometry={"type": "Point", "coordinates": [116.4, 39.9]}), "features[0]", "geometry"),  # Beijing
    (lambda f: f[0].update(geometry={"type": "LineString", "coordinates": [[117.2, 31.8], [117.3, 31.9]]}), "features[0]", "geometry"),
    (lambda f: f[0].update(geometry={"type": "Point", "coordinates": ["117.2", 31.8]}), "features[0]", "lon"),
    (lambda f: f[1]["properties"].update(state="被偷"), "features[1]", "state"),
    (lambda f: f[1]["properties"].update(data_source="传闻"), "features[1]", "data_source"),
    (lambda f: f[1]["properties"].update(competent_unit="NO-SUCH-UNIT"), "features[1]", "competent_unit"),
    (lambda f: f[1]["properties"].update(initial_date="2024-13-01"), "features[1]", "initial_date"),
    (lambda f: f[1]["properties"].update(initial_date="2024-05-01", changed_date="2023-01-01"), "features[1]", "changed_date"),
    (lambda f: f[1]["properties"].update(note="x" * 1001), "features[1]", "note"),
    (lambda f: f[1]["properties"].update(name="坏\x00名"), "features[1]", "name"),
    (lambda f: f.append(copy.deepcopy(f[0])), "features[2]", "identifier"),  # duplicate
    (lambda f: f.append({"type": "Feature", "geometry": None}), "features[2]", "properties"),
])
def test_bad_geojson_is_refused_whole(demo_city, mutate, where, field):
    doc = _doc(2)
    doc["features"][0]["properties"]["name"] = "应当不被写入"  # a valid change beside the bad one
    before = _snapshot()
    with pytest.raises(transfer.TransferError) as exc:
        transfer.import_records(transfer.read_geojson_bytes(_bytes(doc, mutate)))
    assert any(p.where == where and p.field == field for p in exc.value.problems), [str(p) for p in exc.value.problems]
    assert _snapshot() == before


def test_every_problem_is_named_at_once(demo_city):
    def mutate(f):
        f[0]["properties"].update(state="被偷")
        f[1]["properties"].update(competent_unit="NO-SUCH-UNIT", initial_date="昨天")

    with pytest.raises(transfer.TransferError) as exc:
        transfer.import_records(transfer.read_geojson_bytes(_bytes(_doc(2), mutate)))
    assert {(p.where, p.field) for p in exc.value.problems} == {
        ("features[0]", "state"), ("features[1]", "competent_unit"), ("features[1]", "initial_date")}
    assert "共 3 个问题，未导入任何数据" in str(exc.value)


@pytest.mark.parametrize("data, text", [(b"not json", "JSON"), (b'{"type": "Feature"}', "FeatureCollection")])
def test_unreadable_documents(demo_city, data, text):
    with pytest.raises(transfer.TransferError) as exc:
        transfer.read_geojson_bytes(data)
    assert text in str(exc.value.problems[0])


def test_bad_xlsx_lists_rows_and_fields(demo_city, tmp_path):
    rows = [{**r, "lon": str(r["lon"]), "lat": str(r["lat"])} for r in transfer.export_records()[:4]]
    rows[1]["identifier"] = ""  # required
    rows[2]["state"] = "被偷"
    rows[3]["lon"] = "东经117度"
    rows.append(dict(rows[0]))  # duplicate of row 2
    path = tmp_path / "bad.xlsx"
    excel.write_workbook(path, [("components", transfer.COLUMNS, rows)])
    before = _snapshot()
    with pytest.raises(transfer.TransferError) as exc:
        transfer.import_file(path)
    got = {(p.where, p.field) for p in exc.value.problems}
    assert {("components 第3行", "identifier"), ("components 第4行", "state"), ("components 第5行", "lon"),
            ("components 第6行", "identifier")} <= got, got
    assert _snapshot() == before


def test_xlsx_without_a_required_column(demo_city, tmp_path):
    cols = [c for c in transfer.COLUMNS if c.key != "version"]
    path = tmp_path / "nocol.xlsx"
    excel.write_workbook(path, [("components", cols, [{"identifier": "3499020101000001"}])])
    with pytest.raises(transfer.TransferError) as exc:
        transfer.import_file(path)
    assert any(p.field == "version" for p in exc.value.problems)


def test_cli_bad_file_exits_non_zero_with_the_list(demo_city, tmp_path, capsys):
    bad = tmp_path / "bad.geojson"
    bad.write_bytes(_bytes(_doc(2), lambda f: f[1]["properties"].update(state="被偷", competent_unit="NOPE")))
    before = _snapshot()
    with pytest.raises(CommandError) as exc:  # what ``urbangrid`` turns into exit status 1
        call_command("components", "import", str(bad))
    assert "共 2 个问题" in str(exc.value)
    err = capsys.readouterr().err
    assert "features[1] [state]" in err and "features[1] [competent_unit]" in err
    assert _snapshot() == before
    with pytest.raises(CommandError):
        call_command("components", "import", str(tmp_path / "missing.geojson"))


def test_admin_upload_and_export(demo_city):
    User = get_user_model()
    root = User.objects.create_superuser("comproot", "comproot@example.com", "a-long-password-1")
    clerk = User.objects.create_user("compclerk", "compclerk@example.com", "a-long-password-1", is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_component", "change_component"]))
    c = Client()
    c.force_login(clerk)
    doc = _doc(1)
    ident = doc["features"][0]["properties"]["identifier"]
    doc["features"][0]["properties"]["name"] = "后台导入的名字"
    upload = SimpleUploadedFile("c.geojson", _bytes(doc), content_type="application/geo+json")
    assert c.post("/admin/catalog/component/import/", {"file": upload}).status_code == 403  # no add permission
    assert c.get("/admin/catalog/component/export.geojson").status_code == 200  # view is enough to export

    c.force_login(root)
    listing = c.get("/admin/catalog/component/").content.decode()
    for link in ("/admin/catalog/component/import/", "/admin/catalog/component/export.geojson",
                 "/admin/catalog/component/export.xlsx"):
        assert link in listing
    assert c.get("/admin/catalog/component/import/").status_code == 200
    bad = SimpleUploadedFile("c.geojson", _bytes(doc, lambda f: f[0]["properties"].update(state="被偷", owner_unit="NOPE")))
    r = c.post("/admin/catalog/component/import/", {"file": bad})
    page = r.content.decode()
    assert r.status_code == 422 and "features[0] [state]" in page and "features[0] [owner_unit]" in page
    assert Component.objects.get(identifier=ident).name != "后台导入的名字"
    r = c.post("/admin/catalog/component/import/", {"file": SimpleUploadedFile("c.geojson", _bytes(doc))})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert Component.objects.get(identifier=ident).name == "后台导入的名字"

    r = c.get("/admin/catalog/component/export.geojson")
    assert r.status_code == 200 and r["Content-Disposition"] == 'attachment; filename="components.geojson"'
    assert len(json.loads(r.content)["features"]) == Component.objects.count()
    r = c.get("/admin/catalog/component/export.xlsx")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert c.get("/admin/catalog/component/export.csv").status_code == 404
