"""The province node's receiving rules in one process (its tables in the test database, the endpoints through
Django's test client): who may send, what a malformed batch is told, the signed cursor, the size limit, the
commands that register a city and push. The two-database tests (``test_exchange*.py``) drive the same code
over real HTTP."""
import json
import time

import pytest
from django.core.management import CommandError, call_command

from urbangrid.province import wire
from urbangrid.province.models import ProvinceCase, ProvinceCity, Rejection

from .province_node import CITY, KEY

URL = "/province/api/v1/exchange/batches"


def _batch(seq=1, frm=0, to=2, state="handling", steps=True):
    case = {"number": "20260000001", "version": 2, "source": "inspector", "catalog_version": "gbt47678.5-2026",
            "class_code": "010101", "kind": "component", "urgency": "normal", "state": state, "archive_type": "",
            "satisfaction": "", "unit_grid": "340102001001001", "responsibility_grid": "WG01",
            "community": "340102001001", "street": "340102001", "district": "340102", "current_unit": "CGJ-SZ",
            "self_handled": False, "is_supervised": False, "reported_at": "2026-12-01T01:00:00.000000+00:00",
            "filed_at": "2026-12-01T02:00:00.000000+00:00", "dispatched_at": None, "fed_back_at": None,
            "closed_at": None, "handle_deadline": None, "updated_at": "2026-12-01T02:00:00.000000+00:00",
            "counts": dict.fromkeys(wire.CASE_COUNTERS, 0)}
    step = [{"event": i, "case": case["number"], "seq": i, "action": a, "from": f, "to": t,
             "at": f"2026-12-01T0{i}:00:00.000000+00:00", "stage": "", "deadline": None, "unit": None}
            for i, a, f, t in ((1, "report", "", "reported"), (2, "accept", "reported", "pending_filing"))]
    return {"format": wire.FORMAT, "version": wire.VERSION, "city": CITY, "sequence": seq,
            "cursor": {"from": frm, "to": to}, "built_at": "2026-12-01T03:00:00.000000+00:00", "cases": [case],
            "steps": step if steps else [], "tallies": [], "grids": None}


def _post(client, doc=None, body=None, city=CITY, key=KEY, signature=None):
    body = body if body is not None else wire.canonical(doc)
    headers = {wire.CITY_HEADER: city, wire.SIGNATURE_HEADER: signature or wire.sign(key, body)}
    r = client.post(URL, data=body, content_type="application/json", headers=headers)
    return r.status_code, r.json()


@pytest.fixture
def registered(db):
    call_command("province", "city", "add", CITY, "--name", "合肥市", "--key", KEY)
    return ProvinceCity.objects.get(code=CITY)


def test_unknown_city_bad_signature_and_malformed_batches_are_refused_and_recorded(client, registered):
    assert _post(client, _batch(), city="999999")[0] == 403
    status, answer = _post(client, _batch(), key="x" * 40)
    assert (status, answer["reason"]) == (400, "signature")
    status, answer = _post(client, body=b"{not json")
    assert (status, answer["reason"]) == (400, "malformed")
    doc = _batch()
    doc["cases"][0]["reported_at"] = "yesterday"
    doc["steps"][1]["seq"] = 0
    status, answer = _post(client, doc)
    assert (status, answer["reason"]) == (400, "malformed")
    assert {p["field"] for p in answer["problems"]} == {"cases[0].reported_at", "steps[1].seq"}
    doc = _batch()
    doc["version"] = 2
    assert _post(client, doc)[1]["problems"] == [{"field": "version", "message": "one of [1]"}]
    doc = _batch()
    doc["city"] = "340200"
    assert _post(client, doc)[1]["problems"][0]["field"] == "city"
    doc = _batch()
    doc["steps"][0]["case"] = "elsewhere"
    assert _post(client, doc)[1]["problems"][0]["field"] == "steps"
    assert list(Rejection.objects.order_by("pk").values_list("reason", "status")) == [
        ("unknown_city", 403), ("signature", 400), ("malformed", 400), ("malformed", 400), ("malformed", 400),
        ("malformed", 400), ("malformed", 400)]
    assert not ProvinceCase.objects.exists()
    # the rejection keeps the evidence, not the body
    assert Rejection.objects.filter(reason="signature").get().body_sha256 == wire.digest(wire.canonical(_batch()))


def test_sequence_cursor_and_newer_description_rules(client, registered):
    assert _post(client, _batch())[0] == 200
    status, answer = _post(client, _batch(seq=2, frm=1, to=3, steps=False))
    assert (status, answer["reason"], answer["expected_sequence"], answer["last_cursor"]) == (409, "cursor_mismatch", 2, 2)
    # a later batch describing the case at an older version leaves the newer description in place
    doc = _batch(seq=2, frm=2, to=2, state="reported", steps=False)
    doc["cases"][0]["version"] = 1
    assert _post(client, doc)[0] == 200
    case = ProvinceCase.objects.get()
    assert (case.state, case.version, len(case.steps)) == ("handling", 2, 2)
    registered.refresh_from_db()
    assert (registered.last_sequence, registered.last_cursor, registered.events_received) == (2, 2, 2)


def test_the_cursor_answers_only_a_fresh_signed_request(client, registered):
    url = f"/province/api/v1/exchange/cursor?city={CITY}"
    ts = str(int(time.time()))
    ok = {wire.TIMESTAMP_HEADER: ts, wire.SIGNATURE_HEADER: wire.sign(KEY, wire.cursor_message(CITY, ts))}
    r = client.get(url, headers=ok)
    assert r.status_code == 200 and r.json()["expected_sequence"] == 1
    bad = {**ok, wire.SIGNATURE_HEADER: wire.sign("y" * 40, wire.cursor_message(CITY, ts))}
    assert client.get(url, headers=bad).status_code == 400
    old = str(int(time.time()) - 3600)
    stale = {wire.TIMESTAMP_HEADER: old, wire.SIGNATURE_HEADER: wire.sign(KEY, wire.cursor_message(CITY, old))}
    assert client.get(url, headers=stale).json()["reason"] == "stale"
    assert client.get("/province/api/v1/exchange/cursor?city=999", headers=ok).status_code == 403
    assert client.post(url).status_code == 405
    assert list(Rejection.objects.values_list("reason", flat=True).order_by("pk")) == ["signature", "stale", "unknown_city"]


def test_a_batch_over_the_limit_is_refused_unread(client, registered, settings):
    settings.URBANGRID_PROVINCE_MAX_BATCH_BYTES = 100
    status, answer = _post(client, _batch())
    assert (status, answer["reason"]) == (413, "too_large")
    assert Rejection.objects.get().reason == "too_large"


def test_a_batch_cut_off_mid_body_is_recorded_as_incomplete_not_as_a_bad_signature(registered):
    """A city process killed while sending (the crash test does it): fewer bytes than its Content-Length arrive.
    The WSGI server hands the view what came; the view must not judge the cut-off bytes' signature."""
    import io

    from django.core.handlers.wsgi import LimitedStream
    from django.test import RequestFactory

    from urbangrid.province import views

    body = wire.canonical(_batch())
    headers = {wire.CITY_HEADER: CITY, wire.SIGNATURE_HEADER: wire.sign(KEY, body)}
    request = RequestFactory().post(URL, data=body, content_type="application/json", headers=headers)
    arrived = body[: len(body) // 2]
    request._stream = LimitedStream(io.BytesIO(arrived), len(body))  # the socket closed after half the body
    r = views.batches(request)
    assert r.status_code == 400 and json.loads(r.content)["reason"] == "incomplete"
    rejection = Rejection.objects.get()
    assert (rejection.reason, rejection.body_bytes) == ("incomplete", len(arrived))
    assert f"{len(arrived)} of {len(body)} bytes" in rejection.detail
    assert not ProvinceCase.objects.exists()


def test_registering_a_city_checks_code_name_and_key(registered, capsys):
    with pytest.raises(CommandError):
        call_command("province", "city", "add", "bad code", "--name", "x", "--key", KEY)
    with pytest.raises(CommandError):
        call_command("province", "city", "add", "340200", "--name", "芜湖市", "--key", "short")
    call_command("province", "city", "add", "340200", "--name", "芜湖市")
    out = capsys.readouterr().out
    key = out.strip().splitlines()[-1].split("：", 1)[1]
    assert ProvinceCity.objects.get(code="340200").key == key and len(key) == 64
    call_command("province", "city", "list")
    assert "340100 合肥市" in capsys.readouterr().out


def test_push_without_a_province_says_what_is_missing(db, settings):
    settings.URBANGRID_EXCHANGE_URL = ""
    with pytest.raises(CommandError, match="URBANGRID_EXCHANGE_URL"):
        call_command("exchange", "push")
    call_command("exchange", "status")


def test_a_well_formed_batch_round_trips_through_the_checker():
    assert wire.check(json.loads(wire.canonical(_batch()))) == []
