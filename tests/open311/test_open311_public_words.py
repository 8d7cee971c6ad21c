"""Public words and internal opinions, over real HTTP: what the dispatcher, the inspector, the unit and the
centre write as their opinion or reason stays inside; only a step's answer to the citizen (公开答复,
``public_note``) and the plain words of the state reach Open311 (JSON and XML: GET requests, GET one request,
with and without the flow log, request updates, POST answers) and the citizens' tracking page."""
import json
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import pytest

pytestmark = pytest.mark.django_db(transaction=True)
SERVICE = "local-demo-2026:event:21001"
INSIDE = {"lat": "31.8785", "long": "117.2352"}
# Each staff step's own words, all internal; every one must stay out of every public answer.
INTERNAL = {
    "verify": "内部核实意见：属实，监督员甲看过",
    "dispatch": "内部派遣意见：请王科长亲自盯办",
    "supervise": "内部督办意见：领导批示限期",
    "feed_back": "内部处置说明：外包队伍乙施工",
    "check_pass": "内部核查意见：勉强合格",
    "not_file": "内部理由：该市民多次重复投诉",
}
PUBLIC = {
    "feed_back": "公开答复：塌陷路面已回填修复",
    "close": "公开答复：问题已解决，感谢您的反映",
    "not_file": "公开答复：该路段属于高速公路，已转交交通部门",
}


def fetch(url, data=None, method=None, headers=None):
    body = urllib.parse.urlencode(data).encode("utf-8") if data is not None else None
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read().decode("utf-8")


def rows(text, fmt):
    """The request rows of an answer, as dicts (XML: leaf texts; notes as a list of dicts)."""
    if fmt == "json":
        return json.loads(text)
    out = []
    for request in ET.fromstring(text):
        row = {e.tag: e.text for e in request if len(e) == 0}
        notes = request.find("notes")
        if notes is not None:
            row["notes"] = [{e.tag: e.text for e in n} for n in notes]
        out.append(row)
    return out


def staff(username):
    from django.contrib.auth import get_user_model

    from urbangrid.org.scope import actor_for

    return actor_for(get_user_model().objects.get(username=username))


def unit_handler_of(case):
    from urbangrid.cases import services
    from urbangrid.org.scope import actor_for_person

    return actor_for_person(services.unit_handlers(case.current_unit_id).first())


def test_internal_opinions_never_public_answers_are(live_server, city):
    from urbangrid.cases import services
    from urbangrid.cases.models import Case, CaseEvent
    from urbangrid.org.models import RoleAssignment

    base = f"{live_server.url}/open311/v2"
    report = {"api_key": city, "service_code": SERVICE, **INSIDE, "description": "路面塌陷约一平方米", "device_id": "dev-1"}
    status, _type, text = fetch(f"{base}/requests.json", report)
    assert status == 200, text
    number = json.loads(text)[0]["service_request_id"]
    status, _type, text = fetch(f"{base}/requests.json", {**report, "description": "另一处塌陷"})
    other = json.loads(text)[0]["service_request_id"]

    # The loop, each step with its internal words; two steps also answer the citizen.
    def step(actor, action, **inputs):
        return services.transition(actor, number, action, inputs, require_photos=False)

    step(staff("intake_operator"), "send_verify")
    step(staff("inspector"), "verify", opinion=INTERNAL["verify"], confirmed="true")
    case = step(staff("shift_lead"), "file")
    if case.state == "pending_dispatch":
        unit = RoleAssignment.objects.get(person__user__username="unit_handler", role="unit_handler").unit
        case = step(staff("dispatcher"), "dispatch", unit=unit.code, opinion=INTERNAL["dispatch"])
    assert case.state == "handling"
    step(staff("leader"), "supervise", opinion=INTERNAL["supervise"])
    step(unit_handler_of(case), "feed_back", opinion=INTERNAL["feed_back"], public_note=PUBLIC["feed_back"])
    fed_back = rows(fetch(f"{base}/requests/{number}.json")[2], "json")[0]
    assert fed_back["status_notes"] == f"已处理，等待核查：{PUBLIC['feed_back']}"
    step(staff("intake_operator"), "send_check")
    step(staff("inspector"), "check_pass", opinion=INTERNAL["check_pass"])
    step(staff("shift_lead"), "close", public_note=PUBLIC["close"])
    services.transition(staff("intake_operator"), other, "not_file",
                        {"reason": INTERNAL["not_file"], "public_note": PUBLIC["not_file"]})
    # The words are all on the record (staff see them), the public ones apart from the notes.
    notes = " ".join(CaseEvent.objects.values_list("note", flat=True))
    assert all(words in notes for words in INTERNAL.values())
    closing = CaseEvent.objects.get(case__number=number, action="close")
    assert closing.data["public_note"] == PUBLIC["close"] and closing.note == ""

    answers = {}
    for fmt in ("json", "xml"):
        both = f"{number},{other}"
        answers[f"list.{fmt}"] = fetch(f"{base}/requests.{fmt}")
        answers[f"list+notes.{fmt}"] = fetch(f"{base}/requests.{fmt}?extensions=true")
        answers[f"ids+notes.{fmt}"] = fetch(f"{base}/requests.{fmt}?" + urllib.parse.urlencode(
            {"service_request_id": both, "extensions": "true"}))
        answers[f"one.{fmt}"] = fetch(f"{base}/requests/{number}.{fmt}")
        answers[f"one+notes.{fmt}"] = fetch(f"{base}/requests/{number}.{fmt}?extensions=true")
        answers[f"other+notes.{fmt}"] = fetch(f"{base}/requests/{other}.{fmt}?extensions=true")
        answers[f"updates.{fmt}"] = fetch(f"{base}/servicerequestupdates.{fmt}?" + urllib.parse.urlencode({"api_key": city}))
        answers[f"retry.{fmt}"] = fetch(f"{base}/requests.{fmt}", report)  # a re-sent POST: the same case's answer
    for name, (status, _type, _text) in answers.items():
        assert status == 200, name
    for code in Case.objects.filter(number__in=[number, other]).values_list("tracking_code", flat=True):
        answers[f"track {code}"] = fetch(f"{live_server.url}/track/{code}/")
        assert answers[f"track {code}"][0] == 200

    for name, (_status, _type, text) in answers.items():
        for words in INTERNAL.values():
            assert words not in text, (name, words)

    for fmt in ("json", "xml"):
        by_id = {r["service_request_id"]: r for r in rows(answers[f"ids+notes.{fmt}"][2], fmt)}
        assert by_id[number]["status_notes"] == f"已办结：{PUBLIC['close']}"
        assert by_id[other]["status_notes"] == f"经核实不属于受理范围，未立案：{PUBLIC['not_file']}"
        said = {n["action"]: n.get("description") for n in by_id[number]["notes"]}
        assert said["feed_back"] == PUBLIC["feed_back"] and said["close"] == PUBLIC["close"]
        assert said["verify"] is None and said["dispatch"] is None
        assert "supervise" not in said  # internal steps are not listed at all
        assert [n.get("description") for n in by_id[other]["notes"] if n["action"] == "not_file"] == [PUBLIC["not_file"]]
        assert rows(answers[f"one.{fmt}"][2], fmt)[0]["status_notes"] == f"已办结：{PUBLIC['close']}"
        listed = {r["service_request_id"]: r for r in rows(answers[f"list.{fmt}"][2], fmt)}
        assert listed[number]["status_notes"] == f"已办结：{PUBLIC['close']}"
        updates = answers[f"updates.{fmt}"][2]
        assert PUBLIC["close"] in updates and PUBLIC["not_file"] in updates
    # The request updates name the other steps by their action, not by their words.
    mine = [u for u in json.loads(answers["updates.json"][2]) if u["service_request_id"] == number]
    assert {u["description"] for u in mine if u["external_status_code"] == "verify"} == {"核实"}
    # The tracking pages: the answers, under their steps.
    track = answers[f"track {Case.objects.get(number=number).tracking_code}"][2]
    assert PUBLIC["feed_back"] in track and PUBLIC["close"] in track
    assert PUBLIC["not_file"] in answers[f"track {Case.objects.get(number=other).tracking_code}"][2]
    assert "已办结" in track
