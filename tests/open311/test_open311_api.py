"""Open311 GeoReport v2 on the demo city, through the Django test client, in XML and in JSON."""
import json
import xml.etree.ElementTree as ET
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone

from urbangrid.cases import services
from urbangrid.cases.models import Case, CaseEvent
from urbangrid.org.models import RoleAssignment
from urbangrid.org.roles import Role
from urbangrid.org.scope import Actor
from urbangrid.public.models import Open311Key, Open311Request, Open311Update
from urbangrid.public.open311 import keys

pytestmark = pytest.mark.django_db
INSIDE = (117.2352, 31.8785)
OUTSIDE = (116.0, 30.0)
SERVICE = "local-demo-2026:event:21001"  # 路面塌陷, a local extension matter of the 2026 catalogue
BASE = "/open311/v2"


@pytest.fixture
def api_key(demo_city):
    _key, raw = keys.issue("测试系统", contact="ops@example.invalid")
    return raw


@pytest.fixture
def c():
    return Client()


def get(c, path, fmt, **params):
    return c.get(f"{BASE}/{path}.{fmt}", params)


def post(c, path, fmt, **data):
    return c.post(f"{BASE}/{path}.{fmt}", data)


def parse(response, fmt):
    """The body as Python: JSON as is; XML as (root tag, [children as dicts]) for collections."""
    if fmt == "json":
        assert response["Content-Type"] == "application/json; charset=utf-8"
        return json.loads(response.content)
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)


def xml_items(root, root_tag, item_tag):
    assert root.tag == root_tag, root.tag
    assert all(child.tag == item_tag for child in root)
    return [{e.tag: (e.text if len(e) == 0 else e) for e in item} for item in root]


def items(response, fmt, root_tag, item_tag):
    body = parse(response, fmt)
    if fmt == "json":
        assert isinstance(body, list)
        return body
    return xml_items(body, root_tag, item_tag)


def errors_of(response, fmt):
    rows = items(response, fmt, "errors", "error")
    assert rows and all("description" in r for r in rows)
    return rows


def new_request(c, api_key, fmt="json", **extra):
    data = {"api_key": api_key, "service_code": SERVICE, "lat": INSIDE[1], "long": INSIDE[0],
            "description": "路面塌陷约一平方米", **extra}
    r = post(c, "requests", fmt, **data)
    assert r.status_code == 200, r.content
    return items(r, fmt, "service_requests", "request")[0]["service_request_id"]


def centre():
    return Actor(user=SimpleNamespace(pk=None, is_authenticated=True, is_superuser=False),
                 roles={Role.INTAKE_OPERATOR, Role.SHIFT_LEAD, Role.DISPATCHER}, city_wide=True)


def handler_unit():
    return RoleAssignment.objects.get(person__user__username="unit_handler", role="unit_handler").unit


def to_handling(number):
    """Accept, file and dispatch the case (to the demo unit_handler's unit unless auto-dispatched); returns the case."""
    services.transition(centre(), number, "accept", {"opinion": "受理"})
    case = services.transition(centre(), number, "file", {})
    if case.state == "pending_dispatch":
        case = services.transition(centre(), number, "dispatch", {"unit": handler_unit().code, "opinion": "请处置"})
    assert case.state == "handling"
    return case


# --- discovery and services ---------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_discovery(c, demo_city, fmt):
    r = get(c, "discovery", fmt)
    assert r.status_code == 200
    body = parse(r, fmt)
    if fmt == "json":
        assert body["contact"] and body["key_service"] and body["changeset"]
        ep = body["endpoints"][0]
        assert ep["specification"] == "http://wiki.open311.org/GeoReport_v2" and ep["url"].endswith("/open311/v2/")
        assert ep["formats"] == ["text/xml", "application/json"] and ep["type"] in ("production", "test")
    else:
        assert body.tag == "discovery" and body.findtext("contact") and body.findtext("changeset")
        formats = [f.text for f in body.findall("endpoints/endpoint/formats/format")]
        assert formats == ["text/xml", "application/json"]
        assert body.findtext("endpoints/endpoint/specification") == "http://wiki.open311.org/GeoReport_v2"


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_services_and_definition(c, demo_city, fmt):
    rows = items(get(c, "services", fmt), fmt, "services", "service")
    by_code = {r["service_code"]: r for r in rows}
    assert SERVICE in by_code and len(by_code) == len(rows) > 50
    s = by_code[SERVICE]
    assert s["type"] == "realtime" and s["group"] and s["service_name"] and s["keywords"]
    assert s["metadata"] in (False, "false")
    assert {code.split(":")[0] for code in by_code} == {"gbt47678.5-2026", "local-demo-2026"}  # current versions only
    assert "gbt47678.5-2026:event:06010" in by_code
    d = get(c, f"services/{SERVICE}", fmt)
    assert d.status_code == 200
    body = parse(d, fmt)
    if fmt == "json":
        assert body == {"service_code": SERVICE, "attributes": []}
    else:
        assert body.tag == "service_definition" and body.findtext("service_code") == SERVICE
    missing = get(c, "services/local-demo:event:9999", fmt)
    assert missing.status_code == 404 and errors_of(missing, fmt)[0]["code"] in (404, "404")


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_replaced_code_still_answers_with_its_successor(c, api_key, fmt):
    """Requests keep the code of the catalogue they were filed under: after the switch to GB/T 47678.5-2026 the
    old code's definition answers, marked replaced, with the current code; posting it is refused, naming it."""
    old, new = "local-demo:event:0102", "gbt47678.5-2026:event:06010"  # 暴露垃圾
    codes = [r["service_code"] for r in items(get(c, "services", fmt), fmt, "services", "service")]
    assert old not in codes and new in codes
    d = get(c, f"services/{old}", fmt)
    assert d.status_code == 200
    body = parse(d, fmt)
    if fmt == "json":
        assert (body["service_code"], body["replaced"], body["replaced_by"]) == (old, True, [new])
        (attribute,) = body["attributes"]
        assert attribute["variable"] is False and new in attribute["description"]
    else:
        assert body.tag == "service_definition" and body.findtext("replaced") == "true"
        assert [e.text for e in body.find("replaced_by")] == [new]
        assert body.findtext("attributes/attribute/variable") == "false" and new in body.findtext("attributes/attribute/description")
    # A split old class names every candidate; a class without a counterpart says there is none.
    split = parse(get(c, "services/local-demo:event:0202", fmt), fmt)
    if fmt == "json":
        assert split["replaced_by"] == ["gbt47678.5-2026:event:07003", "gbt47678.5-2026:event:07006"]
        assert parse(get(c, "services/cjt214-2007:component:0602", fmt), fmt)["replaced_by"] == []
    posted = post(c, "requests", fmt, api_key=api_key, service_code=old, lat=INSIDE[1], long=INSIDE[0])
    assert posted.status_code == 400 and new in errors_of(posted, fmt)[0]["description"]
    assert not Case.objects.exists()


# --- POST requests ------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_create_request(c, api_key, fmt):
    r = post(c, "requests", fmt, api_key=api_key, service_code=SERVICE, lat=INSIDE[1], long=INSIDE[0],
             address_string="长江中路 1 号", description="路面塌陷\n约一平方米", first_name="三", last_name="张",
             phone="13800000000", email="z@example.invalid", device_id="dev-1", media_url="https://img.example/1.jpg")
    assert r.status_code == 200, r.content
    rows = items(r, fmt, "service_requests", "request")
    assert len(rows) == 1 and "token" not in rows[0]
    case = Case.objects.get(number=rows[0]["service_request_id"])
    assert case.source == "open311" and case.state == "reported" and case.class_code == "21001"
    assert case.reporter_name == "三 张" and "13800000000" in case.reporter_contact and case.address == "长江中路 1 号"
    assert Open311Request.objects.get(case=case).media_url == "https://img.example/1.jpg"
    # The same submission again (a retry) answers the same case; another report from the device is new.
    again = post(c, "requests", fmt, api_key=api_key, service_code=SERVICE, lat=INSIDE[1], long=INSIDE[0],
                 address_string="长江中路 1 号", description="路面塌陷\n约一平方米", device_id="dev-1")
    assert items(again, fmt, "service_requests", "request")[0]["service_request_id"] == case.number
    other = new_request(c, api_key, fmt, device_id="dev-1", description="另一处塌陷")
    assert other != case.number
    # Its public view: no reporter name or contact anywhere.
    shown = get(c, f"requests/{case.number}", fmt)
    assert b"13800000000" not in shown.content and "张".encode() not in shown.content
    req = items(shown, fmt, "service_requests", "request")[0]
    assert req["media_url"] == "https://img.example/1.jpg" and req["address"] == "长江中路 1 号"


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_create_errors(c, api_key, fmt):
    base = {"service_code": SERVICE, "lat": INSIDE[1], "long": INSIDE[0], "description": "x"}
    r = post(c, "requests", fmt, **base)
    assert r.status_code == 403 and errors_of(r, fmt)[0]["code"] in (403, "403")
    r = post(c, "requests", fmt, api_key="wrong", **base)
    assert r.status_code == 403
    Open311Key.objects.update(active=False)
    assert post(c, "requests", fmt, api_key=api_key, **base).status_code == 403
    Open311Key.objects.update(active=True)
    r = post(c, "requests", fmt, api_key=api_key, **{**base, "service_code": "local-demo:event:9999"})
    assert r.status_code == 404
    assert post(c, "requests", fmt, api_key=api_key, **{**base, "service_code": ""}).status_code == 400
    no_location = {"api_key": api_key, "service_code": SERVICE, "description": "x"}
    r = post(c, "requests", fmt, **no_location)
    assert r.status_code == 400 and "location" in errors_of(r, fmt)[0]["description"]
    r = post(c, "requests", fmt, **no_location, address_string="幸福大街\x00 1 号")
    assert r.status_code == 400 and "address_string" in errors_of(r, fmt)[0]["description"]
    assert post(c, "requests", fmt, **no_location, lat=INSIDE[1]).status_code == 400
    assert post(c, "requests", fmt, **no_location, lat="abc", long="def").status_code == 400
    assert post(c, "requests", fmt, api_key=api_key, **{**base, "lat": OUTSIDE[1], "long": OUTSIDE[0]}).status_code == 400
    assert post(c, "requests", fmt, api_key=api_key, **{**base, "description": "长" * 4001}).status_code == 400
    assert post(c, "requests", fmt, api_key=api_key, **{**base, "media_url": "javascript:alert(1)"}).status_code == 400
    assert Case.objects.filter(source="open311").count() == 0


def test_address_id_is_a_unit_grid(c, api_key):
    from urbangrid.grids.models import UnitGrid

    grid = UnitGrid.objects.exclude(geometry=None).first()
    r = post(c, "requests", "json", api_key=api_key, service_code=SERVICE, address_id=grid.code, description="井盖缺失")
    assert r.status_code == 200, r.content
    case = Case.objects.get(number=r.json()[0]["service_request_id"])
    assert case.unit_grid_id == grid.pk
    assert c.get(f"{BASE}/requests/{case.number}.json").json()[0]["address_id"] == grid.code


def test_posts_are_csrf_exempt_and_rate_limited(api_key, settings):
    import secrets

    settings.URBANGRID_OPEN311_POSTS_PER_HOUR = 2
    here, there = (f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{n}" for n in (1, 2))
    c = Client(enforce_csrf_checks=True, REMOTE_ADDR=here)
    bad = post(c, "requests", "json", api_key="wrong", service_code=SERVICE)
    assert bad.status_code == 403 and bad.json()[0]["code"] == 403  # the API's 403, not a CSRF page
    new_request(c, api_key)
    r = post(c, "requests", "xml", api_key=api_key, service_code=SERVICE, lat=INSIDE[1], long=INSIDE[0], description="x")
    assert r.status_code == 429 and errors_of(r, "xml")[0]["code"] == "429"
    other = Client(REMOTE_ADDR=there)
    assert post(other, "requests", "json", api_key=api_key, service_code=SERVICE, lat=INSIDE[1], long=INSIDE[0],
                description="x").status_code == 200
    assert get(c, "services", "json").status_code == 200  # GETs are not limited


def test_method_not_allowed(c, demo_city):
    r = c.delete(f"{BASE}/requests.json")
    assert r.status_code == 405 and r.json()[0]["code"] == 405


# --- GET requests -------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_get_requests_fields_and_filters(c, api_key, fmt):
    first = new_request(c, api_key)
    second = new_request(c, api_key, description="第二处")
    closed = new_request(c, api_key, description="第三处")
    services.transition(centre(), closed, "not_file", {"reason": "重复上报（内部）", "public_note": "同一问题已有人反映"})
    rows = items(get(c, "requests", fmt), fmt, "service_requests", "request")
    numbers = [r["service_request_id"] for r in rows]
    assert numbers[:3] == [closed, second, first]  # newest first
    row = {r["service_request_id"]: r for r in rows}[first]
    assert row["status"] == "open" and row["service_code"] == SERVICE and row["description"] == "路面塌陷约一平方米"
    assert float(row["lat"]) == INSIDE[1] and float(row["long"]) == INSIDE[0] and len(row["address_id"]) == 15
    assert row["requested_datetime"].endswith("+08:00") and row["updated_datetime"].endswith("+08:00")
    assert row["agency_responsible"]  # resolved from the responsibility list before dispatch
    closed_row = {r["service_request_id"]: r for r in rows}[closed]
    # status_notes: the state in plain words and the step's answer to the citizen, never its (internal) reason.
    assert closed_row["status"] == "closed" and closed_row["status_notes"] == "经核实不属于受理范围，未立案：同一问题已有人反映"
    assert row["status_notes"] == "已收到，等待受理"
    # Filters; empty parameters are the same as absent ones.
    only_closed = items(get(c, "requests", fmt, status="closed"), fmt, "service_requests", "request")
    assert closed in [r["service_request_id"] for r in only_closed] and all(r["status"] == "closed" for r in only_closed)
    only_open = items(get(c, "requests", fmt, status="open", service_code=SERVICE), fmt, "service_requests", "request")
    assert {r["service_request_id"] for r in only_open} >= {first, second} and closed not in [r["service_request_id"] for r in only_open]
    empty = items(get(c, "requests", fmt, status="", service_code="", start_date="", end_date="", page="", page_size="",
                      service_request_id="", jurisdiction_id=""), fmt, "service_requests", "request")
    assert [r["service_request_id"] for r in empty] == numbers
    assert items(get(c, "requests", fmt, service_code="local-demo:event:9999"), fmt, "service_requests", "request") == []
    # service_request_id overrides every other argument.
    both = items(get(c, "requests", fmt, service_request_id=f"{first},{closed},nope", status="open",
                     start_date="2001-01-01T00:00:00+08:00", end_date="2001-01-02T00:00:00+08:00"),
                 fmt, "service_requests", "request")
    assert [r["service_request_id"] for r in both] == [first, closed]


def test_get_requests_dates_and_pagination(c, api_key):
    made = [new_request(c, api_key, description=f"第{i}处") for i in range(5)]
    page1 = c.get(f"{BASE}/requests.json", {"page_size": 2}).json()
    page2 = c.get(f"{BASE}/requests.json", {"page_size": 2, "page": 2}).json()
    page3 = c.get(f"{BASE}/requests.json", {"page_size": 2, "page": 3}).json()
    got = [r["service_request_id"] for r in page1 + page2 + page3]
    assert got == made[::-1] and len(page3) == 1
    assert c.get(f"{BASE}/requests.json", {"page": 0}).status_code == 400
    assert c.get(f"{BASE}/requests.json", {"page_size": "x"}).status_code == 400
    now = timezone.localtime()
    window = {"start_date": (now - timedelta(hours=1)).isoformat(), "end_date": (now + timedelta(hours=1)).isoformat()}
    assert len(c.get(f"{BASE}/requests.json", window).json()) == 5
    # A '+' that arrived as a space (unencoded query string) is still a timezone.
    raw = c.get(f"{BASE}/requests.json?start_date={(now - timedelta(hours=1)).strftime('%Y-%m-%dT%H:%M:%S')}+08:00")
    assert raw.status_code == 200 and len(raw.json()) == 5
    zulu = (timezone.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert c.get(f"{BASE}/requests.json", {"start_date": zulu}).json() == []
    assert c.get(f"{BASE}/requests.json", {"start_date": "yesterday"}).status_code == 400
    long_range = {"start_date": "2025-01-01T00:00:00+08:00", "end_date": "2025-12-01T00:00:00+08:00"}
    r = c.get(f"{BASE}/requests.xml", long_range)
    assert r.status_code == 400 and b"<errors><error><code>400</code>" in r.content
    assert c.get(f"{BASE}/requests.json", {"status": "pending"}).status_code == 400


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_one_request_and_tokens(c, api_key, fmt):
    number = new_request(c, api_key)
    r = get(c, f"requests/{number}", fmt)
    assert r.status_code == 200
    rows = items(r, fmt, "service_requests", "request")
    assert len(rows) == 1 and rows[0]["service_request_id"] == number
    if fmt == "json":
        assert isinstance(json.loads(r.content), list)
    missing = get(c, "requests/20990000001", fmt)
    assert missing.status_code == 404 and errors_of(missing, fmt)
    token = get(c, "tokens/abc123", fmt)
    assert token.status_code == 404 and errors_of(token, fmt)


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_extensions_notes(c, api_key, fmt):
    number = new_request(c, api_key, first_name="四", last_name="李", phone="13911112222")
    case = to_handling(number)
    plain = items(get(c, f"requests/{number}", fmt), fmt, "service_requests", "request")[0]
    assert "notes" not in plain
    r = get(c, f"requests/{number}", fmt, extensions="true")
    row = items(r, fmt, "service_requests", "request")[0]
    if fmt == "json":
        notes = row["notes"]
    else:
        notes = [{e.tag: e.text for e in n} for n in row["notes"].findall("note")]
    assert [n["action"] for n in notes] == list(CaseEvent.objects.filter(case=case, public=True).order_by("seq")
                                                .values_list("action", flat=True))
    assert notes[0]["type"] == "submitted" and notes[0]["datetime"].endswith("+08:00")
    # The staff's opinions ("受理", the dispatcher's "请处置") are internal: no step gave the citizen an answer.
    assert any(n["action"] == "dispatch" for n in notes) and all(n.get("description") is None for n in notes)
    assert "请处置".encode() not in r.content
    assert row["agency_responsible"] == case.current_unit.name and row["expected_datetime"].endswith("+08:00")
    assert b"13911112222" not in r.content and "李".encode() not in r.content
    staff_names = [p for p in CaseEvent.objects.filter(case=case).values_list("actor_person__name", flat=True) if p]
    assert all(name.encode() not in r.content for name in staff_names)


def test_xml_escapes_markup(c, api_key):
    text = '<script>alert("x")</script> & <b>粗</b>'
    number = new_request(c, api_key, description=text)
    r = c.get(f"{BASE}/requests/{number}.xml")
    assert b"<script>" not in r.content and b"&lt;script&gt;" in r.content
    assert ET.fromstring(r.content).findtext("request/description") == text
    assert c.get(f"{BASE}/requests/{number}.json").json()[0]["description"] == text


# --- servicerequestupdates ----------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_updates_get(c, api_key, fmt):
    number = new_request(c, api_key)
    case = to_handling(number)
    assert get(c, "servicerequestupdates", fmt).status_code == 403
    assert get(c, "servicerequestupdates", fmt, api_key="nope").status_code == 403
    r = get(c, "servicerequestupdates", fmt, api_key=api_key, start_date="", end_date="")
    assert r.status_code == 200
    rows = items(r, fmt, "service_requests_updates", "request_update")
    mine = [u for u in rows if u["service_request_id"] == number]
    events = list(CaseEvent.objects.filter(case=case, public=True).exclude(action="report").order_by("at", "pk"))
    assert [u["update_id"] for u in mine] == [str(e.pk) for e in events]
    assert mine[-1]["status"] == "IN_PROGRESS" and mine[-1]["updated_datetime"].endswith("+08:00")
    assert {u["status"] for u in mine} <= {"INVESTIGATING", "ACTION_SCHEDULED", "IN_PROGRESS"}
    now = timezone.localtime()
    window = get(c, "servicerequestupdates", fmt, api_key=api_key, start_date=(now + timedelta(minutes=5)).isoformat(),
                 end_date=(now + timedelta(hours=1)).isoformat())
    assert items(window, fmt, "service_requests_updates", "request_update") == []


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_updates_post_feeds_back(c, api_key, fmt):
    number = new_request(c, api_key)
    case = to_handling(number)
    key, raw = keys.issue("区市政", unit=case.current_unit, can_post_updates=True)
    data = {"api_key": raw, "service_request_id": number, "update_id": "fms-77", "status": "FIXED",
            "description": "已回填修复", "updated_datetime": timezone.localtime().isoformat()}
    # A key without a unit, or without the right, may not post.
    assert post(c, "servicerequestupdates", fmt, **{**data, "api_key": api_key}).status_code == 403
    assert post(c, "servicerequestupdates", fmt, **{**data, "update_id": ""}).status_code == 400
    assert post(c, "servicerequestupdates", fmt, **{**data, "service_request_id": "20990000001"}).status_code == 404
    assert post(c, "servicerequestupdates", fmt, **{**data, "status": "WHATEVER"}).status_code == 400
    progress = post(c, "servicerequestupdates", fmt, **{**data, "update_id": "fms-76", "status": "IN_PROGRESS",
                                                         "description": "已安排施工"})
    assert progress.status_code == 200 and Case.objects.get(pk=case.pk).state == "handling"
    # FIXED is 处置反馈: like the cases API it needs the after photo, uploaded as ``media``; without one it is
    # refused and nothing is recorded.
    bare = post(c, "servicerequestupdates", fmt, **data)
    assert bare.status_code == 400 and "photos" in errors_of(bare, fmt)[0]["description"]
    assert Case.objects.get(pk=case.pk).state == "handling" and not Open311Update.objects.filter(update_id="fms-77").exists()
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ug_testing import jpeg

    r = post(c, "servicerequestupdates", fmt, **data, media=SimpleUploadedFile("after.jpg", jpeg().getvalue(), "image/jpeg"))
    assert r.status_code == 200, r.content
    rows = items(r, fmt, "service_request_updates", "request_update")
    case.refresh_from_db()
    event = CaseEvent.objects.filter(case=case).order_by("-seq").first()
    assert case.state == "fed_back" and event.action == "feed_back" and event.note == "已回填修复"
    assert event.photos.filter(kind="after").count() == 1
    assert rows[0]["update_id"] == str(event.pk) and Open311Update.objects.get(key=key, update_id="fms-77").event == event
    # The same update sent again (a retry after a lost answer) gets the first answer; nothing more is written.
    again = post(c, "servicerequestupdates", fmt, **data)
    assert again.status_code == 200 and items(again, fmt, "service_request_updates", "request_update") == rows
    assert CaseEvent.objects.filter(case=case).count() == event.seq
    # The feedback shows in GET servicerequestupdates; the case is no longer in handling, so FIXED again is refused.
    listed = get(c, "servicerequestupdates", fmt, api_key=raw, service_request_id=number)
    assert str(event.pk) in [u["update_id"] for u in items(listed, fmt, "service_requests_updates", "request_update")]
    late = post(c, "servicerequestupdates", fmt, **{**data, "update_id": "fms-78"})
    assert late.status_code == 400 and not Open311Update.objects.filter(update_id="fms-78").exists()


def test_updates_post_refused_for_another_units_case(c, api_key):
    from urbangrid.org.models import Unit

    number = new_request(c, api_key)
    case = to_handling(number)
    other = next(u for u in Unit.objects.order_by("pk") if case.current_unit_id not in u.descendants_ids())
    _key, raw = keys.issue("别的单位", unit=other, can_post_updates=True)
    r = post(c, "servicerequestupdates", "json", api_key=raw, service_request_id=number, update_id="1", status="FIXED",
             description="修好了")
    assert r.status_code == 403 and Case.objects.get(pk=case.pk).state == "handling"


def test_demo_key_is_stable_and_may_post_updates(demo_city):
    before = Open311Key.objects.filter(owner__contains="示范").count()  # the demo city's own (per install)
    raw = keys.ensure_demo_key(7)
    assert keys.ensure_demo_key(7) == raw and Open311Key.objects.filter(owner__contains="示范").count() == before + 1
    key = keys.authenticate(raw)
    assert key is not None and key.can_post_updates and key.unit == handler_unit()


def test_admin_shows_a_new_key_once(demo_city):
    from django.contrib.auth import get_user_model

    admin = Client()
    admin.force_login(get_user_model().objects.get(username="admin"))
    r = admin.post("/admin/public/open311key/add/", {"owner": "12345 热线", "contact": "x", "active": "on"}, follow=True)
    assert r.status_code == 200
    shown = [str(m) for m in r.context["messages"]]
    raw = next(m.split("：")[-1] for m in shown if "ug311_" in m)
    key = keys.authenticate(raw)
    assert key is not None and key.owner == "12345 热线" and raw not in key.key_hash


def test_fixmystreet_id_and_uploaded_media(c, api_key):
    from urbangrid.cases.models import CasePhoto

    from ug_testing import jpeg

    first = new_request(c, api_key, **{"attribute[fixmystreet_id]": "4242", "media[]": jpeg()})
    assert CasePhoto.objects.filter(case__number=first, kind="before").count() == 1
    # FixMyStreet re-sends the same report (other text, same id): the same case answers.
    again = new_request(c, api_key, **{"attribute[fixmystreet_id]": "4242", "description": "重发"})
    assert again == first and Case.objects.filter(source="open311").count() == 1
    assert new_request(c, api_key, **{"attribute[fixmystreet_id]": "4243"}) != first


def test_api_key_in_the_query_string_of_a_post(c, api_key):
    r = c.post(f"{BASE}/requests.json?api_key={api_key}", {"service_code": SERVICE, "lat": INSIDE[1], "long": INSIDE[0],
                                                           "description": "x"})
    assert r.status_code == 200 and Case.objects.filter(number=r.json()[0]["service_request_id"]).exists()


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_oversize_fields_and_nul_characters_are_refused_not_cut(c, api_key, fmt):
    base = {"api_key": api_key, "service_code": SERVICE, "lat": INSIDE[1], "long": INSIDE[0], "description": "井盖缺失"}
    before = Case.objects.count()
    for extra, field in (({"address_string": "长江西路" * 70}, "address_string"), ({"first_name": "张" * 30}, "first_name"),
                         ({"email": "a" * 60 + "@x.cn"}, "email"), ({"description": "井盖\x00缺失"}, "description"),
                         ({"attribute[fixmystreet_id]": "9" * 61}, "attribute[fixmystreet_id]")):
        r = post(c, "requests", fmt, **{**base, **extra})
        assert r.status_code == 400, (field, r.content)
        assert field in errors_of(r, fmt)[0]["description"]
    assert Case.objects.count() == before
    # at the limits they are kept whole
    number = new_request(c, api_key, fmt, address_string="长" * 256, first_name="张" * 24, last_name="三" * 24)
    case = Case.objects.get(number=number)
    assert case.address == "长" * 256 and case.reporter_name == "张" * 24 + " " + "三" * 24
