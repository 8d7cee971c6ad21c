"""Tamper evidence for the audit trail: each case's events form a hash chain.

event.hash = SHA-256(previous hash + canonical JSON of the event's recorded fields); the case keeps the
head of its chain. Editing, deleting or reordering any event (even with SQL, past the triggers) breaks
the chain, and ``urbangrid audit verify`` finds where.
"""
import hashlib
import json
from datetime import timezone as dt_timezone

GENESIS = "0" * 64


def _iso(value):
    return value.astimezone(dt_timezone.utc).isoformat(timespec="microseconds") if value else None


def canonical(event, case_number):
    return json.dumps({
        "case": case_number, "seq": event.seq, "action": event.action, "from": event.from_state, "to": event.to_state,
        "at": _iso(event.at), "user": event.actor_user_id, "person": event.actor_person_id, "role": event.role,
        "unit": event.unit_id, "note": event.note, "reason_code": event.reason_code, "data": event.data,
        "deadline": _iso(event.deadline), "stage": event.stage, "public": event.public,
    }, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def digest(prev, event, case_number):
    return hashlib.sha256((prev + canonical(event, case_number)).encode("utf-8")).hexdigest()


def seal(event, case):
    """Chain ``event`` onto ``case`` (both in memory, before saving)."""
    event.prev_hash = case.chain_hash or GENESIS
    event.hash = digest(event.prev_hash, event, case.number)
    case.chain_hash = event.hash


def verify(case, events=None):
    """None when the chain is intact, else a description of the first break."""
    from .models import CaseEvent

    events = events if events is not None else list(CaseEvent.objects.filter(case=case).order_by("seq"))
    prev = GENESIS
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq:
            return f"{case.number}: event {expected_seq} missing (found seq {event.seq})"
        if event.prev_hash != prev or digest(prev, event, case.number) != event.hash:
            return f"{case.number}: event {event.seq} ({event.action}) does not match its hash"
        prev = event.hash
    if prev != (case.chain_hash or GENESIS):
        return f"{case.number}: the last event is not the head of the chain (events removed at the end?)"
    return None
