"""Gazetteer import and export (GeoJSON and Excel): round trips into an empty gazetteer, bad files refused whole
with the feature or row and the field, the geocoder answering from the new data at once; CLI and admin page."""
import copy
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.test import Client
from openpyxl import load_workbook

from urbangrid.gazetteer import transfer
from urbangrid.gazetteer.geocoder import geocoder
from urbangrid.gazetteer.models import Doorplate, Intersection, Landmark, Road

pytestmark = pytest.mark.django_db


def _counts():
    return (Road.objects.count(), Doorplate.objects.count(), Landmark.objects.count(), Intersection.objects.count())


def _empty_gazetteer():
    Landmark.objects.all().delete()
    Road.objects.all().delete()  # doorplates and intersections go with their roads
    assert _counts() == (0, 0, 0, 0)


def test_geojson_round_trip_into_an_empty_gazetteer(demo_city, tmp_path):
    before = transfer.export_geojson()
    counts = _counts()
    assert counts[0] and counts[1] and counts[2] and counts[3]
    assert any(f["properties"]["layer"] == "community" for f in before["features"])
    path = tmp_path / "gaz.geojson"
    call_command("gazetteer", "export", "--format", "geojson", str(path))
    _empty_gazetteer()
    call_command("gazetteer", "import", str(path))
    assert _counts() == counts  # the intersections derived again from the imported roads
    assert transfer.export_geojson() == before


def test_xlsx_round_trip_into_an_empty_gazetteer(demo_city, tmp_path):
    before = transfer.export_records()
    counts = _counts()
    path = tmp_path / "gaz.xlsx"
    call_command("gazetteer", "export", "--format", "xlsx", str(path))
    assert set(load_workbook(path, read_only=True).sheetnames) == {"roads", "doorplates", "landmarks", "communities"}
    _empty_gazetteer()
    call_command("gazetteer", "import", str(path))
    assert _counts() == counts
    after = transfer.export_records()
    for layer in ("doorplate", "landmark", "community"):
        assert after[layer] == before[layer], layer
    assert [(r["name"], r["aliases"], r["segments"]) for r in after["road"]] == \
           [(r["name"], r["aliases"], r["segments"]) for r in before["road"]]
    for a, b in zip(after["road"], before["road"]):
        assert transfer.to_shape(a["geometry"]).equals_exact(transfer.to_shape(b["geometry"]), 1e-7)


def _small_doc():
    """One road, one doorplate, one landmark of the demo city, renamed: a valid file of new records."""
    d = Doorplate.objects.select_related("road").get(road__name="长江路", number=318, suffix="")
    road = {"type": "Feature", "geometry": d.road.geometry,
            "properties": {"layer": "road", "name": "测试新路", "aliases": ["测试老路"], "segments": []}}
    plate = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [d.lon, d.lat]},
             "properties": {"layer": "doorplate", "road": "测试新路", "number": 7, "suffix": "", "building_name": "测试大厦"}}
    mark = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [d.lon, d.lat]},
            "properties": {"layer": "landmark", "name": "测试新广场", "aliases": ["新广场"], "category": "park",
                           "community": None}}
    return {"type": "FeatureCollection", "features": [road, plate, mark]}


def _bad(doc, mutate):
    doc = copy.deepcopy(doc)
    mutate(doc["features"])
    return json.dumps(doc).encode()


def test_merge_import_and_the_geocoder_uses_it_at_once(demo_city):
    assert not any(c.label == "测试新广场" for c in geocoder.geocode("测试新广场"))
    stats = transfer.import_records(transfer.read_geojson_bytes(json.dumps(_small_doc()).encode()))
    assert stats["road"]["created"] == 1 and stats["doorplate"]["created"] == 1 and stats["landmark"]["created"] == 1
    assert Road.objects.filter(name="长江路").exists()  # a merge keeps what the file does not name
    best = geocoder.geocode("新广场")[0]
    assert best.label == "测试新广场" and best.precision == "landmark"
    assert geocoder.geocode("测试老路7号")[0].precision == "doorplate"


def test_replace_import_keeps_only_the_file(demo_city):
    doc = _small_doc()
    with pytest.raises(transfer.TransferError):  # a doorplate on a road the file drops is refused in replace mode
        transfer.import_records(transfer.read_geojson_bytes(_bad(doc, lambda f: f[1]["properties"].update(road="长江路"))),
                                replace=True)
    stats = transfer.import_records(transfer.read_geojson_bytes(json.dumps(doc).encode()), replace=True)
    assert stats["road"]["deleted"] > 10 and stats["landmark"]["deleted"] > 10
    assert list(Road.objects.values_list("name", flat=True)) == ["测试新路"]
    assert list(Doorplate.objects.values_list("number", flat=True)) == [7]
    assert list(Landmark.objects.values_list("name", flat=True)) == ["测试新广场"]
    assert geocoder.geocode("长江路318号") == [] or geocoder.geocode("长江路318号")[0].precision != "doorplate"


@pytest.mark.parametrize("mutate, where, field", [
    (lambda f: f[1]["properties"].pop("road"), "features[1]", "road"),  # missing field
    (lambda f: f[0].update(geometry={"type": "LineString", "coordinates": [[117.2, 31.8]]}), "features[0]", "geometry"),
    (lambda f: f[0].update(geometry={"type": "Polygon", "coordinates": []}), "features[0]", "geometry"),
    (lambda f: f[2].update(geometry={"type": "Point", "coordinates": [116.4, 39.9]}), "features[2]", "geometry"),  # Beijing
    (lambda f: f.append(copy.deepcopy(f[2])), "features[3]", "name"),  # duplicate landmark
    (lambda f: f.append(copy.deepcopy(f[1])), "features[3]", "number"),  # duplicate doorplate
    (lambda f: f[1]["properties"].update(number="seven"), "features[1]", "number"),  # wrong type
    (lambda f: f[1]["properties"].update(number="7"), "features[1]", "number"),  # a string is not a number in JSON
    (lambda f: f[2]["properties"].update(aliases="新广场"), "features[2]", "aliases"),
    (lambda f: f[2]["properties"].update(category="castle"), "features[2]", "category"),
    (lambda f: f[2]["properties"].update(community="999999999999"), "features[2]", "community"),
    (lambda f: f[1]["properties"].update(road="没有的路"), "features[1]", "road"),
    (lambda f: f[0]["properties"].update(layer="river"), "features[0]", "layer"),
])
def test_bad_geojson_is_refused_whole(demo_city, mutate, where, field):
    data = _bad(_small_doc(), mutate)
    counts = _counts()
    with pytest.raises(transfer.TransferError) as exc:
        transfer.import_records(transfer.read_geojson_bytes(data))
    assert any(p.where == where and p.field == field for p in exc.value.problems), [str(p) for p in exc.value.problems]
    assert _counts() == counts
    assert not Road.objects.filter(name="测试新路").exists() and not Landmark.objects.filter(name="测试新广场").exists()


def test_bad_xlsx_lists_rows_and_fields(demo_city, tmp_path):
    from urbangrid.core import excel

    path = tmp_path / "bad.xlsx"
    excel.write_workbook(path, [
        ("doorplates", transfer.COLUMNS["doorplate"], [
            {"road": "长江路", "number": "9001", "lon": "117.25", "lat": "31.86"},
            {"road": "长江路", "number": "abc", "lon": "117.25", "lat": "31.86"},
            {"road": "长江路", "number": "9002", "lon": "", "lat": "31.86"},
            {"road": "长江路", "number": "9003", "lon": "0", "lat": "0"},
            {"road": "长江路", "number": "9001", "lon": "117.25", "lat": "31.86"}]),
        ("landmarks", transfer.COLUMNS["landmark"], [{"name": "坏标志物", "category": "castle", "lon": "117.25", "lat": "31.86"}]),
    ])
    counts = _counts()
    with pytest.raises(CommandError):
        call_command("gazetteer", "import", str(path))
    with pytest.raises(transfer.TransferError) as exc:
        transfer.import_file(path)
    got = {(p.where, p.field) for p in exc.value.problems}
    assert {("doorplates 第3行", "number"), ("doorplates 第4行", "lon"), ("doorplates 第5行", "geometry"),
            ("doorplates 第6行", "number"), ("landmarks 第2行", "category")} <= got, got
    assert _counts() == counts and not Doorplate.objects.filter(number=9001).exists()


def test_cli_bad_file_exits_non_zero(demo_city, tmp_path, capsys):
    bad = tmp_path / "bad.geojson"
    bad.write_bytes(_bad(_small_doc(), lambda f: f[1]["properties"].pop("road")))
    with pytest.raises(CommandError):  # what ``urbangrid`` turns into exit status 1
        call_command("gazetteer", "import", str(bad))
    assert "features[1] [road]" in capsys.readouterr().err


def test_cli_exit_status(tmp_path, capsys, monkeypatch):
    """The console command itself: a file that is not JSON, a missing file → a message and exit status 1."""
    import os
    import subprocess
    import sys

    from urbangrid import cli

    (tmp_path / "junk.geojson").write_text("not json")
    r = subprocess.run([sys.executable, "-m", "urbangrid", "gazetteer", "import", str(tmp_path / "junk.geojson")],
                       capture_output=True, text=True, env={**os.environ, "URBANGRID_VAR_DIR": str(tmp_path)}, timeout=120)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "CommandError" in r.stderr or "未导入" in r.stderr or "import" in r.stderr.lower(), r.stderr
    # The same entry point in this process (a new one costs a second or two): the missing file.
    # Django's command runner closes every connection when done: not this process's (the module's demo city).
    monkeypatch.setattr(connections, "close_all", lambda: None)
    with pytest.raises(SystemExit) as exc:
        cli.main(["urbangrid", "gazetteer", "import", str(tmp_path / "missing.geojson")])
    err = capsys.readouterr().err
    assert exc.value.code == 1, err
    assert "CommandError" in err or "未导入" in err or "import" in err.lower(), err


def test_admin_upload(demo_city):
    User = get_user_model()
    root = User.objects.create_superuser("gazroot", "gazroot@example.com", "a-long-password-1")
    clerk = User.objects.create_user("gazclerk", "gazclerk@example.com", "a-long-password-1", is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_road", "change_road"]))
    c = Client()
    c.force_login(clerk)
    upload = SimpleUploadedFile("g.geojson", json.dumps(_small_doc()).encode(), content_type="application/geo+json")
    assert c.post("/admin/gazetteer/road/import/", {"file": upload}).status_code == 403
    assert not Landmark.objects.filter(name="测试新广场").exists()

    c.force_login(root)
    page = c.get("/admin/gazetteer/road/")
    assert "/admin/gazetteer/road/import/" in page.content.decode()
    bad = SimpleUploadedFile("g.geojson", _bad(_small_doc(), lambda f: f[1]["properties"].update(number=-3)))
    r = c.post("/admin/gazetteer/road/import/", {"file": bad})
    assert r.status_code == 422 and "features[1] [number]" in r.content.decode()
    assert not Road.objects.filter(name="测试新路").exists()
    upload = SimpleUploadedFile("g.geojson", json.dumps(_small_doc()).encode())
    r = c.post("/admin/gazetteer/road/import/", {"file": upload})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert Doorplate.objects.filter(road__name="测试新路", number=7, building_name="测试大厦").exists()
    r = c.get("/admin/gazetteer/road/export.geojson")
    assert r.status_code == 200 and any(f["properties"].get("name") == "测试新广场" for f in json.loads(r.content)["features"])
    r = c.get("/admin/gazetteer/road/export.xlsx")
    assert r.status_code == 200 and r.content[:2] == b"PK"
