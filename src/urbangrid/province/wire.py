"""The exchange's wire format (联网数据交换格式), version 1: what a city sends its province, how it is signed, and
the checks a province makes before it applies anything. ``docs/exchange.md`` is the same text for people
(another vendor's province reads it); the city side (``urbangrid.exchange``) builds documents with these names.

A batch is one JSON object, UTF-8, sent as the request body; the signature is HMAC-SHA256 over those exact
bytes with the city's key (the key's UTF-8 bytes), lower-case hex, in the header ``X-UrbanGrid-Signature``.
A cursor request signs ``"GET\\n" + city + "\\n" + timestamp`` the same way; a task fetch (downward: the
province's tasks for the city, 省级交办任务) signs ``"GET\\n" + city + "\\n" + timestamp + "\\ntasks\\n" + after``,
and the province signs its answer's bytes (the city refuses an answer that does not verify).
"""
import hashlib
import hmac
import json
import re
from datetime import datetime
from datetime import timezone as dt_timezone

FORMAT = "urbangrid-exchange"
VERSION = 1
SUPPORTED_VERSIONS = (1,)

CITY_HEADER = "X-UrbanGrid-City"
SIGNATURE_HEADER = "X-UrbanGrid-Signature"
TIMESTAMP_HEADER = "X-UrbanGrid-Timestamp"
# How far a signed cursor request's timestamp may be from the province's clock (seconds).
CURSOR_SKEW_SECONDS = 300

# The counts a day's tally carries, per region row and per unit row (names of the wire, not of any table).
REGION_COUNTS = ("verified", "filed", "closed", "ontime", "handle_sum", "handle_n")
UNIT_COUNTS = ("filed", "fed", "handled", "ontime", "rework")
CASE_COUNTERS = ("rework", "return", "extension", "suspension", "supervision", "reopen")
CASE_TIMES = ("reported_at", "filed_at", "dispatched_at", "fed_back_at", "closed_at", "handle_deadline", "updated_at")
CASE_CODES = ("unit_grid", "responsibility_grid", "community", "street", "district", "current_unit")
CASE_TEXTS = ("source", "catalog_version", "class_code", "kind", "urgency", "state", "archive_type", "satisfaction")
CASE_FLAGS = ("self_handled", "is_supervised")
REGION_CODES = ("unit_grid", "responsibility_grid", "community", "street", "district")
TASK_KINDS = ("supervision", "special")
TASK_TEXTS = {"title": 100, "description": 4000, "address": 200, "class_code": 40, "unit_grid": 32}
# The most tasks one fetch answers (the city asks again after the last one).
TASKS_PER_FETCH = 100
CITY_CODE = re.compile(r"^[0-9A-Za-z_-]{1,20}$")


def canonical(document):
    """The bytes a city sends: sorted keys, no spaces, UTF-8 (any encoding of valid JSON verifies the same way,
    since the signature covers the bytes as sent; this one is merely reproducible)."""
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(key, message):
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_ok(key, message, signature):
    return bool(signature) and hmac.compare_digest(sign(key, message), signature.strip().lower())


def cursor_message(city, timestamp):
    return f"GET\n{city}\n{timestamp}".encode("utf-8")


def tasks_message(city, timestamp, after):
    """What a task fetch signs: the cursor request's message, then ``tasks`` and the cursor it asks after."""
    return f"GET\n{city}\n{timestamp}\ntasks\n{after}".encode("utf-8")


def digest(body):
    return hashlib.sha256(body).hexdigest()


def iso(value):
    """An instant as the wire writes it: ISO 8601 in UTC with microseconds (``2026-12-04T01:48:06.123456+00:00``)."""
    return value.astimezone(dt_timezone.utc).isoformat(timespec="microseconds") if value else None


def parse_instant(text):
    """An ISO 8601 instant with an offset, or None for null; ValueError otherwise."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValueError("not a string")
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("no UTC offset")
    return value


# --- checking a batch (the province, before anything is applied) -----------------------------------------

class Problems(list):
    def add(self, field, message):
        self.append({"field": field, "message": message})


def _int(p, field, value, minimum=0):
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        p.add(field, f"an integer ≥ {minimum}")
        return False
    return True


def _str(p, field, value, nullable=False, max_length=64):
    if value is None and nullable:
        return
    if not isinstance(value, str) or len(value) > max_length:
        p.add(field, f"a string of at most {max_length} characters" + (" or null" if nullable else ""))


def _instant(p, field, value, nullable=True):
    if value is None and nullable:
        return
    try:
        if parse_instant(value) is None:
            raise ValueError("null")
    except (ValueError, TypeError):
        p.add(field, "an ISO 8601 instant with a UTC offset" + (" or null" if nullable else ""))


def _day(p, field, value):
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except (ValueError, TypeError):
        p.add(field, "a day as YYYY-MM-DD")


def check(doc, max_problems=50):
    """Field problems of a batch document (``[]``: well formed). Types and presence only: the province decides
    sequence and cursor rules itself."""
    p = Problems()
    if not isinstance(doc, dict):
        p.add("", "a JSON object")
        return p
    if doc.get("format") != FORMAT:
        p.add("format", f"must be {FORMAT!r}")
    if doc.get("version") not in SUPPORTED_VERSIONS:
        p.add("version", f"one of {list(SUPPORTED_VERSIONS)}")
        return p
    if not isinstance(doc.get("city"), str) or not CITY_CODE.match(doc["city"]):
        p.add("city", "a city code (letters, digits, - or _; at most 20)")
    _int(p, "sequence", doc.get("sequence"), 1)
    cursor = doc.get("cursor")
    if not isinstance(cursor, dict):
        p.add("cursor", "an object {from, to}")
    elif _int(p, "cursor.from", cursor.get("from")) & _int(p, "cursor.to", cursor.get("to")) and cursor["to"] < cursor["from"]:
        p.add("cursor.to", "not below cursor.from")
    _instant(p, "built_at", doc.get("built_at"), nullable=False)
    for name in ("cases", "steps", "tallies"):
        if not isinstance(doc.get(name), list):
            p.add(name, "a list")
    if p:
        return p
    for i, c in enumerate(doc["cases"]):
        f = f"cases[{i}]"
        if not isinstance(c, dict):
            p.add(f, "an object")
            continue
        _str(p, f"{f}.number", c.get("number"), max_length=32)
        _int(p, f"{f}.version", c.get("version"), 1)
        for name in CASE_TEXTS:
            _str(p, f"{f}.{name}", c.get(name), max_length=40)
        for name in CASE_CODES:
            _str(p, f"{f}.{name}", c.get(name), nullable=True, max_length=32)
        for name in CASE_TIMES:
            _instant(p, f"{f}.{name}", c.get(name), nullable=name != "reported_at")
        for name in CASE_FLAGS:
            if not isinstance(c.get(name), bool):
                p.add(f"{f}.{name}", "true or false")
        # optional (added to version 1; readers that do not know it ignore it): the province task the case is
        if c.get("province_task") is not None:
            _int(p, f"{f}.province_task", c["province_task"], 1)
        counts = c.get("counts")
        if not isinstance(counts, dict):
            p.add(f"{f}.counts", "an object")
        else:
            for name in CASE_COUNTERS:
                _int(p, f"{f}.counts.{name}", counts.get(name))
        if len(p) >= max_problems:
            return p
    for i, s in enumerate(doc["steps"]):
        f = f"steps[{i}]"
        if not isinstance(s, dict):
            p.add(f, "an object")
            continue
        _int(p, f"{f}.event", s.get("event"), 1)
        _str(p, f"{f}.case", s.get("case"), max_length=32)
        _int(p, f"{f}.seq", s.get("seq"), 1)
        for name in ("action", "from", "to", "stage"):
            _str(p, f"{f}.{name}", s.get(name), max_length=40)
        _str(p, f"{f}.unit", s.get("unit"), nullable=True, max_length=32)
        _instant(p, f"{f}.at", s.get("at"), nullable=False)
        _instant(p, f"{f}.deadline", s.get("deadline"))
        if len(p) >= max_problems:
            return p
    for i, t in enumerate(doc["tallies"]):
        f = f"tallies[{i}]"
        if not isinstance(t, dict):
            p.add(f, "an object")
            continue
        _day(p, f"{f}.day", t.get("day"))
        _instant(p, f"{f}.computed_at", t.get("computed_at"), nullable=False)
        _int(p, f"{f}.events", t.get("events"))
        _int(p, f"{f}.grace_minutes", t.get("grace_minutes"))
        for part, codes, counts in (("regions", REGION_CODES, REGION_COUNTS), ("units", ("unit",), UNIT_COUNTS)):
            rows = t.get(part)
            if not isinstance(rows, list):
                p.add(f"{f}.{part}", "a list")
                continue
            for j, r in enumerate(rows):
                g = f"{f}.{part}[{j}]"
                if not isinstance(r, dict):
                    p.add(g, "an object")
                    continue
                for name in codes:
                    _str(p, f"{g}.{name}", r.get(name), nullable=part == "regions", max_length=32)
                for name in counts:
                    _int(p, f"{g}.{name}", r.get(name))
                if part == "regions" and not isinstance(r.get("self_handled"), bool):
                    p.add(f"{g}.self_handled", "true or false")
                if len(p) >= max_problems:
                    return p
    grids = doc.get("grids")
    if grids is not None:
        if not isinstance(grids, dict):
            p.add("grids", "an object or null")
        else:
            for name in ("version", "unit_grids", "responsibility_grids", "regions"):
                _int(p, f"grids.{name}", grids.get(name))
            _str(p, "grids.digest", grids.get("digest"), max_length=64)
    return p


# --- tasks downward (the city, before it makes a case of anything fetched) ----------------------------------

def check_tasks(doc, city):
    """Field problems of a task fetch's answer (``[]``: well formed): ``{"city", "after", "next", "tasks": [...]}``."""
    p = Problems()
    if not isinstance(doc, dict):
        p.add("", "a JSON object")
        return p
    if doc.get("city") != city:
        p.add("city", f"must be {city!r}")
    _int(p, "after", doc.get("after"))
    _int(p, "next", doc.get("next"))
    tasks = doc.get("tasks")
    if not isinstance(tasks, list):
        p.add("tasks", "a list")
        return p
    last = doc.get("after") if isinstance(doc.get("after"), int) else 0
    for i, t in enumerate(tasks):
        f = f"tasks[{i}]"
        if not isinstance(t, dict):
            p.add(f, "an object")
            continue
        if _int(p, f"{f}.id", t.get("id"), 1):
            if t["id"] <= last:
                p.add(f"{f}.id", "greater than after and than the task before it")
            last = t["id"]
        if t.get("kind") not in TASK_KINDS:
            p.add(f"{f}.kind", f"one of {list(TASK_KINDS)}")
        for name, length in TASK_TEXTS.items():
            _str(p, f"{f}.{name}", t.get(name), max_length=length)
        if isinstance(t.get("title"), str) and not t["title"].strip():
            p.add(f"{f}.title", "not empty")
        for name in ("lon", "lat"):
            value = t.get(name)
            if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)):
                p.add(f"{f}.{name}", "a number or null")
        if (t.get("lon") is None) != (t.get("lat") is None):
            p.add(f"{f}.lon", "lon and lat together or neither")
        _instant(p, f"{f}.deadline", t.get("deadline"), nullable=False)
        _instant(p, f"{f}.created_at", t.get("created_at"), nullable=False)
    if isinstance(doc.get("next"), int) and tasks and isinstance(last, int) and doc["next"] < last:
        p.add("next", "not below the last task's id")
    return p
