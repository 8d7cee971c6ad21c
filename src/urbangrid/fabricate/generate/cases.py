"""Case histories for the megacity generator, produced by the workflow's own rules, written in bulk.

Each case is driven by the demo history's loop (``fabricate.demo.history._Run.run_case``): every step is checked
against the workflow table, the actor's permission and scope, and the engine's rules move the clocks,
counters and on-time flags, exactly as for a live request. What differs from the demo, for speed:

- the case and its events are light in-memory objects with the same attributes as the models (a Django
  model instance costs more to build than the rest of a step); the event's fields are ``engine.apply``'s;
- deadlines and working-time delays are computed on a precomputed working-time axis (``fastclock``:
  ``clock`` walks the calendar day by day, which made a 20-working-day limit cost more than the rest of
  the case): ``engine.apply`` is given the axis as its calendar. To keep that honest, the first case of
  every shape (its sequence of actions × its handling limit) is replayed once more with ``clock``'s own
  calendar, and the run stops if a single value differs;
- rows are built directly as PostgreSQL COPY text or as executemany tuples (``event_copy_line``,
  ``event_tuple``; the generic ``rows_copy`` / ``rows_tuples`` are the reference the tests hold them to)
  and go to the database chunk by chunk from worker processes that generate while the parent writes.
"""
import json
import random
import re
from collections import Counter
from datetime import datetime
from datetime import timezone as dt_timezone

from django.db import models

from urbangrid.cases import chain, engine
from urbangrid.cases.chain import GENESIS, seal
from urbangrid.cases.models import Case, CaseEvent
from urbangrid.fabricate.demo.history import HistoryError, _Recurrences, _Run

from . import fastclock

CHUNK = 5000  # cases per unit of work (one worker task, one write)
_CASE_FIELDS = [f for f in Case._meta.concrete_fields]
_EVENT_FIELDS = [f for f in CaseEvent._meta.concrete_fields if not f.primary_key]  # ids from the sequence
_CASE_FKS = {f.name for f in _CASE_FIELDS if f.is_relation}
_CASE_DEFAULTS = {f.attname: (None if f.has_default() and callable(f.default) else f.get_default()) for f in _CASE_FIELDS}
_TRACKING = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_UTC = dt_timezone.utc


class LightCase:
    """A case in memory with the model's attributes: setting ``unit`` sets ``unit_id`` as a model would."""

    def __init__(self, **kw):
        self.__dict__.update(_CASE_DEFAULTS)
        for k, v in kw.items():
            setattr(self, k, v)


def _fk_property(name):
    # a property only for the relations: every other attribute is a plain (fast) instance attribute
    def get(self):
        return self.__dict__.get(name)

    def set(self, value):
        self.__dict__[name] = value
        self.__dict__[name + "_id"] = value.pk if value is not None else None

    return property(get, set)


for _name in _CASE_FKS:
    setattr(LightCase, _name, _fk_property(_name))


class LightEvent:
    __slots__ = ("case", "seq", "action", "from_state", "to_state", "at", "actor_user_id", "actor_person_id", "role",
                 "unit_id", "note", "reason_code", "data", "deadline", "stage", "public", "prev_hash", "hash", "data_json")


# chain.canonical, written out: json.dumps(sort_keys=True, ensure_ascii=False, separators=(",", ":"),
# default=str) costs ~15 µs an event, more than everything else of a step. The same text is built here from
# the types an event holds; anything else goes to that encoder. The shape check compares the hashes with
# chain.seal's, and the tests compare the text with chain.canonical.
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode
_ESCAPED = re.compile(r'["\\\x00-\x1f]')


_JSTR = {}  # JSON of the strings that repeat (actions, states, roles, notes, stages, keys)


def _jstr(value):
    try:
        return _JSTR[value]
    except KeyError:
        out = _CANONICAL(value) if _ESCAPED.search(value) else '"' + value + '"'
        if len(_JSTR) < 10_000:
            _JSTR[value] = out
        return out


def _json(value):
    """``_CANONICAL(value)`` for the values of an event."""
    tp = type(value)
    if tp is str:
        return '"' + value + '"' if not _ESCAPED.search(value) else _CANONICAL(value)
    if value is None:
        return "null"
    if tp is bool:
        return "true" if value else "false"
    if tp is int:
        return str(value)
    if tp is dict:
        return "{" + ",".join([_jstr(k) + ":" + _json(value[k]) for k in sorted(value)]) + "}" \
            if all(type(k) is str for k in value) else _CANONICAL(value)
    if tp is list:
        return "[" + ",".join([_json(v) for v in value]) + "]"
    if isinstance(value, str):  # a TextChoices member: its value
        return _jstr(value)
    return _CANONICAL(value)


_STOPPED_KEYS = {"stage", "started", "deadline", "on_time"}


def _data_json(data):
    """``_json(data)`` with the stopped clocks' records (the bulk of an event's data) written out."""
    parts = []
    for k in sorted(data):
        v = data[k]
        if k == "stopped" and type(v) is list and all(type(r) is dict and r.keys() == _STOPPED_KEYS for r in v):
            v = "[" + ",".join([
                '{"deadline":' + _json(r["deadline"]) + ',"on_time":' + _json(r["on_time"]) + ',"stage":'
                + _json(r["stage"]) + ',"started":' + _json(r["started"]) + "}" for r in v]) + "]"
        else:
            v = _json(v)
        parts.append(_jstr(k) + ":" + v)
    return "{" + ",".join(parts) + "}"


_last_utc = [None, "null"]  # consecutive events share their deadline: one conversion


def _iso_utc(value):
    if value is _last_utc[0]:
        return _last_utc[1]
    out = '"' + value.astimezone(_UTC).isoformat(timespec="microseconds") + '"' if value else "null"
    _last_utc[:] = value, out
    return out


def canonical(e, number):
    """``chain.canonical(e, number)`` (keys in sorted order); also keeps the JSON of ``data`` on the event."""
    d = e.data
    e.data_json = data = _data_json(d) if type(d) is dict and all(type(k) is str for k in d) else _json(d)
    return "".join((
        '{"action":', _jstr(e.action), ',"at":', _iso_utc(e.at), ',"case":', _json(number), ',"data":', data,
        ',"deadline":', _iso_utc(e.deadline), ',"from":', _jstr(e.from_state), ',"note":', _jstr(e.note),
        ',"person":', _json(e.actor_person_id), ',"public":', "true" if e.public else "false",
        ',"reason_code":', _jstr(e.reason_code), ',"role":', _jstr(e.role), ',"seq":', str(e.seq),
        ',"stage":', _jstr(e.stage), ',"to":', _jstr(e.to_state), ',"unit":', _json(e.unit_id),
        ',"user":', _json(e.actor_user_id), "}"))


_hasher = [None, None]  # (the key list it was made for, chain.hasher())


def _seal(event, case):
    """``chain.seal``, faster: the same canonical JSON and keyed hash."""
    keys = chain.keys()
    if _hasher[0] is not keys:
        _hasher[:] = keys, chain.hasher()
    h = _hasher[1].copy()
    event.prev_hash = prev = case.chain_hash or GENESIS
    h.update((prev + canonical(event, case.number)).encode("utf-8"))
    event.hash = case.chain_hash = h.hexdigest()


def tracking_code(pk):
    """A distinct 10-character code per case id: an affine bijection on 50 bits, written in base 32."""
    n = (pk * 0x2545F4914F6CD + 0x1B873593) % (1 << 50)
    return "".join(_TRACKING[(n >> (5 * i)) & 31] for i in range(10))


class GenRun(_Run):
    """The demo history's run with light objects and the working-time axis; the checks, the input cleaning
    and the engine are the same."""

    def __init__(self, seed, now=None):
        super().__init__(seed, now)
        self.scope_ok = {}
        # Warm every lazy relation a step may follow, so worker processes never query the database.
        for rules in self.resolver.rules.values():
            for rule in rules:
                _ = rule.unit.region and rule.unit.region.parent
                _ = rule.region, rule.responsibility_grid
        for unit in self.resolver.territorial.values():
            _ = unit.region and unit.region.parent
        for ug in self.grids:
            _ = ug.community
        self.fc = fastclock.FastCalendar(self.cal)
        self.fast = True  # False: engine.apply and clock themselves (the reference replay of a new shape)
        self.roles = {}
        self.shapes = set()  # shapes already replayed through the engine in this process

    def may(self, actor, t, case):
        # The scope verdict depends only on the actor and these case attributes: cache it.
        key = (id(actor), t.action, case.source, case.responsibility_grid_id, case.district_centre_id, case.current_unit_id)
        ok = self.scope_ok.get(key)
        if ok is None:
            ok = self.scope_ok[key] = super().may(actor, t, case)
        return ok

    def apply(self, case, t, cleaned, at, actor):
        role = self.roles.get((id(actor), t.action))
        if role is None:
            role = self.roles[id(actor), t.action] = engine.role_of(actor, t)
        return engine.apply(case, t, cleaned, at, self.fc if self.fast else self.cal, self.ctx.limits, actor=actor,
                            role=role)

    def new_event(self, case, outcome):
        e = LightEvent()
        for name, value in outcome.event.items():
            setattr(e, name, value)
        e.case, e.prev_hash, e.hash, e.data_json = case, "", "", None
        return e

    def seal(self, event, case):
        (_seal if self.fast else seal)(event, case)

    def add_hours(self, at, hours, places=3):
        if not self.fast:
            return super().add_hours(at, hours, places)
        # hours rounded to ``places`` decimals, as clock.to_timedelta(Decimal(str(...))) reads them
        scale = 10 ** places
        return self.fc.add(at, round(hours * scale) * (3_600_000_000 // scale))

    def place(self, ug, lon, lat):
        # A generated city's grids are rectangles that tile their boxes, and it has no roads: the point's grid is
        # the one drawn (``test_generate`` checks the tiling), found without the locator's database look-ups.
        street_id = ug.community.parent_id
        return {"unit_grid_id": ug.pk, "responsibility_grid_id": ug.responsibility_grid_id,
                "community_id": ug.community_id, "street_id": street_id, "district_id": self.street_of.get(street_id),
                "road_segment_id": None}

    def make_case(self, **fields):
        case = LightCase(**fields)
        case.pk = case.id = self.next_pk
        self.next_pk += 1
        return case

    def set_tracking(self, case, code):
        # The demo draws a random code (kept so the random stream is the demo's); ids give distinct codes here.
        case.tracking_code = tracking_code(case.pk)

    def chunk(self, seed, index, first_pk, items):
        """Run the cases ``items`` = [(number, at, finish)]; returns (cases, events, links, stats)."""
        self.rng = rng = random.Random(f"generate-{seed}-{index}")
        self.events, self.links, self.stats = [], [], Counter()
        self.recurrences = _Recurrences()  # a chunk's cases see the closures of the same chunk only
        self.next_pk = first_pk
        cases, shapes, events = [], self.shapes, self.events
        for item in items:
            state, first = rng.getstate(), len(events)
            case = self.run_case(*item)
            cases.append(case)
            shape = (case.handle_limit_value, case.handle_limit_unit, *(e.action for e in events[first:]))
            if shape not in shapes:
                self.check_shape(item, state, case, events[first:])
                shapes.add(shape)
        return cases, self.events, self.links, self.stats

    def check_shape(self, item, state, case, events):
        """Replay one case through ``engine.apply`` and ``clock`` from the same random state; every value of
        the case and its events must be the same as the fast run's (HistoryError otherwise)."""
        saved = self.rng, self.events, self.links, self.stats, self.next_pk
        self.rng = random.Random()
        self.rng.setstate(state)
        self.events, self.links, self.stats, self.next_pk, self.fast = [], [], Counter(), case.pk, False
        self.keep_closures = False
        try:
            reference = self.run_case(*item)
            ref_events = self.events
        finally:
            self.rng, self.events, self.links, self.stats, self.next_pk = saved
            self.fast = self.keep_closures = True
        ours = [case_values(case)] + [event_values(e) for e in events]
        theirs = [case_values(reference)] + [event_values(e) for e in ref_events]
        if [[_exact(v) for v in row] for row in ours] != [[_exact(v) for v in row] for row in theirs]:
            raise HistoryError(f"{case.number}: the fast replay differs from engine.apply "
                               f"({' → '.join(e.action for e in events)})")


def _exact(value):
    """A value compared with its type and, for times, its offset (== alone equates instants)."""
    return (type(value), value.isoformat()) if isinstance(value, datetime) else (type(value), value)


# --- rows ------------------------------------------------------------------------------------------

def _copy_text(value):
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, default=str)
    elif not isinstance(value, str):
        return str(value)
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def case_values(case):
    return [getattr(case, f.attname) for f in _CASE_FIELDS]


def event_values(e):
    return [e.case.pk, e.seq, e.action, e.from_state, e.to_state, e.at, e.actor_user_id, e.actor_person_id, e.role,
            e.unit_id, e.note, e.reason_code, e.data, e.deadline, e.stage, e.public, e.prev_hash, e.hash]


assert [f.attname for f in _EVENT_FIELDS] == ["case_id", "seq", "action", "from_state", "to_state", "at", "actor_user_id",
                                               "actor_person_id", "role", "unit_id", "note", "reason_code", "data",
                                               "deadline", "stage", "public", "prev_hash", "hash"], "CaseEvent changed"


def rows_copy(cases, events, links):
    """The chunk as COPY text (bytes) for cases, events and case-unit links."""
    def text(rows):
        return "".join("\t".join(_copy_text(v) for v in r) + "\n" for r in rows).encode("utf-8")

    return (text(case_values(c) for c in cases), text(event_values(e) for e in events),
            text((c.pk, u.pk) for c, u in _unique_links(links)))


def rows_tuples(cases, events, links, connection):
    """The chunk as parameter tuples for executemany, each value prepared as the model field would."""
    def prep(fields, values):
        return tuple(f.get_db_prep_save(v, connection) if _needs_prep(f) else v for f, v in zip(fields, values))

    return ([prep(_CASE_FIELDS, case_values(c)) for c in cases], [prep(_EVENT_FIELDS, event_values(e)) for e in events],
            [(c.pk, u.pk) for c, u in _unique_links(links)])


# --- fast rows: the same text and values as rows_copy / rows_tuples (tests compare them), built per row
# with one join instead of a function call and a type test per value.

_ESC = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_CASE_ATTNAMES = [f.attname for f in _CASE_FIELDS]
_COPY_JSON = json.JSONEncoder(ensure_ascii=False, default=str).encode  # as _copy_text: json.dumps(..., ensure_ascii=False, default=str)
_SQLITE_JSON = json.JSONEncoder().encode  # as JSONField on SQLite: json.dumps(value)


def _ct(value):
    """``_copy_text`` with the common types first."""
    tp = type(value)
    if value is None:
        return "\\N"
    if tp is str:
        return value.translate(_ESC)
    if tp is int:
        return str(value)
    if tp is bool:
        return "t" if value else "f"
    if tp is datetime:
        return value.isoformat()
    return _copy_text(value)


def _cid(value):
    return "\\N" if value is None else str(value)


def _cdt(value):
    return "\\N" if value is None else value.isoformat()


def event_copy_line(e):
    """One event as a line of COPY text."""
    return "\t".join((
        str(e.case.pk), str(e.seq), e.action.translate(_ESC), e.from_state.translate(_ESC), e.to_state.translate(_ESC),
        e.at.isoformat(), _cid(e.actor_user_id), _cid(e.actor_person_id), e.role.translate(_ESC), _cid(e.unit_id),
        e.note.translate(_ESC), e.reason_code.translate(_ESC),
        (e.data_json or _COPY_JSON(e.data)).translate(_ESC), _cdt(e.deadline), e.stage.translate(_ESC),
        "t" if e.public else "f", e.prev_hash, e.hash)) + "\n"


def case_copy_line(case):
    d = case.__dict__
    return "\t".join([_ct(d[a]) for a in _CASE_ATTNAMES]) + "\n"


def fast_rows_copy(cases, events, links):
    """``rows_copy``, faster."""
    return ("".join([case_copy_line(c) for c in cases]).encode("utf-8"),
            "".join([event_copy_line(e) for e in events]).encode("utf-8"),
            "".join([f"{c.pk}\t{u.pk}\n" for c, u in _unique_links(links)]).encode("utf-8"))


def _sqlite_dt(value):
    """SQLite's stored form of an aware datetime (Django's ``adapt_datetimefield_value``: naive UTC, str())."""
    return None if value is None else str(value.astimezone(_UTC).replace(tzinfo=None))


def event_tuple(e):
    """One event as executemany parameters for SQLite."""
    return (e.case.pk, e.seq, e.action, e.from_state, e.to_state, _sqlite_dt(e.at), e.actor_user_id, e.actor_person_id,
            e.role, e.unit_id, e.note, e.reason_code, e.data_json or _SQLITE_JSON(e.data), _sqlite_dt(e.deadline), e.stage, e.public,
            e.prev_hash, e.hash)


def fast_rows_tuples(cases, events, links, connection):
    """``rows_tuples`` for SQLite, faster (other databases take the reference path)."""
    if connection.vendor != "sqlite":
        return rows_tuples(cases, events, links, connection)

    preps, memo = [], {}

    def decimal(field):
        def prep(value):
            if value not in memo:
                memo[value] = field.get_db_prep_save(value, connection)
            return memo[value]
        return prep

    for f in _CASE_FIELDS:
        if isinstance(f, models.DateTimeField):
            preps.append((f.attname, _sqlite_dt))
        elif isinstance(f, models.DecimalField):
            preps.append((f.attname, decimal(f)))
        elif isinstance(f, models.JSONField):
            preps.append((f.attname, lambda v, f=f: f.get_db_prep_save(v, connection)))
        else:
            preps.append((f.attname, None))
    case_rows = []
    for c in cases:
        d = c.__dict__
        case_rows.append(tuple([d[a] if p is None else p(d[a]) for a, p in preps]))
    return case_rows, [event_tuple(e) for e in events], [(c.pk, u.pk) for c, u in _unique_links(links)]


def _needs_prep(field, _cache={}):  # noqa: B006 - per-process memo
    if field not in _cache:

        _cache[field] = isinstance(field, (models.DateTimeField, models.JSONField, models.DecimalField, models.BooleanField))
    return _cache[field]


def _unique_links(links):
    seen = set()
    for c, u in links:
        if (c.pk, u.pk) not in seen:
            seen.add((c.pk, u.pk))
            yield c, u


CASE_COLUMNS = [f.column for f in _CASE_FIELDS]
EVENT_COLUMNS = [f.column for f in _EVENT_FIELDS]
LINK_COLUMNS = ["case_id", "unit_id"]
