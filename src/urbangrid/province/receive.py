"""接收: the province takes a city's batch (``wire`` format), answers where the city's stream stands, or hands the
city its new tasks (``fetch``, 省级交办任务).

Order of checks, each refusal recorded as a ``Rejection`` and nothing applied: the city is registered (403),
the signature over the exact body verifies with its key (400), the body is a well-formed batch of a supported
version for that city (400, with field problems), then, with the city's row locked, the sequence: the next one
is applied; one already applied is answered 200 ``duplicate: true`` when its digest is the one applied (a
resend), 409 ``sequence_reused`` otherwise; a later one is 409 ``out_of_order``; a batch whose cursor does not
start where the last ended is 409 ``cursor_mismatch``. Every 409 names ``expected_sequence`` and
``last_cursor``, from which the city resends.

A batch is applied in one transaction with the city's row: case summaries upserted (a summary of a lower
version than the one held never replaces it; steps are merged by their sequence number), each day's tally
replaced whole (unless the held one was computed later), the grid version recorded, and the province tasks the
cases name moved with them (``supervision.follow_cases``).
"""
import json
import time
from collections import defaultdict

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date

from . import supervision, wire
from .models import (
    ProvinceBatch,
    ProvinceCase,
    ProvinceCity,
    ProvinceGridVersion,
    ProvinceRegionDay,
    ProvinceTask,
    ProvinceTallyDay,
    ProvinceUnitDay,
    Rejection,
)

CHUNK = 500
CASE_UPDATE_FIELDS = ("version", *wire.CASE_TEXTS, *wire.CASE_CODES, *wire.CASE_FLAGS, *wire.CASE_TIMES, "counts",
                      "steps", "received_at")


class Refused(Exception):
    def __init__(self, status, reason, detail, city=None, sequence=None, **extra):
        super().__init__(detail)
        self.status, self.reason, self.detail, self.city, self.sequence, self.extra = (
            status, reason, detail, city, sequence, extra)

    def answer(self):
        return {"accepted": False, "reason": self.reason, "detail": self.detail, **self.extra}


def _record(refusal, city_code, body, remote_addr):
    Rejection.objects.create(
        city=refusal.city, city_code=(city_code or "")[:40], sequence=refusal.sequence, reason=refusal.reason,
        status=refusal.status, detail=(refusal.detail + ("\n" + json.dumps(refusal.extra, ensure_ascii=False)
                                                         if refusal.extra else ""))[:4000],
        body_sha256=wire.digest(body) if body else "", body_bytes=len(body or b""), remote_addr=(remote_addr or "")[:64])


def _city(code, body, signature_text, message=None):
    city = ProvinceCity.objects.filter(code=code).first() if code else None
    if city is None:
        raise Refused(403, "unknown_city", f"city {code!r} is not registered with this province")
    if not wire.signature_ok(city.key, body if message is None else message, signature_text or ""):
        raise Refused(400, "signature", "the signature does not verify with the city's key", city=city)
    return city


def receive_batch(body, city_code, signature, remote_addr=""):
    """(status, answer) for one POSTed batch; refusals are recorded."""
    try:
        city = _city(city_code, body, signature)
        try:
            doc = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise Refused(400, "malformed", f"the body is not UTF-8 JSON: {exc}", city=city) from None
        problems = wire.check(doc)
        if not problems and doc["city"] != city.code:
            problems.add("city", f"the batch names city {doc['city']!r}, signed as {city.code!r}")
        if not problems:
            numbers = {c["number"] for c in doc["cases"]}
            stray = sorted({s["case"] for s in doc["steps"]} - numbers)
            if stray:
                problems.add("steps", f"steps of cases the batch does not describe: {', '.join(stray[:5])}")
        if problems:
            raise Refused(400, "malformed", "the batch is not well formed", city=city,
                          sequence=doc.get("sequence") if isinstance(doc, dict) else None, problems=problems)
        with transaction.atomic():
            return 200, _apply(city.pk, doc, wire.digest(body))
    except Refused as refusal:
        _record(refusal, city_code, body, remote_addr)
        return refusal.status, refusal.answer()


def _apply(city_pk, doc, digest):
    city = ProvinceCity.objects.select_for_update().get(pk=city_pk)
    seq, cursor = doc["sequence"], doc["cursor"]
    where = {"expected_sequence": city.last_sequence + 1, "last_cursor": city.last_cursor}
    if seq <= city.last_sequence:
        held = ProvinceBatch.objects.filter(city=city, sequence=seq).values_list("digest", flat=True).first()
        if held == digest:
            return {"accepted": True, "duplicate": True, "sequence": seq, **where}
        raise Refused(409, "sequence_reused", f"sequence {seq} was applied with other content", city=city,
                      sequence=seq, **where)
    if seq > city.last_sequence + 1:
        raise Refused(409, "out_of_order", f"sequence {seq} arrived; {city.last_sequence + 1} is expected",
                      city=city, sequence=seq, **where)
    if cursor["from"] != city.last_cursor:
        raise Refused(409, "cursor_mismatch", f"the batch starts at event {cursor['from']}; the last ended at "
                      f"{city.last_cursor}", city=city, sequence=seq, **where)
    now = timezone.now()
    cases = _apply_cases(city, doc["cases"], doc["steps"], now)
    tasks = supervision.follow_cases(city, doc["cases"], now)
    days = _apply_tallies(city, doc["tallies"], now)
    grids = doc.get("grids")
    if grids:
        ProvinceGridVersion.objects.get_or_create(city=city, version=grids["version"], defaults={
            "unit_grids": grids["unit_grids"], "responsibility_grids": grids["responsibility_grids"],
            "regions": grids["regions"], "digest": grids["digest"], "received_at": now})
        city.grid_version = grids["version"]
    ProvinceBatch.objects.create(city=city, sequence=seq, cursor_from=cursor["from"], cursor_to=cursor["to"],
                                 payload_version=doc["version"], digest=digest, cases=cases, steps=len(doc["steps"]),
                                 tallies=days, built_at=wire.parse_instant(doc["built_at"]), received_at=now)
    city.last_sequence, city.last_cursor, city.last_received_at = seq, cursor["to"], now
    city.events_received += len(doc["steps"])
    city.save(update_fields=["last_sequence", "last_cursor", "last_received_at", "events_received", "grid_version"])
    return {"accepted": True, "duplicate": False, "sequence": seq, "cases": cases, "steps": len(doc["steps"]),
            "tallies": days, "tasks": tasks, "expected_sequence": seq + 1, "last_cursor": cursor["to"]}


def _step_row(s):
    return [s["event"], s["seq"], s["action"], s["from"], s["to"], s["at"], s["stage"], s["deadline"], s["unit"]]


def _apply_cases(city, cases, steps, now):
    by_case = defaultdict(list)
    for s in steps:
        by_case[s["case"]].append(_step_row(s))
    numbers = [c["number"] for c in cases]
    held = {}
    for i in range(0, len(numbers), CHUNK):
        for row in ProvinceCase.objects.filter(city=city, number__in=numbers[i:i + CHUNK]):
            held[row.number] = row
    rows = []
    for c in cases:
        old = held.get(c["number"])
        merged = {s[1]: s for s in (old.steps if old else [])}
        merged.update({s[1]: s for s in by_case.get(c["number"], ())})
        fields = {"version": c["version"], **{n: c[n] or "" for n in wire.CASE_TEXTS},
                  **{n: c[n] for n in wire.CASE_CODES}, **{n: c[n] for n in wire.CASE_FLAGS},
                  **{n: wire.parse_instant(c[n]) for n in wire.CASE_TIMES},
                  "counts": {n: c["counts"][n] for n in wire.CASE_COUNTERS}}
        if old is not None and old.version > c["version"]:
            # an older description (the province holds a later one): only its steps are news
            fields = {n: getattr(old, n) for n in fields}
        rows.append(ProvinceCase(city=city, number=c["number"], steps=[merged[k] for k in sorted(merged)],
                                 received_at=now, **fields))
    for i in range(0, len(rows), CHUNK):
        ProvinceCase.objects.bulk_create(rows[i:i + CHUNK], update_conflicts=True, unique_fields=["city", "number"],
                                         update_fields=list(CASE_UPDATE_FIELDS))
    return len(rows)


def _apply_tallies(city, tallies, now):
    applied = 0
    for t in tallies:
        day, computed_at = parse_date(t["day"]), wire.parse_instant(t["computed_at"])
        held = ProvinceTallyDay.objects.filter(city=city, day=day).first()
        if held is not None and held.computed_at > computed_at:
            continue
        ProvinceRegionDay.objects.filter(city=city, day=day).delete()
        ProvinceUnitDay.objects.filter(city=city, day=day).delete()
        ProvinceRegionDay.objects.bulk_create(
            [ProvinceRegionDay(city=city, day=day, self_handled=r["self_handled"],
                               **{n: r[n] for n in wire.REGION_CODES}, **{n: r[n] for n in wire.REGION_COUNTS})
             for r in t["regions"]], batch_size=CHUNK)
        ProvinceUnitDay.objects.bulk_create(
            [ProvinceUnitDay(city=city, day=day, unit=r["unit"], **{n: r[n] for n in wire.UNIT_COUNTS})
             for r in t["units"]], batch_size=CHUNK)
        ProvinceTallyDay.objects.update_or_create(city=city, day=day, defaults={
            "computed_at": computed_at, "events": t["events"], "grace_minutes": t["grace_minutes"], "received_at": now})
        applied += 1
    return applied


def cursor(city_code, timestamp, signature, remote_addr="", now=None):
    """(status, answer): where a city's stream stands at the province, for a request signed over
    ``wire.cursor_message`` with a timestamp (Unix seconds) within ``wire.CURSOR_SKEW_SECONDS``."""
    try:
        try:
            ts = int(timestamp)
        except (TypeError, ValueError):
            raise Refused(400, "malformed", f"{wire.TIMESTAMP_HEADER} must be Unix seconds") from None
        city = _city(city_code, b"", signature, message=wire.cursor_message(city_code, ts))
        if abs((now or time.time()) - ts) > wire.CURSOR_SKEW_SECONDS:
            raise Refused(400, "stale", f"the timestamp is more than {wire.CURSOR_SKEW_SECONDS} s from the "
                          "province's clock", city=city)
    except Refused as refusal:
        _record(refusal, city_code, b"", remote_addr)
        return refusal.status, refusal.answer()
    return 200, {"city": city.code, "last_sequence": city.last_sequence, "expected_sequence": city.last_sequence + 1,
                 "last_cursor": city.last_cursor, "grid_version": city.grid_version,
                 "last_received_at": wire.iso(city.last_received_at)}


def fetch(city_code, after, timestamp, signature, remote_addr="", now=None):
    """(status, answer, key): the city's tasks after task id ``after``, for a request signed over
    ``wire.tasks_message``; ``key`` (the city's) signs the answer, None for a refusal (recorded)."""
    try:
        try:
            ts, after = int(timestamp), int(after)
            if after < 0:
                raise ValueError
        except (TypeError, ValueError):
            raise Refused(400, "malformed", f"{wire.TIMESTAMP_HEADER} must be Unix seconds and after an integer "
                          "≥ 0") from None
        city = _city(city_code, b"", signature, message=wire.tasks_message(city_code, ts, after))
        if abs((now or time.time()) - ts) > wire.CURSOR_SKEW_SECONDS:
            raise Refused(400, "stale", f"the timestamp is more than {wire.CURSOR_SKEW_SECONDS} s from the "
                          "province's clock", city=city)
    except Refused as refusal:
        _record(refusal, city_code, b"", remote_addr)
        return refusal.status, refusal.answer(), None
    top = supervision.horizon()
    tasks = list(ProvinceTask.objects.filter(city=city, pk__gt=after, pk__lte=top).order_by("pk")[:wire.TASKS_PER_FETCH])
    full = len(tasks) == wire.TASKS_PER_FETCH
    upto = tasks[-1].pk if full else max(top, after)
    if tasks:
        ProvinceTask.objects.filter(pk__in=[t.pk for t in tasks], fetched_at__isnull=True).update(
            fetched_at=timezone.now())
    return 200, {"city": city.code, "after": after, "next": upto, "more": full,
                 "tasks": [supervision.task_document(t) for t in tasks]}, city.key
