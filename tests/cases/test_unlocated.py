"""待定位: an address the gazetteer cannot place with confidence (Open311 address_string, a hotline call without a
point) becomes a case waiting 待定位 on its own clock (定位); the centre's intake staff place it (定位) by choosing a
candidate or a point, and it goes on as a located report."""
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from urbangrid.cases.models import Case, CaseEvent
from urbangrid.cases.states import Stage, State
from urbangrid.gazetteer.models import Doorplate
from urbangrid.grids.locator import locator
from urbangrid.public.open311 import keys
from urbangrid.worktime.models import TimeLimitSetting

from ug_testing import login_client

pytestmark = pytest.mark.django_db
SERVICE = "local-demo-2026:event:21001"
NOWHERE = "幸福大街 1 号"  # no such street in the demo city
AMBIGUOUS = "长江路"  # a road: candidates, none certain
INSIDE_WG01 = (117.2352, 31.8785)
OUTSIDE = (116.0, 30.0)


def client(username):
    return login_client(Client(), username)


def open311_post(address, raw=None, **extra):
    raw = raw or keys.issue("测试系统")[1]
    return Client().post("/open311/v2/requests.json", {"api_key": raw, "service_code": SERVICE, "description": "路面塌陷",
                                                       "address_string": address, **extra})


def unlocated(address=AMBIGUOUS):
    r = open311_post(address)
    assert r.status_code == 200, r.content
    return Case.objects.get(number=r.json()[0]["service_request_id"])


def test_a_locate_stage_has_its_time_limit_row(demo_city):
    row = TimeLimitSetting.objects.get(stage=Stage.LOCATE)
    assert row.value > 0 and row.unit and row.yellow_share


def test_open311_address_that_is_nowhere_becomes_a_case_awaiting_location(demo_city):
    r = open311_post(NOWHERE)
    assert r.status_code == 200, r.content
    case = Case.objects.get(number=r.json()[0]["service_request_id"])
    assert case.state == State.UNLOCATED and case.stage == Stage.LOCATE and case.stage_deadline is not None
    assert case.lon is None and case.lat is None and case.unit_grid_id is None and case.community_id is None
    assert case.address == NOWHERE
    report = CaseEvent.objects.get(case=case, seq=1)
    assert report.to_state == State.UNLOCATED and report.data["candidates"] == []
    got = Client().get(f"/open311/v2/requests/{case.number}.json").json()[0]
    assert got["status"] == "open" and got["address"] == NOWHERE and got["lat"] is None and got["long"] is None
    page = Client().get(f"/track/{case.tracking_code}/").content.decode()
    assert "正在根据您提供的地址确定位置" in page
    # the same request again (same device) is recognised, not a second case
    raw = keys.issue("另一系统")[1]
    again = open311_post(NOWHERE, raw, device_id="d1")
    assert open311_post(NOWHERE, raw, device_id="d1").json()[0]["service_request_id"] == again.json()[0]["service_request_id"]


def test_open311_address_that_exists_is_placed_in_its_grid(demo_city):
    door = Doorplate.objects.get(road__name="长江路", number=318, suffix="")
    r = open311_post("长江路318号")
    assert r.status_code == 200, r.content
    case = Case.objects.get(number=r.json()[0]["service_request_id"])
    grid = locator.find_unit_grid(door.lon, door.lat)
    assert case.state == State.REPORTED and case.stage == Stage.ACCEPT
    assert case.unit_grid.code == grid[1] and case.responsibility_grid.code == grid[3]


def test_uncertain_address_keeps_its_ranked_candidates(demo_city):
    case = unlocated()
    candidates = CaseEvent.objects.get(case=case, seq=1).data["candidates"]
    assert candidates and all({"lon", "lat", "score", "precision", "label"} <= set(c) for c in candidates)
    assert [c["score"] for c in candidates] == sorted((c["score"] for c in candidates), reverse=True)


def test_the_centre_places_a_case_by_choosing_a_candidate(demo_city):
    case = unlocated()
    bench = client("intake_operator").get("/centre/").content.decode()
    assert f'data-number="{case.number}"' in bench
    c = client("intake_operator")
    page = c.get(f"/cases/{case.number}/").content.decode()
    assert 'id="locating"' in page and 'data-action="locate"' in page and 'id="candidates"' in page
    first = CaseEvent.objects.get(case=case, seq=1).data["candidates"][0]
    point = f"{first['lon']:.7f},{first['lat']:.7f}"
    r = c.post(f"/cases/{case.number}/act/locate/", {"point": point, "candidate": first["label"],
                                                     "expected_version": case.version})
    assert r.status_code == 302, r.content.decode()[:500]
    case.refresh_from_db()
    where = locator.locate(first["lon"], first["lat"])
    assert case.state == State.REPORTED and case.stage == Stage.ACCEPT and case.stage_deadline is not None
    assert (case.lon, case.lat) == (pytest.approx(first["lon"]), pytest.approx(first["lat"]))
    assert case.unit_grid_id == where.unit_grid_id and case.responsibility_grid_id == where.responsibility_grid_id
    assert case.community_id == where.community_id and case.district_id == where.district_id
    assert case.address and case.address != AMBIGUOUS  # the gazetteer's words for the point chosen
    e = CaseEvent.objects.filter(case=case).order_by("-seq").first()
    assert e.action == "locate" and e.from_state == State.UNLOCATED and e.to_state == State.REPORTED
    assert e.role == "intake_operator" and e.data["candidate"] == first["label"]
    assert [s["stage"] for s in e.data["stopped"]] == [Stage.LOCATE] and e.stage == Stage.ACCEPT
    assert e.data["place"]["unit_grid_id"] == where.unit_grid_id
    # the record still proves itself, and the case goes on like any located report
    from django.utils import timezone

    from urbangrid.cases.replay import disagreements

    assert disagreements(case, list(CaseEvent.objects.filter(case=case).order_by("seq")), timezone.now()) == []
    assert c.post(f"/cases/{case.number}/act/accept/", {}).status_code == 302
    got = Client().get(f"/open311/v2/requests/{case.number}.json").json()[0]
    assert got["lat"] == pytest.approx(case.lat) and got["address_id"] == case.unit_grid.code


def test_the_api_places_a_case_with_lon_and_lat(demo_city):
    case = unlocated(NOWHERE)
    page = client("intake_operator").get(f"/cases/{case.number}/").content.decode()
    assert 'id="no-candidates"' in page and 'data-unlocated="1"' in page and 'id="locate-point"' in page
    r = client("intake_operator").post(f"/api/v1/cases/{case.number}/actions/locate",
                                       {"lon": str(INSIDE_WG01[0]), "lat": str(INSIDE_WG01[1])})
    assert r.status_code == 200, r.content
    assert r.json()["state"] == State.REPORTED and r.json()["unit_grid_code"]


def test_only_the_centres_intake_may_place_a_case(demo_city):
    case = unlocated()
    data = {"point": f"{INSIDE_WG01[0]},{INSIDE_WG01[1]}"}
    assert client("unit_handler").post(f"/api/v1/cases/{case.number}/actions/locate", data).status_code in (403, 404)
    r = client("dispatcher").post(f"/api/v1/cases/{case.number}/actions/locate", data)
    assert r.status_code == 403
    assert 'data-action="locate"' not in client("dispatcher").get(f"/cases/{case.number}/").content.decode()
    case.refresh_from_db()
    assert case.state == State.UNLOCATED and CaseEvent.objects.filter(case=case).count() == 1


@pytest.mark.parametrize("data,words", [({}, "候选地址"), ({"point": "abc"}, "经度"), ({"point": "1,2,3"}, "经度,纬度"),
                                        ({"point": f"{OUTSIDE[0]},{OUTSIDE[1]}"}, ""), ({"lon": "117.2"}, "候选地址")])
def test_bad_points_are_refused_and_nothing_is_written(demo_city, data, words):
    case = unlocated()
    c = client("intake_operator")
    r = c.post(f"/api/v1/cases/{case.number}/actions/locate", data)
    assert r.status_code == 422 and "point" in r.json()["fields"] and words in r.json()["fields"]["point"]
    page = c.post(f"/cases/{case.number}/act/locate/", data)
    assert page.status_code == 422 and 'id="locate-point-error"' in page.content.decode()
    after = Case.objects.get(pk=case.pk)
    assert after.state == State.UNLOCATED and after.version == case.version and after.lon is None
    assert CaseEvent.objects.filter(case=case).count() == 1


def test_an_unlocatable_report_is_voided(demo_city):
    case = unlocated(NOWHERE)
    r = client("shift_lead").post(f"/cases/{case.number}/act/void/", {"reason": "地址无法核实，联系不上举报人"})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == State.VOIDED and case.stage == ""
    e = CaseEvent.objects.filter(case=case).order_by("-seq").first()
    assert [s["stage"] for s in e.data["stopped"]] == [Stage.LOCATE]


def test_hotline_order_without_a_point(demo_city):
    c = client("intake_operator")
    base = {"hotline": "12345", "catalog_version": "local-demo-2026", "class_code": "21001", "description": "路面塌陷"}
    r = c.post("/api/v1/hotline/orders", {**base, "external_no": "GD1", "address": NOWHERE}, content_type="application/json")
    assert r.status_code == 201, r.content
    assert r.json()["state"] == State.UNLOCATED
    r = c.post("/api/v1/hotline/orders", {**base, "external_no": "GD2", "address": "长江路318号"}, content_type="application/json")
    assert r.status_code == 201 and r.json()["state"] == State.REPORTED
    assert Case.objects.get(external_ref="12345:GD2").unit_grid_id is not None
    r = c.post("/api/v1/hotline/orders", {**base, "external_no": "GD3"}, content_type="application/json")
    assert r.status_code == 422 and "location" in r.json()["fields"]
    assert not Case.objects.filter(external_ref="12345:GD3").exists()


def test_hotline_desk_form_without_a_point(demo_city):
    from urbangrid.catalog.models import CatalogClass

    cls = CatalogClass.objects.get(version__code="local-demo-2026", code="21001")
    c = client("intake_operator")
    form = {"hotline": "12345", "catalog_class": cls.pk, "description": "路面塌陷", "caller_name": "张三"}
    r = c.post("/centre/hotline/", {**form, "external_no": "H1"})
    assert r.status_code == 400 and "请填写经纬度或地址" in r.content.decode()
    r = c.post("/centre/hotline/", {**form, "external_no": "H1", "lon": "117.2"})
    assert r.status_code == 400 and "一起填写" in r.content.decode()
    assert not Case.objects.filter(external_ref="12345:H1").exists()
    r = c.post("/centre/hotline/", {**form, "external_no": "H1", "address": NOWHERE})
    assert r.status_code == 302
    case = Case.objects.get(external_ref="12345:H1")
    assert case.state == State.UNLOCATED and case.address == NOWHERE
    r = c.post("/centre/hotline/", {**form, "external_no": "H2", "address": "长江路318号"})
    assert r.status_code == 302 and Case.objects.get(external_ref="12345:H2").state == State.REPORTED


def test_figures_and_maps_leave_a_case_without_a_point_out(demo_city):
    """The evaluation, the dashboard's map and heatmap answer with a 待定位 case in the period (no grid, no point)."""
    case = unlocated(NOWHERE)
    leader = client("leader")
    for path in ("units", "positions", *(f"regions?level={lv}" for lv in ("grid", "responsibility_grid", "community",
                                                                           "street", "district"))):
        r = leader.get(f"/api/v1/evaluation/{path}")
        assert r.status_code == 200, (path, r.content[:300])
    from django.utils import timezone

    from urbangrid.dashboard import metrics
    from urbangrid.org.scope import actor_for

    me = actor_for(get_user_model().objects.get(username="leader"))
    today = timezone.localdate()
    f = metrics.Filters(date_from=today, date_to=today)
    assert case.number not in [row[3] for row in metrics.open_case_map(me, f)["cases"]]
    assert all(p[0] is not None for p in metrics.heat_points(me, f))
