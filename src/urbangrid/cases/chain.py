"""Tamper evidence for the audit trail: each case's events form a keyed hash chain.

event.hash = HMAC-SHA256(key, previous hash + canonical JSON of the event's recorded fields); the case keeps
the head of its chain. Editing, deleting or reordering any event (even with SQL, past the triggers) breaks
the chain, and ``urbangrid audit verify`` finds where. The key is kept outside the database, so whoever can
write the tables alone cannot recompute a chain that verifies:

- ``URBANGRID_AUDIT_KEY`` (the environment), else the file ``audit.key`` in the var dir, made on first use
  (32 random bytes, hex, mode 0600). Back it up apart from the database: a restored database verifies only
  with the key it was written with.
- Rotation: put the new key first and keep the old ones after it, one per line in the file, or in
  ``URBANGRID_AUDIT_KEYS_OLD`` (comma-separated). New events are sealed with the first key; ``verify``
  accepts an event sealed with any listed key, so chains written before the rotation still verify.
"""
import hashlib
import hmac
import json
import os
import secrets
from datetime import timezone as dt_timezone
from pathlib import Path

from django.conf import settings

from urbangrid.core.tenancy import current_code

from .models import CaseEvent

GENESIS = "0" * 64
_keys = {}


def _key_file():
    """The key file of the active city (each city's chain its own key), else the deployment's."""
    code = current_code()
    return Path(settings.VAR_DIR) / ("cities/" + code if code else "") / "audit.key"


def _make_key_file(path):
    """A new key, written whole before it appears under its name (two processes starting at once agree)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
        f.flush()
        os.fsync(f.fileno())
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # another process made it first: use that one
    finally:
        tmp.unlink()


def keys():
    """The audit keys as bytes, the sealing key first (cached per process and key source)."""

    env, old = os.environ.get("URBANGRID_AUDIT_KEY", ""), os.environ.get("URBANGRID_AUDIT_KEYS_OLD", "")
    source = (env, old, settings.VAR_DIR, current_code())
    if source not in _keys:
        path = None if env else _key_file()
        if env:
            lines = [env]
        else:
            if not path.exists():
                _make_key_file(path)
            lines = [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
        lines += [k.strip() for k in old.split(",") if k.strip()]
        if not lines:
            raise RuntimeError(f"the audit key file {path} holds no key")
        if len(_keys) >= 64:
            _keys.clear()
        _keys[source] = [k.encode("utf-8") for k in lines]
    return _keys[source]


_hashers = {}


def hasher():
    """An HMAC-SHA256 with the sealing key and no message yet (``.copy()`` it per message: the key's pads are
    computed once)."""
    key = keys()[0]
    h = _hashers.get(key)
    if h is None:
        _hashers.clear()
        h = _hashers[key] = hmac.new(key, digestmod=hashlib.sha256)
    return h


def _iso(value):
    return value.astimezone(dt_timezone.utc).isoformat(timespec="microseconds") if value else None


def canonical(event, case_number):
    return json.dumps({
        "case": case_number, "seq": event.seq, "action": event.action, "from": event.from_state, "to": event.to_state,
        "at": _iso(event.at), "user": event.actor_user_id, "person": event.actor_person_id, "role": event.role,
        "unit": event.unit_id, "note": event.note, "reason_code": event.reason_code, "data": event.data,
        "deadline": _iso(event.deadline), "stage": event.stage, "public": event.public,
    }, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def digest(prev, event, case_number, key=None):
    message = (prev + canonical(event, case_number)).encode("utf-8")
    if key is not None:
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    h = hasher().copy()
    h.update(message)
    return h.hexdigest()


def _matches(prev, event, case_number):
    message = (prev + canonical(event, case_number)).encode("utf-8")
    return any(hmac.compare_digest(hmac.new(key, message, hashlib.sha256).hexdigest(), event.hash) for key in keys())


def seal(event, case):
    """Chain ``event`` onto ``case`` (both in memory, before saving)."""
    event.prev_hash = case.chain_hash or GENESIS
    event.hash = digest(event.prev_hash, event, case.number)
    case.chain_hash = event.hash


def verify(case, events=None):
    """None when the chain is intact, else a description of the first break."""

    events = events if events is not None else list(CaseEvent.objects.filter(case=case).order_by("seq"))
    prev = GENESIS
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq:
            return f"{case.number}: event {expected_seq} missing (found seq {event.seq})"
        if event.prev_hash != prev or not _matches(prev, event, case.number):
            return f"{case.number}: event {event.seq} ({event.action}) does not match its hash"
        prev = event.hash
    if prev != (case.chain_hash or GENESIS):
        return f"{case.number}: the last event is not the head of the chain (events removed at the end?)"
    return None
