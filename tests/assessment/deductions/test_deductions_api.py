"""倒扣分 over HTTP: the API (checked against its OpenAPI schema), the pages, Excel import/export (API, page
and CLI) and the demo builder."""
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from ug_testing import assert_matches_openapi, jpeg, login_client
from urbangrid.assessment.deductions import rules as svc
from urbangrid.assessment.models import Deduction, DeductionEvent, InspectionItem
from urbangrid.org.models import PartyOrganization

pytestmark = pytest.mark.django_db
INSIDE_WG01 = (117.2352, 31.8785)
API = "/api/v1"


@pytest.fixture
def city(demo_city, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    svc.link_default_classes()
    return {name: login_client(Client(), name) for name in ("assessor", "grid_leader", "leader", "dispatcher", "unit_handler")}


def post(c, **fields):
    data = {"item": "RZ01", "lon": INSIDE_WG01[0], "lat": INSIDE_WG01[1], "target_type": "grid", "target": "WG01",
            "note": "人行道堆放建材", "photos": [jpeg()]}
    data.update(fields)
    return c.post(f"{API}/deductions", {k: v for k, v in data.items() if v is not None})


def test_record_appeal_review_through_the_api(city, openapi_doc):
    r = post(city["assessor"], idempotency_key="phone-1")
    assert r.status_code == 201, r.content
    body = r.json()
    assert_matches_openapi(openapi_doc, "/api/v1/deductions", "post", 201, body)
    assert body["state"] == "recorded" and body["points"] == 0.1 and body["target_code"] == "WG01"
    assert body["place_grid_code"] == "WG01" and len(body["photos"]) == 1 and body["can_appeal"] is False
    assert city["assessor"].get(body["photos"][0]).status_code == 200
    # The phone retries: same record, still one.
    again = post(city["assessor"], idempotency_key="phone-1", points="0.3")
    assert again.status_code == 200 and again.json()["id"] == body["id"] and Deduction.objects.count() == 1
    did = body["id"]
    g = city["grid_leader"].get(f"{API}/deductions/{did}")
    assert g.status_code == 200 and g.json()["can_appeal"] is True
    assert_matches_openapi(openapi_doc, "/api/v1/deductions/{deduction_id}", "get", 200, g.json())
    a = city["grid_leader"].post(f"{API}/deductions/{did}/appeal", {"reason": "已当天整改"}, content_type="application/json")
    assert a.status_code == 200 and a.json()["state"] == "appealed"
    assert_matches_openapi(openapi_doc, "/api/v1/deductions/{deduction_id}/appeal", "post", 200, a.json())
    twice = city["grid_leader"].post(f"{API}/deductions/{did}/appeal", {"reason": "again"}, content_type="application/json")
    assert twice.status_code == 409
    assert_matches_openapi(openapi_doc, "/api/v1/deductions/{deduction_id}/appeal", "post", 409, twice.json())
    # Waiting for review in the reviewer's list.
    waiting = city["leader"].get(f"{API}/deductions", {"state": "appealed"}).json()
    assert [d["id"] for d in waiting["items"]] == [did]
    bad = city["grid_leader"].post(f"{API}/deductions/{did}/review", {"decision": "cancel", "note": "x"},
                                   content_type="application/json")
    assert bad.status_code == 403
    rv = city["leader"].post(f"{API}/deductions/{did}/review", {"decision": "cancel", "note": "申诉成立"},
                             content_type="application/json")
    assert rv.status_code == 200 and rv.json()["state"] == "cancelled"
    assert_matches_openapi(openapi_doc, "/api/v1/deductions/{deduction_id}/review", "post", 200, rv.json())
    assert [e["action"] for e in rv.json()["events"]] == ["record", "appeal", "cancel"]


@pytest.mark.parametrize("fields, status, field", [
    ({"lon": 116.0, "lat": 30.0}, 400, "location"),
    ({"item": "NOPE"}, 400, "item"),
    ({"target": "WG99"}, 400, "target"),
    ({"points": "9"}, 400, "points"),
    ({"photos": None}, 400, "photos"),
    ({"target_type": "star"}, 400, "target_type"),
    ({"class_code": "9999", "open_case": "true"}, 400, "class_code"),
])
def test_bad_input(city, openapi_doc, fields, status, field):
    r = post(city["assessor"], **fields)
    assert r.status_code == status, r.content
    assert field in r.json()["fields"]
    assert_matches_openapi(openapi_doc, "/api/v1/deductions", "post", status, r.json())
    assert not Deduction.objects.exists() and not DeductionEvent.objects.exists()


def test_not_an_assessor(city):
    r = post(city["dispatcher"])
    assert r.status_code == 403 and not Deduction.objects.exists()
    assert Client().post(f"{API}/deductions", {}).status_code == 401


def test_appeal_after_deadline_via_api(city):
    did = post(city["assessor"]).json()["id"]
    Deduction.objects.filter(pk=did).update(appeal_deadline=timezone.now() - timedelta(minutes=1))
    r = city["grid_leader"].post(f"{API}/deductions/{did}/appeal", {"reason": "晚了"}, content_type="application/json")
    assert r.status_code == 400 and "appeal_deadline" in r.json()["fields"]
    assert Deduction.objects.get(pk=did).state == "recorded"


def test_out_of_scope_is_404(city):
    did = post(city["assessor"]).json()["id"]
    for name in ("dispatcher", "unit_handler"):
        assert city[name].get(f"{API}/deductions/{did}").status_code == 404
        assert city[name].post(f"{API}/deductions/{did}/appeal", {"reason": "x"},
                               content_type="application/json").status_code == 404
        assert city[name].get(f"/assessment/deductions/{did}/").status_code == 404
    assert city["dispatcher"].get(f"{API}/deductions").json()["total"] == 0


def test_open_case_links_a_case(city):
    r = post(city["assessor"], open_case="true")
    assert r.status_code == 201 and r.json()["case_number"]
    assert Deduction.objects.get().case.number == r.json()["case_number"]


def test_scores_api(city, openapi_doc):
    post(city["assessor"], item="XC01")
    post(city["assessor"], points="0.3")
    org = PartyOrganization.objects.get(grids__code="WG01")
    post(city["assessor"], target_type="party", target=org.code)
    today = timezone.localdate().isoformat()
    r = city["leader"].get(f"{API}/deduction-scores", {"period": "month", "day": today})
    assert r.status_code == 200
    assert_matches_openapi(openapi_doc, "/api/v1/deduction-scores", "get", 200, r.json())
    rows = {(x["target_type"], x["name"].split()[0]): x for x in r.json()["items"]}
    assert rows[("grid", "WG01")]["score"] == 99.2 and rows[("grid", "WG01")]["deductions"] == 2
    only = city["leader"].get(f"{API}/deduction-scores", {"period": "month", "day": today, "target_type": "party"}).json()
    assert [x["target_type"] for x in only["items"]] == ["party"]
    # The grid leader sees his own targets; the dispatcher has no business here.
    gl = city["grid_leader"].get(f"{API}/deduction-scores", {"day": today}).json()
    assert {x["target_type"] for x in gl["items"]} <= {"grid", "party"} and gl["items"]
    assert city["dispatcher"].get(f"{API}/deduction-scores").status_code == 403


@pytest.mark.parametrize("params, field", [
    ({"period": "month", "day": "2999-01-01"}, "day"),
    ({"from": "2026-03-10", "to": "2026-03-01"}, "from"),
    ({"period": "fortnight"}, "period"),
    ({"day": "yesterday"}, "day"),
])
def test_scores_bad_periods(city, openapi_doc, params, field):
    r = city["leader"].get(f"{API}/deduction-scores", params)
    assert r.status_code == 422 and field in r.json()["fields"]
    assert_matches_openapi(openapi_doc, "/api/v1/deduction-scores", "get", 422, r.json())


def test_items_api(city, openapi_doc):
    r = city["assessor"].get(f"{API}/inspection-items")
    assert r.status_code == 200
    assert_matches_openapi(openapi_doc, "/api/v1/inspection-items", "get", 200, r.json())
    rz01 = next(i for i in r.json() if i["code"] == "RZ01")
    assert rz01["class_code"] == "0507" and rz01["earn_back"] is True


# --- Excel ----------------------------------------------------------------------------------------

def _rows(content):
    ws = load_workbook(io.BytesIO(content)).active
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def _xlsx(header, rows):
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "items.xlsx"
    return buf


HEADER = ["code", "name", "standard", "aspect", "default_points", "max_points", "max_times", "target_types", "earn_back",
          "earn_back_ratio", "class_version", "class_code"]


def test_excel_round_trip_via_api(city, admin_client):
    r = admin_client.get(f"{API}/inspection-items/export")
    assert r.status_code == 200
    rows = _rows(r.content)
    by_code = {x["code"]: x for x in rows}
    assert by_code["RZ04"]["default_points"] == 0.1 and by_code["RZ01"]["class_code"] == "0507"
    assert len(rows) == InspectionItem.objects.count()
    # Change one row and add one, then import the file back.
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb.active
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[header.index("code")].value == "RZ04":
            row[header.index("default_points")].value = 0.2
    ws.append({header.index("code") + 1: "NEW1", header.index("name") + 1: "@危险公式", header.index("aspect") + 1: "定巡查",
               header.index("default_points") + 1: 0.3, header.index("target_types") + 1: "grid,责任单位"})
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "items.xlsx"
    imp = admin_client.post(f"{API}/inspection-items/import", {"file": buf})
    assert imp.status_code == 200, imp.content
    assert imp.json() == {"created": 1, "updated": len(rows)}
    new = InspectionItem.objects.get(code="NEW1")
    assert new.aspect == "patrol" and new.target_types == ["grid", "unit"] and str(new.max_points) == "0.30"
    assert str(InspectionItem.objects.get(code="RZ04").default_points) == "0.20"
    # Re-export: the formula-looking name is kept as text.
    again = {x["code"]: x for x in _rows(admin_client.get(f"{API}/inspection-items/export").content)}
    assert again["NEW1"]["name"] == "'@危险公式"


def test_bad_excel_imports_nothing(city, admin_client):
    before = list(InspectionItem.objects.order_by("code").values_list("code", "default_points"))
    bad = _xlsx(HEADER, [
        ["OK1", "好行", "", "content", 0.1, 0.2, None, "grid", "否", None, None, None],
        ["B1", "坏点数", "", "content", "abc", None, None, "grid", "否", None, None, None],
        ["B2", "坏六定", "", "定天下", 0.1, None, None, "moon", "也许", None, None, None],
        ["B3", "无类别", "", "content", 0.1, 0.05, None, "", "是", 2, "local-demo", "9999"],
        ["OK1", "重复", "", "content", 0.1, None, None, "", "", None, None, None],
    ])
    r = admin_client.post(f"{API}/inspection-items/import", {"file": bad})
    assert r.status_code == 400
    errs = {(e["row"], e["column"]) for e in r.json()["errors"]}
    assert {(3, "default_points"), (4, "aspect"), (4, "target_types"), (4, "earn_back"), (5, "class_code"),
            (6, "code")} <= errs
    assert list(InspectionItem.objects.order_by("code").values_list("code", "default_points")) == before
    assert city["assessor"].post(f"{API}/inspection-items/import", {"file": _xlsx(HEADER, [])}).status_code == 403


def test_excel_cli(city, tmp_path):
    out = tmp_path / "items.xlsx"
    call_command("deductions", "items-export", str(out))
    ws = load_workbook(out).active
    assert ws.max_row - 1 == InspectionItem.objects.count()
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(_xlsx(["code", "name"], [["X", "缺列"]]).getvalue())
    with pytest.raises(CommandError):
        call_command("deductions", "items-import", str(bad))
    good = tmp_path / "good.xlsx"
    good.write_bytes(_xlsx(HEADER, [["CLI1", "命令行导入", "", "standards", 0.4, 1, 3, "grid", "是", 0.25, "", ""]]).getvalue())
    call_command("deductions", "items-import", str(good))
    item = InspectionItem.objects.get(code="CLI1")
    assert (item.max_times, item.earn_back, str(item.earn_back_ratio)) == (3, True, "0.250")


def test_items_page_import(city, admin_client):
    page = admin_client.get("/assessment/deductions/items/")
    assert page.status_code == 200 and "RZ04" in page.content.decode()
    bad = _xlsx(HEADER, [["P1", "x", "", "nope", 0.1, None, None, "", "", None, None, None]])
    r = admin_client.post("/assessment/deductions/items/", {"file": bad})
    assert r.status_code == 400 and "aspect" in r.content.decode() and not InspectionItem.objects.filter(code="P1").exists()
    assert city["assessor"].post("/assessment/deductions/items/", {"file": bad}).status_code == 403
    assert admin_client.get("/assessment/deductions/items/export.xlsx").status_code == 200


# --- pages ----------------------------------------------------------------------------------------

def test_pages(city):
    did = post(city["assessor"]).json()["id"]
    new = city["assessor"].get("/assessment/deductions/new/")
    assert new.status_code == 200 and "RZ04" in new.content.decode()
    assert city["dispatcher"].get("/assessment/deductions/new/").status_code == 403
    mine = city["assessor"].get("/assessment/deductions/?tab=mine")
    assert mine.status_code == 200 and f'data-id="{did}"' in mine.content.decode()
    cand = city["assessor"].get("/assessment/deductions/candidates/", {"lon": INSIDE_WG01[0], "lat": INSIDE_WG01[1]})
    assert cand.status_code == 200 and cand.json()["targets"]["grid"][0]["code"] == "WG01"
    assert city["assessor"].get("/assessment/deductions/candidates/", {"lon": 116, "lat": 30}).status_code == 400
    # The grid leader appeals on the page, the leader reviews on the page.
    d = city["grid_leader"].get(f"/assessment/deductions/{did}/")
    assert 'id="appeal-form"' in d.content.decode()
    empty = city["grid_leader"].post(f"/assessment/deductions/{did}/appeal/", {"reason": ""})
    assert empty.status_code == 400
    ok = city["grid_leader"].post(f"/assessment/deductions/{did}/appeal/", {"reason": "已整改"})
    assert ok.status_code == 302
    review_list = city["leader"].get("/assessment/deductions/?tab=review")
    assert f'data-id="{did}"' in review_list.content.decode()
    rv = city["leader"].post(f"/assessment/deductions/{did}/review/", {"decision": "uphold", "note": "维持"})
    assert rv.status_code == 302 and Deduction.objects.get(pk=did).state == "upheld"
    t = city["grid_leader"].get("/assessment/deductions/target/grid/WG01/", {"period": "month"})
    assert t.status_code == 200 and 'data-score="99.9"' in t.content.decode()
    assert city["dispatcher"].get("/assessment/deductions/target/grid/WG01/").status_code == 404
    # A grid the leader answers for shows 100 even without deductions.
    from urbangrid.org.models import RoleAssignment

    other = (RoleAssignment.objects.filter(role="grid_leader", person__user__username="grid_leader")
             .exclude(grid__code="WG01").first().grid.code)
    clean = city["grid_leader"].get(f"/assessment/deductions/target/grid/{other}/")
    assert clean.status_code == 200 and 'data-score="100.0"' in clean.content.decode()
    future = city["leader"].get("/assessment/deductions/target/grid/WG01/", {"period": "month", "date": "2999-01-01"})
    assert future.status_code == 422


# --- demo -----------------------------------------------------------------------------------------

def test_build_deductions(city):
    from urbangrid.fabricate.demo.deductions import build_deductions

    now = timezone.now()
    summary = build_deductions(seed=3, log=lambda m: None, start=now - timedelta(days=70), end=now - timedelta(hours=2))
    assert summary["deductions"] > 50 and summary["upheld"] + summary["cancelled"] + summary["appealed"] > 0
    assert build_deductions(seed=3, log=lambda m: None)["skipped"]
    # Every generated deduction passes the consistency rules a live one must pass.
    from urbangrid.grids.locator import locator

    for d in Deduction.objects.select_related("item")[:200]:
        loc = locator.locate(d.lon, d.lat)
        assert d.target_type in d.item.target_types
        assert svc._consistency_error(d.target_type, d.target, loc) is None
        assert d.events.first().action == "record"
    appealed = Deduction.objects.exclude(state="recorded").first()
    assert appealed.events.filter(action="appeal").exists()
    # Nothing happens in the future, appeals are in time and reviews follow them.
    later = timezone.now()
    assert not DeductionEvent.objects.filter(at__gt=later).exists()
    for d in Deduction.objects.exclude(state="recorded"):
        assert d.recorded_at < d.appealed_at <= d.appeal_deadline
        if d.reviewed_at:
            assert d.appealed_at < d.reviewed_at < later
            reviewer = d.events.get(action__in=["uphold", "cancel"]).person_id
            assert reviewer is None or reviewer != d.appealed_by_id


def test_import_of_a_file_that_is_not_excel(city, admin_client):
    junk = io.BytesIO(b"code,name\nX,not excel")
    junk.name = "items.xlsx"
    r = admin_client.post(f"{API}/inspection-items/import", {"file": junk})
    assert r.status_code == 400 and r.json()["errors"][0]["row"] == 0
