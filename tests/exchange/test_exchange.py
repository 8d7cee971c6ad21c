"""The upward exchange over real HTTP between two databases: the city in the test process, the province node in
its own process (gunicorn) and database. After the pushes the province holds what the city holds, case for case
(state, class, grids and regions, the time of every step, every step) and day for day (tallies); a resent batch
changes nothing; a tampered, re-used or out-of-order batch is refused and recorded, and the stream resumes; a
city whose province was down catches up in order, after backing off."""
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from demo_snapshot import build_demo
from ug_testing import dispatched_case
from urbangrid.assessment.evaluation import tallies
from urbangrid.exchange import outbox
from urbangrid.exchange.models import ExchangeState, OutboxBatch
from urbangrid.exchange.tasks import push_to_province
from urbangrid.province import wire

from .dumps import assert_same, city_dump

CASES = 150


def _city(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "city"
    settings.VAR_DIR.mkdir()
    build_demo(seed=5, log=lambda m: None, history=True, cases=CASES)


def _post(cfg, body, signature=None):
    """A POST as a city would make it, with a chosen signature (default: the right one)."""
    import urllib.error
    import urllib.request

    req = urllib.request.Request(cfg.url + outbox.BATCHES_PATH, data=body, method="POST", headers={
        "Content-Type": "application/json", wire.CITY_HEADER: cfg.city,
        wire.SIGNATURE_HEADER: signature if signature is not None else wire.sign(cfg.key, body)})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.mark.django_db
def test_the_province_holds_what_the_city_holds(city_settings, province, tmp_path):
    _city(city_settings, tmp_path)
    cfg = outbox.config()
    r = outbox.push()
    assert not r.error and r.sent >= 3 and r.pending == 0, r
    assert_same(city_dump(), province.dump())

    # The city goes on working: new cases through the loop, today's tally; the next push carries only that.
    acked = ExchangeState.load().acked_sequence
    for _ in range(3):
        dispatched_case()
    tallies.refresh()
    r = push_to_province.call_local()  # the worker's periodic task: the same push
    assert not r["error"] and r["sent"] >= 1, r
    before = province.dump()
    assert_same(city_dump(), before)
    assert outbox.province_cursor(cfg)["last_sequence"] == ExchangeState.load().acked_sequence > acked

    # A resent batch (a city that did not hear the answer) is answered as a duplicate and changes nothing.
    last = OutboxBatch.objects.order_by("-sequence").first()
    status, answer = outbox.post_batch(cfg, last.body)
    assert (status, answer["duplicate"]) == (200, True), answer
    assert province.dump() == before

    # Tampered on the way (signature of the original), or signed with another key: 400, recorded, nothing applied.
    dispatched_case()
    batch = outbox.build_next(cfg)
    body = bytes(batch.body)
    assert b'"state":"handling"' in body
    forged = body.replace(b'"state":"handling"', b'"state":"closed"', 1)
    status, answer = _post(cfg, forged, signature=wire.sign(cfg.key, body))
    assert (status, answer["reason"]) == (400, "signature"), answer
    status, answer = _post(cfg, forged, signature=wire.sign("another-key-" + "x" * 40, forged))
    assert (status, answer["reason"]) == (400, "signature"), answer
    # well signed but not well formed: 400 with field problems
    doc = json.loads(body)
    doc["cases"][0]["state"] = 7
    status, answer = _post(cfg, wire.canonical(doc))
    assert (status, answer["reason"]) == (400, "malformed") and answer["problems"][0]["field"] == "cases[0].state"
    # an applied sequence with other content (validly signed): 409, recorded
    old = json.loads(bytes(last.body))
    old["cases"][0]["state"] = "closed"
    status, answer = _post(cfg, wire.canonical(old))
    assert (status, answer["reason"], answer["expected_sequence"]) == (409, "sequence_reused", batch.sequence), answer
    seen = province.dump()
    assert seen["rejections"] == [["signature", 400, None], ["signature", 400, None],
                                  ["malformed", 400, batch.sequence], ["sequence_reused", 409, last.sequence]]
    assert {k: v for k, v in seen.items() if k != "rejections"} == {k: v for k, v in before.items() if k != "rejections"}

    # Out of order: the batch after the next one arrives first: 409 naming the expected sequence; the stream
    # then resumes from there and both are applied in order.
    dispatched_case()
    later = outbox.build_next(outbox.Config(**{**cfg.__dict__, "batch_events": 3}))
    assert later.sequence == batch.sequence + 1
    status, answer = outbox.post_batch(cfg, later.body)
    assert (status, answer["reason"], answer["expected_sequence"]) == (409, "out_of_order", batch.sequence), answer
    r = outbox.push()
    assert not r.error and r.sent >= 2, r
    after = province.dump()
    assert_same(city_dump(), after)
    assert after["rejections"][-1] == ["out_of_order", 409, later.sequence]


@pytest.mark.django_db
def test_a_city_cut_off_for_days_backs_off_then_catches_up_in_order(city_settings, province, tmp_path):
    city_settings.URBANGRID_EXCHANGE_BATCH_EVENTS = 100
    _city(city_settings, tmp_path)
    r = outbox.push(max_batches=1)
    assert r.sent == 1 and not r.error
    province.stop()

    # The province is down: each attempt fails, the stream waits longer each time (30 s, 60 s, 120 s …).
    now = timezone.now()
    r = outbox.push(now=now)
    assert r.error and "no answer" in r.error
    state = ExchangeState.load()
    assert state.attempts == 1 and state.next_attempt_at == now + timedelta(seconds=30)
    assert outbox.push(now=now + timedelta(seconds=10)).waiting_until == state.next_attempt_at
    assert ExchangeState.load().attempts == 1, "a push inside the backoff must not try"
    for attempt, wait in ((2, 60), (3, 120)):
        at = ExchangeState.load().next_attempt_at + timedelta(seconds=1)
        assert outbox.push(now=at).error
        state = ExchangeState.load()
        assert (state.attempts, state.next_attempt_at) == (attempt, at + timedelta(seconds=wait))

    # Meanwhile the city works on; the province comes back and the whole backlog arrives, in order.
    for _ in range(4):
        dispatched_case()
    tallies.refresh()
    province.start()
    r = outbox.push(now=ExchangeState.load().next_attempt_at + timedelta(seconds=1))
    assert not r.error and r.sent >= 5 and r.pending == 0, r
    state = ExchangeState.load()
    assert state.attempts == 0 and state.next_attempt_at is None and state.acked_sequence == state.built_sequence
    seen = province.dump()
    assert_same(city_dump(), seen)
    assert seen["events"] >= 500 and len(seen["tallies"]) >= 100, "too small a backlog to prove anything"
    assert seen["rejections"] == []
