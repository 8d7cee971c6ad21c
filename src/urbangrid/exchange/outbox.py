"""联网上报: the city sends its province, in order, batches built from its case event log (案件流转记录), its
daily tallies (日统计) and its grid data version, in the wire format of ``urbangrid.province.wire``
(``docs/exchange.md``).

The cursor is the event id: batch n carries the events with ids in (from, to] and, for every case they touch,
the case's summary as it stands when the batch is built (its ``version`` says how many steps that is; the case
row is the cache of its events, which ``audit verify`` proves). ``to`` never passes a committed-everything
horizon: on PostgreSQL a transaction may commit event 100 after event 101, so the horizon is read while a SHARE
lock on the event table waits out the transactions writing it (a moment; ``lock_timeout`` bounds it); SQLite
writes one transaction at a time, so its largest id is the horizon.

Sending is idempotent and resumable. A batch is built and stored before it is sent (its bytes never change),
then POSTed until the province acknowledges it: 200 (applied, or a resend it already applied) moves the
acknowledged sequence on; a 409 names the sequence and cursor the province expects, and the city resends from
there (the stored batch if it still has it, else rebuilt from the event log); a failure (no answer, 5xx, a
refusal) is retried with exponential backoff (30 s doubling to an hour), the stream stopping at the failed
batch so the province always receives in order. A city offline for a week catches up batch by batch.

Who pushes: the worker every minute, in every city of a multi-city deployment (``tasks.push_to_province``) and ``urbangrid exchange push``, the same
function. Two pushers at once send a batch twice at worst (the province answers the second as a duplicate)
and cannot build two batches under one sequence (the build re-checks the stream under a row lock).
"""
import hashlib
import json
import logging
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from urbangrid.assessment.models import UNIT_DAY_COUNTS, REGION_DAY_COUNTS, RegionDay, TallyDay, UnitDay
from urbangrid.cases import intake
from urbangrid.cases.models import Case, CaseEvent
from urbangrid.core import tenancy
from urbangrid.core.horizon import committed_horizon
from urbangrid.grids.models import GridDataVersion, Region, ResponsibilityGrid, UnitGrid
from urbangrid.org.models import Unit
from urbangrid.province import wire

from .models import ExchangeState, OutboxBatch, TallySent

log = logging.getLogger(__name__)

BATCHES_PATH = "/province/api/v1/exchange/batches"
CURSOR_PATH = "/province/api/v1/exchange/cursor"
CHUNK = 500
# A batch's tallies stop after the day that takes them past this many rows (a megacity day has thousands).
TALLY_ROWS = 20000
TALLY_DAYS_READ = 100  # days whose rows one query reads
MAX_REALIGNS = 3

assert tuple(REGION_DAY_COUNTS) == wire.REGION_COUNTS and tuple(UNIT_DAY_COUNTS) == wire.UNIT_COUNTS, \
    "the wire's tally counts are the tables' (a new count is a new payload version)"


class NotConfigured(Exception):
    pass


@dataclass
class Config:
    url: str
    key: str
    city: str
    timeout: float
    batch_events: int


def _identity(name):
    """This city's code or key at the province. In a city of a multi-city deployment (core/tenancy.py) only its
    registry entry's: one deployment key signing for every city would make the province take them for one."""
    city = tenancy.current()
    return city.settings.get(name, "") if city is not None else getattr(settings, name)


def config():
    url = (tenancy.setting("URBANGRID_EXCHANGE_URL") or "").rstrip("/")
    key = _identity("URBANGRID_EXCHANGE_KEY") or ""
    if not url or not key:
        raise NotConfigured("URBANGRID_EXCHANGE_URL and URBANGRID_EXCHANGE_KEY are needed to send to the province")
    city = _identity("URBANGRID_EXCHANGE_CITY") or (
        Region.objects.filter(level=Region.Level.CITY).order_by("code").values_list("code", flat=True).first() or "")
    if not city:
        raise NotConfigured("URBANGRID_EXCHANGE_CITY is not set and there is no city-level region to take its code from")
    return Config(url, key, city, float(settings.URBANGRID_EXCHANGE_TIMEOUT),
                  max(1, int(settings.URBANGRID_EXCHANGE_BATCH_EVENTS)))


def backoff(attempts):
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


# --- building a batch ---------------------------------------------------------------------------------

def horizon():
    """The largest event id below which every event is committed (see the module's docstring)."""
    return committed_horizon(CaseEvent)


def _codes(model, ids):
    ids = sorted({i for i in ids if i is not None})
    out = {}
    for i in range(0, len(ids), CHUNK):
        out.update(model.objects.filter(pk__in=ids[i:i + CHUNK]).values_list("pk", "code"))
    return out


CASE_COLUMNS = {
    "number": "number", "version": "version", "source": "source", "catalog_version": "catalog_version",
    "class_code": "class_code", "kind": "kind", "urgency": "urgency", "state": "state", "archive_type": "archive_type",
    "satisfaction": "satisfaction", "unit_grid": "unit_grid__code", "responsibility_grid": "responsibility_grid__code",
    "community": "community__code", "street": "street__code", "district": "district__code",
    "current_unit": "current_unit__code", "self_handled": "self_handled", "is_supervised": "is_supervised",
    "reported_at": "created_at", "filed_at": "filed_at", "dispatched_at": "dispatched_at",
    "fed_back_at": "fed_back_at", "closed_at": "closed_at", "handle_deadline": "handle_deadline",
    "updated_at": "updated_at",
}
COUNTER_COLUMNS = {"rework": "rework_count", "return": "return_count", "extension": "extension_count",
                   "suspension": "suspension_count", "supervision": "supervision_count", "reopen": "reopen_count"}


def case_summary(row):
    """One case as the wire describes it, from a ``values()`` row of CASE_COLUMNS and COUNTER_COLUMNS (and
    ``external_ref``: a case made from a province task names it, ``province_task``, docs/exchange.md §8)."""
    out = {}
    for name, column in CASE_COLUMNS.items():
        value = row[column]
        out[name] = wire.iso(value) if name in wire.CASE_TIMES else value
    for name in wire.CASE_TEXTS:
        out[name] = out[name] or ""
    out["counts"] = {name: row[column] for name, column in COUNTER_COLUMNS.items()}
    task = intake.province_task_of(row.get("external_ref"))
    if task is not None:  # only then: the other cases' summaries stay as version 1 first wrote them
        out["province_task"] = task
    return out


def _cases(case_ids):
    rows = {}
    ids = sorted(case_ids)
    for i in range(0, len(ids), CHUNK):
        for row in Case.objects.filter(pk__in=ids[i:i + CHUNK]).order_by().values(
                "pk", *CASE_COLUMNS.values(), *COUNTER_COLUMNS.values(), "external_ref"):
            rows[row["pk"]] = row
    return rows


def _events(after, upto, limit):
    return list(CaseEvent.objects.filter(pk__gt=after, pk__lte=upto).order_by("pk").values_list(
        "pk", "case_id", "seq", "action", "from_state", "to_state", "at", "stage", "deadline", "unit_id")[:limit])


def _day_rows(days):
    """(tally day, its region rows, its unit rows) of each of ``days``, the rows of TALLY_DAYS_READ days a query (a
    city's first push carries years of days)."""
    for start in range(0, len(days), TALLY_DAYS_READ):
        chunk = days[start:start + TALLY_DAYS_READ]
        wanted = [td.day for td in chunk]
        regions, units = defaultdict(list), defaultdict(list)
        for r in RegionDay.objects.filter(day__in=wanted).order_by("pk").values(
                "day", "grid", "rgrid", "community", "street", "district", "self_handled", *REGION_DAY_COUNTS):
            regions[r.pop("day")].append(r)
        for r in UnitDay.objects.filter(day__in=wanted).order_by("pk").values("day", "unit", *UNIT_DAY_COUNTS):
            units[r.pop("day")].append(r)
        for td in chunk:
            yield td, regions[td.day], units[td.day]


def _tallies(sent):
    """The days whose tally changed since it was last sent (oldest first), up to about TALLY_ROWS rows."""
    changed = [td for td in TallyDay.objects.filter(dirty=False).order_by("day") if sent.get(td.day) != td.computed_at]
    days, rows = [], 0
    for td, regions, units in _day_rows(changed):
        days.append((td, regions, units))
        rows += len(regions) + len(units)
        if rows >= TALLY_ROWS:
            break
    if not days:
        return []
    grids = _codes(UnitGrid, (r["grid"] for _t, rs, _u in days for r in rs))
    rgrids = _codes(ResponsibilityGrid, (r["rgrid"] for _t, rs, _u in days for r in rs))
    regions = _codes(Region, (r[k] for _t, rs, _u in days for r in rs for k in ("community", "street", "district")))
    units = _codes(Unit, (r["unit"] for _t, _r, us in days for r in us))
    out = []
    for td, rs, us in days:
        out.append({
            "day": td.day.isoformat(), "computed_at": wire.iso(td.computed_at), "events": td.events,
            "grace_minutes": td.grace_minutes,
            "regions": [{"unit_grid": grids.get(r["grid"]), "responsibility_grid": rgrids.get(r["rgrid"]),
                         "community": regions.get(r["community"]), "street": regions.get(r["street"]),
                         "district": regions.get(r["district"]), "self_handled": r["self_handled"],
                         **{n: r[n] for n in REGION_DAY_COUNTS}} for r in rs],
            # a unit since deleted keeps its id as its code: the counts stay the city's
            "units": [{"unit": units.get(r["unit"], f"#{r['unit']}"), **{n: r[n] for n in UNIT_DAY_COUNTS}} for r in us],
        })
    return out


def grids_block():
    """The city's grid data version, with counts and a digest of its unit grids' codes (with their community's
    and responsibility grid's codes), so the province can tell two cities' views of one version apart."""
    h = hashlib.sha256()
    n = 0
    for code, community, rgrid in UnitGrid.objects.order_by("code").values_list(
            "code", "community__code", "responsibility_grid__code").iterator(chunk_size=5000):
        h.update(f"{code}\t{community or ''}\t{rgrid or ''}\n".encode())
        n += 1
    return {"version": GridDataVersion.current(), "unit_grids": n,
            "responsibility_grids": ResponsibilityGrid.objects.count(), "regions": Region.objects.count(),
            "digest": h.hexdigest()}


def build_next(cfg, now=None):
    """Build and store the next batch (None when there is nothing new). Safe beside another builder."""
    now = now or timezone.now()
    state = ExchangeState.load()
    top = horizon()
    events = _events(state.built_cursor, top, cfg.batch_events)
    upto = events[-1][0] if len(events) == cfg.batch_events else max(top, state.built_cursor)
    sent = dict(TallySent.objects.values_list("day", "computed_at"))
    tallies = _tallies(sent)
    version = GridDataVersion.current()
    grids = grids_block() if version != state.grid_version_sent else None
    if not events and not tallies and grids is None:
        return None
    cases = _cases({e[1] for e in events})
    units = _codes(Unit, (e[9] for e in events))
    numbers = {pk: row["number"] for pk, row in cases.items()}
    doc = {
        "format": wire.FORMAT, "version": wire.VERSION, "city": cfg.city, "sequence": state.built_sequence + 1,
        "cursor": {"from": state.built_cursor, "to": upto}, "built_at": wire.iso(now),
        "cases": [case_summary(cases[pk]) for pk in sorted(cases)],
        "steps": [{"event": pk, "case": numbers[case_id], "seq": seq, "action": action, "from": from_state or "",
                   "to": to_state, "at": wire.iso(at), "stage": stage or "", "deadline": wire.iso(deadline),
                   "unit": units.get(unit_id)}
                  for pk, case_id, seq, action, from_state, to_state, at, stage, deadline, unit_id in events],
        "tallies": tallies,
        "grids": grids,
    }
    body = wire.canonical(doc)
    with transaction.atomic():
        locked = ExchangeState.objects.select_for_update().get(pk=state.pk)
        if (locked.built_sequence, locked.built_cursor) != (state.built_sequence, state.built_cursor):
            return None  # another pusher built this one meanwhile; the caller sends what is stored
        batch = OutboxBatch.objects.create(
            sequence=doc["sequence"], cursor_from=state.built_cursor, cursor_to=upto, payload_version=wire.VERSION,
            body=body, digest=wire.digest(body), events=len(events), cases=len(cases), tallies=len(tallies),
            created_at=now)
        locked.built_sequence, locked.built_cursor = batch.sequence, upto
        if grids is not None:
            locked.grid_version_sent = grids["version"]
        locked.save(update_fields=["built_sequence", "built_cursor", "grid_version_sent"])
        TallySent.objects.bulk_create(
            [TallySent(day=date.fromisoformat(t["day"]), computed_at=wire.parse_instant(t["computed_at"])) for t in tallies],
            update_conflicts=True, unique_fields=["day"], update_fields=["computed_at"])
    return batch


# --- sending ------------------------------------------------------------------------------------------

def _answer(raw):
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {"detail": raw[:200].decode("utf-8", "replace")}
    return value if isinstance(value, dict) else {"detail": str(value)[:200]}


def post_batch(cfg, body):
    """(HTTP status, answer) of one POST; OSError when no answer came."""
    request = urllib.request.Request(cfg.url + BATCHES_PATH, data=bytes(body), method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", wire.CITY_HEADER: cfg.city,
        wire.SIGNATURE_HEADER: wire.sign(cfg.key, bytes(body))})
    try:
        with urllib.request.urlopen(request, timeout=cfg.timeout) as response:
            return response.status, _answer(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, _answer(exc.read())


def province_cursor(cfg):
    """Where the province says this city's stream stands (its ``cursor`` answer); OSError or ValueError."""
    ts = str(int(time.time()))
    query = urllib.parse.urlencode({"city": cfg.city})
    request = urllib.request.Request(f"{cfg.url}{CURSOR_PATH}?{query}", headers={
        wire.TIMESTAMP_HEADER: ts, wire.SIGNATURE_HEADER: wire.sign(cfg.key, wire.cursor_message(cfg.city, ts))})
    try:
        with urllib.request.urlopen(request, timeout=cfg.timeout) as response:
            return _answer(response.read())
    except urllib.error.HTTPError as exc:
        raise ValueError(f"HTTP {exc.code}: {_answer(exc.read()).get('detail', '')}") from None


@dataclass
class PushResult:
    sent: int = 0
    duplicates: int = 0
    built: int = 0
    realigned: int = 0
    error: str = ""
    busy: str = ""
    waiting_until: object = None
    pending: int = 0
    acked_sequence: int = 0
    log: list = field(default_factory=list)


def _ack(batch, now):
    with transaction.atomic():
        state = ExchangeState.objects.select_for_update().get(pk=1)
        OutboxBatch.objects.filter(pk=batch.pk).update(acked_at=now, attempts=batch.attempts + 1, last_error="")
        if batch.sequence > state.acked_sequence:
            state.acked_sequence, state.acked_cursor = batch.sequence, batch.cursor_to
        state.attempts, state.next_attempt_at, state.last_error = 0, None, ""
        state.last_attempt_at = state.last_success_at = now
        state.save()


def _fail(batch, now, error):
    error = error[:500]
    with transaction.atomic():
        state = ExchangeState.objects.select_for_update().get(pk=1)
        state.attempts += 1
        state.next_attempt_at = now + backoff(state.attempts)
        state.last_attempt_at, state.last_error = now, error
        state.save(update_fields=["attempts", "next_attempt_at", "last_attempt_at", "last_error"])
        if batch is not None:
            OutboxBatch.objects.filter(pk=batch.pk).update(attempts=batch.attempts + 1, last_error=error)
    log.warning("exchange: batch %s not delivered (attempt %s): %s", getattr(batch, "sequence", "-"), state.attempts, error)
    return state.next_attempt_at


def realign(expected, province_cursor_at):
    """Make the stream resume where the province says it stands: batch ``expected`` starting at event
    ``province_cursor_at``. Stored batches are resent when they fit; otherwise the batches from there are
    rebuilt from the event log (tallies and the grid version sent again: the province replaces them whole)."""
    with transaction.atomic():
        state = ExchangeState.objects.select_for_update().get(pk=1)
        stored = OutboxBatch.objects.filter(sequence=expected).first()
        if stored is not None and stored.cursor_from == province_cursor_at:
            OutboxBatch.objects.filter(sequence__gte=expected).update(acked_at=None)
        else:
            OutboxBatch.objects.filter(sequence__gte=expected).delete()
            state.built_sequence, state.built_cursor = expected - 1, province_cursor_at
            state.grid_version_sent = None
            TallySent.objects.all().delete()
        state.acked_sequence, state.acked_cursor = expected - 1, province_cursor_at
        state.save()
    log.warning("exchange: resuming from batch %s (event %s) as the province asks", expected, province_cursor_at)


def _next_unacked():
    state = ExchangeState.load()
    return OutboxBatch.objects.filter(acked_at__isnull=True, sequence__gt=state.acked_sequence).order_by("sequence").first()


def prune(now=None):
    """Forget acknowledged batches older than URBANGRID_EXCHANGE_KEEP_DAYS (the event log can rebuild them)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.URBANGRID_EXCHANGE_KEEP_DAYS)
    return OutboxBatch.objects.filter(acked_at__isnull=False, acked_at__lt=cutoff).delete()[0]


# --- one pusher at a time -----------------------------------------------------------------------------

def _me():
    return f"{socket.gethostname()}:{os.getpid()}"


def _dead(owner):
    """Whether a lease's owner is a process of this host that no longer runs (killed: its lease is free)."""
    host, _sep, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def lease_seconds(cfg):
    return 60 + 4 * cfg.timeout


def claim(cfg, now=None):
    """Take the pusher's lease (True), or leave it to the live run that holds it (False)."""
    now = now or timezone.now()
    ExchangeState.load()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_owner=_me())
    owner = ExchangeState.objects.filter(pk=1).values_list("lease_owner", flat=True).first() or ""
    if owner and _dead(owner):
        free |= Q(lease_owner=owner)
    return bool(ExchangeState.objects.filter(free, pk=1).update(
        lease_owner=_me(), lease_until=now + timedelta(seconds=lease_seconds(cfg))))


def release():
    ExchangeState.objects.filter(pk=1, lease_owner=_me()).update(lease_owner="", lease_until=None)


def push(now=None, force=False, max_batches=None, cfg=None):
    """Send the province everything new, in order, until it is up to date, a batch fails or ``max_batches``
    were sent. ``force`` ignores the backoff's next attempt time (the command's ``--now``). A run that finds
    another one going (its lease, renewed with every batch) leaves it alone (``busy``)."""
    cfg = cfg or config()
    result = PushResult()
    state = ExchangeState.load()
    if not force and state.next_attempt_at and state.next_attempt_at > (now or timezone.now()):
        result.waiting_until = state.next_attempt_at
        return _finish(result)
    if not claim(cfg, now):
        state = ExchangeState.load()
        result.busy = f"{state.lease_owner} until {wire.iso(state.lease_until)}"
        return _finish(result)
    try:
        _push(cfg, now, max_batches, result)
    finally:
        release()
    return _finish(result)


def _push(cfg, now, max_batches, result):
    realigns = 0
    while max_batches is None or result.sent + result.duplicates < max_batches:
        at = now or timezone.now()
        batch = _next_unacked()
        if batch is None:
            try:
                batch = build_next(cfg, at)
            except Exception as exc:  # the horizon's lock timed out, the database went away: try later
                result.error = f"building failed: {exc}"
                _fail(None, at, result.error)
                break
            if batch is None:
                if _next_unacked() is None:
                    break  # up to date
                continue
            result.built += 1
        try:
            status, answer = post_batch(cfg, batch.body)
        except OSError as exc:
            result.error = f"batch {batch.sequence}: no answer from the province ({exc})"
            _fail(batch, at, result.error)
            break
        claim(cfg, now)  # renewed: a long catch-up keeps its turn
        if status == 200 and answer.get("accepted"):
            _ack(batch, at)
            if answer.get("duplicate"):
                result.duplicates += 1
            else:
                result.sent += 1
            result.log.append(f"{batch.sequence}: {'duplicate' if answer.get('duplicate') else 'applied'}")
            continue
        reason = answer.get("reason", "")
        if status == 409 and reason in ("out_of_order", "cursor_mismatch") and realigns < MAX_REALIGNS \
                and isinstance(answer.get("expected_sequence"), int) and isinstance(answer.get("last_cursor"), int):
            realigns += 1
            result.realigned += 1
            realign(answer["expected_sequence"], answer["last_cursor"])
            result.log.append(f"{batch.sequence}: {reason}, resuming from {answer['expected_sequence']}")
            continue
        result.error = f"batch {batch.sequence}: HTTP {status} {reason}: {answer.get('detail', '')}".strip()
        _fail(batch, at, result.error)
        break


def _finish(result):
    state = ExchangeState.load()
    result.acked_sequence = state.acked_sequence
    result.pending = OutboxBatch.objects.filter(acked_at__isnull=True, sequence__gt=state.acked_sequence).count()
    if result.waiting_until is None and result.error:
        result.waiting_until = state.next_attempt_at
    return result


def status():
    """The stream as the city sees it: {built, acked, pending, lag events, next attempt, last error}."""
    state = ExchangeState.load()
    top = CaseEvent.objects.aggregate(m=Max("pk"))["m"] or 0
    return {
        "built_sequence": state.built_sequence, "built_cursor": state.built_cursor,
        "acked_sequence": state.acked_sequence, "acked_cursor": state.acked_cursor,
        "pending_batches": OutboxBatch.objects.filter(acked_at__isnull=True, sequence__gt=state.acked_sequence).count(),
        "unsent_events": CaseEvent.objects.filter(pk__gt=state.acked_cursor, pk__lte=top).count(),
        "attempts": state.attempts, "next_attempt_at": wire.iso(state.next_attempt_at),
        "last_success_at": wire.iso(state.last_success_at), "last_error": state.last_error,
        "grid_version_sent": state.grid_version_sent,
        "tasks_after": state.tasks_after, "tasks_pulled_at": wire.iso(state.tasks_pulled_at),
        "tasks_error": state.tasks_error,
    }
