"""The case loop through the HTTP API on the demo city: a full loop, every branch, and the refusals."""
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from urbangrid.cases.models import Case, CaseEvent
from urbangrid.catalog.models import CatalogClass, Component
from urbangrid.grids.locator import locator
from urbangrid.org.models import Person, RoleAssignment

from ug_testing import jpeg

pytestmark = pytest.mark.django_db
INSIDE_WG01 = (117.2352, 31.8785)  # WG01 (中山区), patrolled by the demo inspector
INSIDE_WG40 = (117.2800, 31.8600)


def client_for(username):
    c = Client()
    c.force_login(get_user_model().objects.get(username=username))
    return c


def client_for_person(person, username):
    user, _ = get_user_model().objects.get_or_create(username=username)
    Person.objects.filter(pk=person.pk).update(user=user)
    c = Client()
    c.force_login(user)
    return c


def report(c, code="0401", version="local-demo", point=INSIDE_WG01, **extra):
    data = {"catalog_version": version, "class_code": code, "lon": point[0], "lat": point[1],
            "description": "路面出现塌陷，约一平方米", "source": "inspector", "photos": [jpeg()], **extra}
    return c.post("/api/v1/cases", data)


def act(c, number, action, **data):
    return c.post(f"/api/v1/cases/{number}/actions/{action}", data)


def handler_unit():
    """The unit the demo's unit_handler login works for."""
    return RoleAssignment.objects.get(person__user__username="unit_handler", role="unit_handler").unit.code


@pytest.fixture
def staff(demo_city):
    return {role: client_for(role) for role in ("inspector", "intake_operator", "shift_lead", "dispatcher",
                                                "district_dispatcher", "unit_handler", "leader", "grid_leader", "assessor")}


def test_full_loop(staff):
    r = report(staff["inspector"])
    assert r.status_code == 201, r.content
    case = r.json()
    number = case["number"]
    assert case["state"] == "reported" and case["responsibility_grid_code"] == "WG01" and case["stage"] == "accept"
    assert len(number) == 11 and number.startswith(case["created_at"][:4])
    assert act(staff["intake_operator"], number, "accept").status_code == 200
    assert act(staff["shift_lead"], number, "file").status_code == 200
    sug = staff["dispatcher"].get(f"/api/v1/cases/{number}/dispatch-suggestion").json()
    assert sug["unit_code"] == "CGJ-SZ" and sug["time_limit_value"] == "2.0" and "路面塌陷" in sug["explanation"]
    # The dispatcher may send it elsewhere than suggested; the handling limit still comes from the class's rule.
    d = act(staff["dispatcher"], number, "dispatch", unit=handler_unit(), opinion="请速处置")
    assert d.status_code == 200, d.content
    assert d.json()["state"] == "handling" and d.json()["current_unit_code"] == handler_unit() and d.json()["urgency"] == "urgent"
    # The unit sees it in its to-do list; the feedback needs an after-photo.
    todo = staff["unit_handler"].get("/api/v1/cases/todo").json()
    assert number in [c["number"] for c in todo["items"]]
    no_photo = act(staff["unit_handler"], number, "feed_back", opinion="已回填")
    assert no_photo.status_code == 422 and "photos" in no_photo.json()["fields"]
    fb = staff["unit_handler"].post(f"/api/v1/cases/{number}/actions/feed_back", {"opinion": "已回填修复", "photos": [jpeg((0, 200, 0))]})
    assert fb.status_code == 200, fb.content
    assert act(staff["intake_operator"], number, "send_check").status_code == 200
    ok = staff["inspector"].post(f"/api/v1/cases/{number}/actions/check_pass", {"opinion": "已修复", "photos": [jpeg()]})
    assert ok.status_code == 200, ok.content
    closed = act(staff["shift_lead"], number, "close")
    assert closed.status_code == 200
    body = closed.json()
    assert body["state"] == "closed" and body["archive_type"] == "normal" and body["stage"] == ""
    assert [e["action"] for e in body["events"]] == ["report", "accept", "file", "dispatch", "feed_back", "send_check",
                                                    "check_pass", "close"]
    assert [e["seq"] for e in body["events"]] == list(range(1, 9))
    assert {p["kind"] for p in body["photos"]} == {"before", "after", "check"}
    assert staff["inspector"].get(body["photos"][0]["url"]).status_code == 200
    assert all(e["data"]["stopped"][0]["on_time"] for e in body["events"] if e["data"].get("stopped"))
    # Each event names the post the work was done in, even for a login holding several roles with the
    # permission (the demo's unit handler is also a 分网格长).
    roles = {e["action"]: e["role"] for e in body["events"]}
    assert roles["feed_back"] == "unit_handler" and roles["check_pass"] == "inspector" and roles["dispatch"] == "dispatcher"


def _to_handling(staff, code="0401", point=INSIDE_WG01):
    number = report(staff["inspector"], code=code, point=point).json()["number"]
    act(staff["intake_operator"], number, "accept")
    act(staff["shift_lead"], number, "file")
    assert act(staff["dispatcher"], number, "dispatch", unit=handler_unit()).status_code == 200
    return number


def test_return_and_redispatch(staff):
    number = _to_handling(staff)
    assert act(staff["unit_handler"], number, "request_return", reason="不属于本单位").json()["state"] == "return_requested"
    refused_role = act(staff["unit_handler"], number, "approve_return", opinion="x")
    assert refused_role.status_code == 403
    back = act(staff["dispatcher"], number, "approve_return", opinion="同意，改派")
    assert back.json()["state"] == "pending_dispatch" and back.json()["return_count"] == 1 and back.json()["current_unit_code"] is None
    assert act(staff["dispatcher"], number, "dispatch", unit=handler_unit()).json()["state"] == "handling"


def test_rework_extension_suspension(staff):
    number = _to_handling(staff)
    before = act(staff["unit_handler"], number, "request_extension", reason="材料未到", extra_value="1", extra_unit="working_days")
    assert before.json()["state"] == "extension_requested"
    deadline_before = Case.objects.get(number=number).stage_deadline
    ext = act(staff["dispatcher"], number, "approve_extension", opinion="同意延期一天").json()
    assert ext["state"] == "handling" and ext["extension_count"] == 1
    assert Case.objects.get(number=number).stage_deadline > deadline_before
    act(staff["unit_handler"], number, "request_suspension", reason="需市政府协调")
    sus = act(staff["dispatcher"], number, "approve_suspension", opinion="同意挂账").json()
    assert sus["state"] == "suspended" and Case.objects.get(number=number).stage_paused_at is not None
    res = act(staff["dispatcher"], number, "resume").json()
    assert res["state"] == "handling" and Case.objects.get(number=number).stage_paused_at is None
    staff["unit_handler"].post(f"/api/v1/cases/{number}/actions/feed_back", {"opinion": "完成", "photos": [jpeg()]})
    act(staff["intake_operator"], number, "send_check")
    fail = staff["inspector"].post(f"/api/v1/cases/{number}/actions/check_fail", {"reason": "仍有塌陷", "photos": [jpeg()]})
    assert fail.status_code == 200
    assert fail.json()["state"] == "handling" and fail.json()["rework_count"] == 1 and fail.json()["current_unit_code"] == handler_unit()


def test_public_report_verification_and_second_level_dispatch(staff, demo_city):
    # A 12345 hotline call taken by the intake operator: verified on site before filing.
    r = staff["intake_operator"].post("/api/v1/cases", {
        "catalog_version": "local-demo", "class_code": "0102", "lon": INSIDE_WG01[0], "lat": INSIDE_WG01[1],
        "description": "路边有垃圾", "source": "hotline_12345", "reporter_name": "市民", "reporter_contact": "13800000000"})
    assert r.status_code == 201, r.content
    number = r.json()["number"]
    assert r.json()["needs_verification"]
    assert Client().post("/api/v1/cases", {"catalog_version": "local-demo", "class_code": "0102", "lon": 1, "lat": 1,
                                           "description": "x", "source": "public_web"}).status_code == 401
    assert act(staff["intake_operator"], number, "send_verify").json()["state"] == "verifying"
    v = staff["inspector"].post(f"/api/v1/cases/{number}/actions/verify", {"opinion": "属实", "confirmed": "true", "photos": [jpeg()]})
    assert v.json()["state"] == "pending_filing"
    act(staff["shift_lead"], number, "file")
    # 暴露垃圾 in 中山区 is the district's: dispatch to the district sub-centre, which dispatches again.
    assert staff["dispatcher"].get(f"/api/v1/cases/{number}/dispatch-suggestion").json()["district_level"] is True
    d = act(staff["dispatcher"], number, "dispatch", district="349902")
    assert d.json()["state"] == "pending_district_dispatch"
    wrong = act(staff["district_dispatcher"], number, "dispatch_second", unit="D349903-HW")
    assert wrong.status_code == 422 and "unit" in wrong.json()["fields"]
    ok = act(staff["district_dispatcher"], number, "dispatch_second", unit="D349902-HW")
    assert ok.status_code == 200 and ok.json()["current_unit_code"] == "D349902-HW"


def test_refusals_leave_nothing_changed(staff, demo_city):
    number = report(staff["inspector"]).json()["number"]
    events_before = CaseEvent.objects.filter(case__number=number).count()
    # wrong role
    assert act(staff["inspector"], number, "file").status_code == 403
    # wrong state
    conflict = act(staff["shift_lead"], number, "close")
    assert conflict.status_code == 409 and conflict.json()["code"] == "wrong_state"
    # missing reason
    missing = act(staff["shift_lead"], number, "not_file")
    assert missing.status_code == 422 and "reason" in missing.json()["fields"]
    # stale version
    stale = act(staff["intake_operator"], number, "accept", expected_version=99)
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    # unknown action
    assert act(staff["intake_operator"], number, "teleport").status_code == 404
    # out of scope: the assessor of other grids cannot see it
    outsider = RoleAssignment.objects.filter(role="inspector").exclude(grid__code__in=["WG01", "WG02"]).first().person
    other = client_for_person(outsider, "other_inspector")
    assert other.get(f"/api/v1/cases/{number}").status_code == 404
    assert act(other, number, "verify", opinion="x").status_code == 404
    assert CaseEvent.objects.filter(case__number=number).count() == events_before
    assert Case.objects.get(number=number).state == "reported"


def test_bad_reports(staff):
    c = staff["inspector"]
    assert report(c, code="9999").status_code == 422
    outside = report(c, point=(116.0, 30.0))
    assert outside.status_code == 422 and "location" in outside.json()["fields"]
    not_mine = report(c, point=INSIDE_WG40)
    assert not_mine.status_code == 403
    bad_photo = c.post("/api/v1/cases", {"catalog_version": "local-demo", "class_code": "0401", "lon": INSIDE_WG01[0],
                                         "lat": INSIDE_WG01[1], "description": "x", "photos": [_text_file()]})
    assert bad_photo.status_code == 422 and bad_photo.json()["code"] == "invalid_photo"
    no_desc = report(c, description="")
    assert no_desc.status_code == 422
    assert Case.objects.count() == 0


def _text_file():
    import io

    f = io.BytesIO(b"<?php echo 1; ?>")
    f.name = "evil.jpg"
    return f


def test_idempotent_creation(staff):
    first = report(staff["inspector"], idempotency_key="phone-123-0001")
    again = report(staff["inspector"], idempotency_key="phone-123-0001")
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["number"] == again.json()["number"]
    assert Case.objects.count() == 1


def test_void_merge_supervise_callback_reopen(staff):
    a = report(staff["inspector"]).json()["number"]
    b = report(staff["inspector"]).json()["number"]
    merged = act(staff["shift_lead"], b, "merge", master=a)
    assert merged.status_code == 200 and merged.json()["state"] == "merged" and merged.json()["duplicate_of"] == a
    assert CaseEvent.objects.filter(case__number=a, action="merged_in").exists()
    sup = act(staff["leader"], a, "supervise", opinion="尽快处理")
    assert sup.json()["is_supervised"] and sup.json()["state"] == "reported"
    void = act(staff["shift_lead"], a, "void", reason="重复上报")
    assert void.json()["state"] == "voided"
    # callback and reopen on a closed case
    n = _to_handling(staff)
    staff["unit_handler"].post(f"/api/v1/cases/{n}/actions/feed_back", {"opinion": "完成", "photos": [jpeg()]})
    act(staff["intake_operator"], n, "send_check")
    staff["inspector"].post(f"/api/v1/cases/{n}/actions/check_pass", {"opinion": "好", "photos": [jpeg()]})
    act(staff["shift_lead"], n, "close")
    assert act(staff["intake_operator"], n, "reopen", reason="x").status_code == 422
    assert act(staff["intake_operator"], n, "callback", satisfaction="dissatisfied").status_code == 200
    re = act(staff["intake_operator"], n, "reopen", reason="市民不满意")
    assert re.json()["state"] == "pending_dispatch" and re.json()["reopen_count"] == 1


def _todo_numbers(c):
    r = c.get("/api/v1/cases/todo?limit=200")
    assert r.status_code == 200, r.content
    return {row["number"] for row in r.json()["items"]}


def test_dissatisfied_case_is_answered_by_keeping_the_closure(staff):
    """回访不满意: the centre either re-dispatches or keeps the closure with a reason; either way the case
    leaves the intake to-do, and a new dissatisfied verdict brings it back."""
    n = _to_handling(staff)
    staff["unit_handler"].post(f"/api/v1/cases/{n}/actions/feed_back", {"opinion": "完成", "photos": [jpeg()]})
    act(staff["intake_operator"], n, "send_check")
    staff["inspector"].post(f"/api/v1/cases/{n}/actions/check_pass", {"opinion": "好", "photos": [jpeg()]})
    act(staff["shift_lead"], n, "close")
    intake = staff["intake_operator"]
    assert act(intake, n, "keep_closed", reason="x").status_code == 422  # not dissatisfied (yet)
    assert act(intake, n, "callback", satisfaction="dissatisfied").status_code == 200
    assert n in _todo_numbers(intake)
    missing = act(intake, n, "keep_closed")
    assert missing.status_code == 422 and "reason" in missing.content.decode()
    assert act(staff["unit_handler"], n, "keep_closed", reason="超出职责").status_code in (403, 404)
    kept = act(intake, n, "keep_closed", reason="诉求超出城市管理职责，已向市民解释")
    assert kept.status_code == 200, kept.content
    assert kept.json()["state"] == "closed" and kept.json()["satisfaction"] == "dissatisfied"
    assert n not in _todo_numbers(intake)
    event = CaseEvent.objects.filter(case__number=n).order_by("-seq").first()
    assert (event.action, event.note, event.from_state, event.to_state) == (
        "keep_closed", "诉求超出城市管理职责，已向市民解释", "closed", "closed")
    # answered: neither a second keep_closed nor a reopen, until a new verdict
    assert act(intake, n, "keep_closed", reason="再次").status_code == 422
    assert act(intake, n, "reopen", reason="市民不满意").status_code == 422
    assert act(intake, n, "callback", satisfaction="dissatisfied").status_code == 200
    assert n in _todo_numbers(intake)
    assert act(intake, n, "reopen", reason="市民再次不满意").json()["state"] == "pending_dispatch"


def test_self_handled(staff):
    r = report(staff["inspector"], code="0201", self_handled="true", after_photos=[jpeg((0, 0, 200))])
    assert r.status_code == 201, r.content
    n = r.json()["number"]
    assert act(staff["intake_operator"], n, "accept").json()["state"] == "pending_close"
    assert act(staff["shift_lead"], n, "close").json()["state"] == "closed"


def test_event_log_is_append_only(staff):
    from django.db import connection, transaction

    n = report(staff["inspector"]).json()["number"]
    event = CaseEvent.objects.get(case__number=n)
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        CaseEvent.objects.filter(pk=event.pk).update(note="changed")
    with pytest.raises(PermissionError):
        CaseEvent.objects.filter(pk=event.pk).delete()
    for sql in ("UPDATE cases_caseevent SET note = 'x' WHERE id = %s", "DELETE FROM cases_caseevent WHERE id = %s"):
        with pytest.raises(Exception) as exc, transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [event.pk])
        assert "append-only" in str(exc.value)
    assert CaseEvent.objects.get(pk=event.pk).note == event.note


def test_lists_and_scope(staff):
    n = report(staff["inspector"]).json()["number"]
    assert staff["dispatcher"].get("/api/v1/cases?state=reported").json()["total"] >= 1
    assert staff["unit_handler"].get(f"/api/v1/cases/{n}").status_code == 404  # not yet its case
    lst = staff["grid_leader"].get("/api/v1/cases?grid=WG01").json()
    assert n in [c["number"] for c in lst["items"]]
    green = staff["intake_operator"].get("/api/v1/cases?light=green").json()
    assert n in [c["number"] for c in green["items"]] or n in [c["number"] for c in staff["intake_operator"].get("/api/v1/cases?light=red").json()["items"]]
    assert staff["intake_operator"].get("/api/v1/cases?light=blue").status_code == 422
    todo = staff["intake_operator"].get("/api/v1/cases/todo").json()
    assert n in [c["number"] for c in todo["items"]]
    detail = staff["intake_operator"].get(f"/api/v1/cases/{n}").json()
    assert {"accept", "send_verify", "not_file", "merge"} <= {a["action"] for a in detail["actions"]}
    assert "file" not in {a["action"] for a in detail["actions"]}


def test_auto_dispatch_when_the_rule_says_so(staff):
    # 非法小广告 (0201) is set to dispatch automatically in the demo's responsibility list.
    n = report(staff["inspector"], code="0201").json()["number"]
    act(staff["intake_operator"], n, "accept")
    filed = act(staff["shift_lead"], n, "file").json()
    assert filed["state"] == "handling" and filed["current_unit_code"] == "CGJ-GG"
    dispatch = filed["events"][-1]
    assert dispatch["action"] == "dispatch" and dispatch["actor"] is None and dispatch["role"] == "dispatcher"
    assert "自动派遣" in dispatch["note"]


def test_duplicates_and_recurrence(staff):
    first = report(staff["inspector"], code="0102").json()["number"]
    near = report(staff["inspector"], code="0102", point=(INSIDE_WG01[0] + 0.0001, INSIDE_WG01[1])).json()["number"]
    other_class = report(staff["inspector"], code="0104").json()["number"]
    similar = staff["intake_operator"].get(f"/api/v1/cases/{near}/similar").json()
    assert [s["number"] for s in similar] == [first] and 5 < similar[0]["distance_m"] < 15
    assert other_class not in [s["number"] for s in similar]
    # Close the first (self-handled path is quickest: a fresh self-handled case), then the same problem again = 反复.
    n = report(staff["inspector"], code="0201", self_handled="true", after_photos=[jpeg()]).json()["number"]
    act(staff["intake_operator"], n, "accept")
    act(staff["shift_lead"], n, "close")
    again = report(staff["inspector"], code="0201").json()
    assert again["recurrence_of"] == n
    elsewhere = report(staff["inspector"], code="0201", point=(117.2400, 31.8760)).json()
    assert elsewhere["recurrence_of"] is None


def test_hotline_orders_are_recognised_and_answered(staff):
    order = {"hotline": "12345", "external_no": "GD20261127-0001", "catalog_version": "local-demo", "class_code": "0505",
             "lon": INSIDE_WG01[0], "lat": INSIDE_WG01[1], "description": "门口长期乱停车", "caller_phone": "13700000000"}
    c = staff["intake_operator"]
    first = c.post("/api/v1/hotline/orders", order, content_type="application/json")
    assert first.status_code == 201 and first.json()["created"]
    again = c.post("/api/v1/hotline/orders", order, content_type="application/json")
    assert again.status_code == 200 and again.json()["number"] == first.json()["number"] and not again.json()["created"]
    assert Case.objects.filter(external_ref="12345:GD20261127-0001").count() == 1
    assert Case.objects.get(external_ref="12345:GD20261127-0001").source == "hotline_12345"
    out = c.get("/api/v1/hotline/orders/12345/GD20261127-0001").json()
    assert out["state"] == "reported" and out["status_text"]
    assert c.get("/api/v1/hotline/orders/12345/NOPE").status_code == 404
    assert staff["inspector"].post("/api/v1/hotline/orders", {**order, "external_no": "X1"}, content_type="application/json").status_code == 403
    bad = c.post("/api/v1/hotline/orders", {**order, "hotline": "110"}, content_type="application/json")
    assert bad.status_code == 422


# A case's 部件标识码 names an asset of the case's own component class, in the district where the case is:
# anything else is refused with a field message (stored whole, never cut), and the case page shows it.
def _component_class():
    """A current component class with an asset in the register, and that asset."""
    component = (Component.objects.filter(catalog_class__version__is_current=True)
                 .select_related("catalog_class__version").order_by("identifier").first())
    assert component is not None, "the demo city registers components"
    return component.catalog_class, component


def test_identifiers_that_cannot_name_an_asset_are_refused(staff):
    district = locator.locate(*INSIDE_WG01).unit_grid_code[:6]
    component = (Component.objects.filter(catalog_class__version__is_current=True, identifier__startswith=district)
                 .select_related("catalog_class__version").order_by("identifier").first())
    cls, good = component.catalog_class, component.identifier
    length = cls.version.identifier_length
    unregistered = good[:-6] + "999999"  # the standard's form, this district and class: not in the inventory
    assert not Component.objects.filter(identifier=unregistered).exists()
    event = CatalogClass.objects.filter(version__is_current=True, kind="event").order_by("code").first()
    c = staff["inspector"]
    for version, code, identifier in (
            (cls.version.code, cls.code, "NOT-A-COMPONENT-ID"),
            (cls.version.code, cls.code, good + "0000"),  # 21 digits when 16/17 are due
            (cls.version.code, cls.code, good[:-1]),  # one digit short
            (cls.version.code, cls.code, good[:6] + "9999" + good[10:]),  # another class's code inside
            (cls.version.code, cls.code, "999999" + good[6:]),  # another district
            (cls.version.code, cls.code, unregistered),  # the inventory holds the class, not this asset
            (event.version.code, event.code, good)):  # an event has no asset
        kind = "event" if code == event.code and version == event.version.code else cls.kind  # 2026 codes name both
        r = report(c, code=code, version=version, component_identifier=identifier, kind=kind)
        assert r.status_code == 422, (identifier, r.content)
        assert "component_identifier" in r.json()["fields"], r.json()
    assert not Case.objects.exists()

    r = report(c, code=cls.code, version=cls.version.code, component_identifier=good, kind=cls.kind)
    assert r.status_code == 201, r.content
    case = Case.objects.get(number=r.json()["number"])
    assert case.component_identifier == good and len(good) == length
    assert r.json()["component_identifier"] == good
    page = c.get(f"/cases/{case.number}/").content.decode()
    assert f'id="component-identifier"><a href="/components/{good}/" id="component-link">{good}</a>' in page


def test_the_case_page_names_the_registered_asset(staff):
    cls, component = _component_class()
    c = staff["inspector"]
    r = report(c, code=cls.code, version=cls.version.code, point=(component.lon, component.lat),
               component_identifier=component.identifier, kind=cls.kind)
    if r.status_code == 403:  # the asset lies outside the demo inspector's grids: the centre reports it
        c = staff["intake_operator"]
        r = report(c, code=cls.code, version=cls.version.code, point=(component.lon, component.lat),
                   component_identifier=component.identifier, source="hotline_12345", photos=[], kind=cls.kind)
    assert r.status_code == 201, r.content
    page = c.get(f"/cases/{r.json()['number']}/").content.decode()
    assert component.identifier in page and (component.name or component.catalog_class.name) in page
