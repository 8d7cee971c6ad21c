"""GET requests and requests/{id} from the case rows alone (快速读取): the document ``RequestSerializer`` gives, at a
fraction of its cost.

The ORM path joined eight tables per read (class, unit grid, unit, three regions, the Open311 record), which
PostgreSQL spent tens of milliseconds planning, and built eight model instances and ~39 translations per case.
Here a case is one row of its own table (plus its Open311 record's media URL, a left join on a unique key), the
names are looked up in per-process (per-city) maps keyed by id (class → service name, unit → agency, region → name, unit
grid → code), and the words of a state are translated once per state and language. A page costs a fixed number
of queries whatever its length; the single read runs statements compiled once per connection (as
``cases/fastload.py`` does for the transition path).

The name maps follow ORM saves and deletes of the classes, units, regions and grids at once (signals, again at
commit) and anything else (bulk writes) within settings.URBANGRID_OPEN311_SERVICES_TTL seconds, as the cached
services document does. ``tests/open311/test_open311_fastread.py`` holds this reader equal to the ORM one.
"""
import functools
import operator
import threading
import time
from collections import namedtuple
from datetime import datetime
from datetime import timezone as dt_timezone

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.db.models.signals import post_delete, post_save
from django.utils import translation
from django.utils.translation import gettext

from urbangrid.cases.models import Case, CaseEvent, CaseUnit
from urbangrid.cases.states import PLAIN, TERMINAL, State
from urbangrid.catalog.models import CatalogClass
from urbangrid.catalog.responsibility import responsible_units_cached
from urbangrid.core import prepared
from urbangrid.core.tenancy import PerCity
from urbangrid.grids.models import Region, UnitGrid
from urbangrid.org.models import Unit

from ..timeline import PUBLIC_STEPS, public_note
from .render import to_json
from .serializers import note_out

# The columns the document needs, in this order.
COLUMNS = ("pk", "number", "state", "catalog_class_id", "catalog_version", "kind", "class_code", "description",
           "current_unit_id", "lon", "lat", "address", "district_id", "street_id", "community_id", "unit_grid_id",
           "created_at", "updated_at", "closed_at", "handle_deadline", "open311_request__media_url", "chain_hash")
(PK, NUMBER, STATE, CLASS, VERSION, KIND, CODE, DESCRIPTION, UNIT, LON, LAT, ADDRESS, DISTRICT, STREET, COMMUNITY,
 GRID, CREATED, UPDATED, CLOSED, DEADLINE, MEDIA, CHAIN) = range(len(COLUMNS))

Event = namedtuple("Event", "action to_state at data")


def rows_of(queryset):
    """The case rows of a (filtered, ordered, sliced) ``Case`` queryset, for ``serialize``."""
    return list(queryset.values_list(*COLUMNS))


def row_by_number(number):
    """One case's row by its number, or None (a statement compiled once per connection)."""
    rows = prepared.rows("case", lambda: Case.objects.filter(number=_NUMBER).values_list(*COLUMNS), {_NUMBER: str(number)},
                     binary=True)
    return rows[0] if rows else None


def page_rows(start, end, page, size, codes=(), status=None, using="default"):
    """The rows of a GET requests page, newest first: created in [start, end], of the service codes ``codes``
    ((catalogue version, kind, class code) each; none: every service), ``status`` "open", "closed" or None (both),
    page ``page`` of ``size``. The statement is compiled once per connection and shape (number of codes, status,
    page, size) with placeholder values, as ``rows_of(...)`` of the same queryset would read it."""
    slots = [tuple(f"\x1fopen311-code-{i}-{part}\x1f" for part in ("version", "kind", "code")) for i in range(len(codes))]

    def build():
        qs = Case.objects.filter(created_at__gte=_START, created_at__lte=_END)
        if slots:
            qs = qs.filter(functools.reduce(operator.or_, (Q(catalog_version=v, kind=k, class_code=c) for v, k, c in slots)))
        if status == "open":
            qs = qs.exclude(state__in=TERMINAL)
        elif status == "closed":
            qs = qs.filter(state__in=TERMINAL)
        qs = qs.order_by("-created_at", "-pk")
        if connections[using].vendor == "postgresql":
            # the page's ids first, then their rows: PostgreSQL otherwise sorts every wide row up to the page's
            # end (with the Open311 record joined), 2.4 ms of its CPU for page 5 against 1.5
            qs = Case.objects.filter(pk__in=Subquery(qs.values("pk")[(page - 1) * size: page * size])).order_by(
                "-created_at", "-pk")
        else:
            qs = qs[(page - 1) * size: page * size]
        return qs.values_list(*COLUMNS)

    values = {_START: start, _END: end}
    for names_, code in zip(slots, codes):
        values.update(zip(names_, code))
    return prepared.rows(("page", len(codes), status, page, size), build, values, using, binary=True)


# --- names by id, kept per process ----------------------------------------------------------------

# kind: (model, the column of its name, the column of a name given first when not empty)
_SOURCES = {
    "class": (CatalogClass, "name", "plain_name"),  # a service's name is its plain name, else its name
    "unit": (Unit, "name", None),
    "region": (Region, "name", None),
    "grid": (UnitGrid, "code", None),
}
_maps = PerCity(lambda: {kind: {} for kind in _SOURCES})  # each city its own ids (core/tenancy.py)
_lock = threading.Lock()
_born = [0.0]
_generation = [0]  # +1 per clearing: names read before a clearing are not kept after it
_MAX = 200_000
_UNKNOWN = object()


def invalidate():
    with _lock:
        for maps in _maps.all():  # every city's: a signal does not say which city's row changed
            for known in maps.values():
                known.clear()
        for kept in _docs.all():
            kept[None].clear()
        _born[0] = time.monotonic()
        _generation[0] += 1


def _changed(sender, using=None, **kwargs):
    invalidate()
    transaction.on_commit(invalidate, using=using)  # another thread may have read the old row meanwhile


def _fresh():
    """Clear the maps (and with them the kept documents) once they are older than the TTL."""
    if time.monotonic() - _born[0] > float(settings.URBANGRID_OPEN311_SERVICES_TTL):
        invalidate()


def names(wanted, using="default"):
    """{kind: {id: name}} for ``wanted`` = {kind: ids}: those not known yet read in one query (UNION ALL of the
    four tables by primary key), none when all are known."""
    _fresh()
    got, missing = {}, {}
    for kind, ids in wanted.items():
        known = _maps[kind]
        got[kind] = {i: known.get(i, _UNKNOWN) for i in ids}  # a copy: another thread may clear the map meanwhile
        missing[kind] = [i for i, name in got[kind].items() if name is _UNKNOWN]
    if not any(missing.values()):
        return got
    generation = _generation[0]
    conn = connections[using]
    qn = conn.ops.quote_name
    parts, params = [], []
    for n, (kind, ids) in enumerate(missing.items()):
        if not ids:
            continue
        model, name, first = _SOURCES[kind]
        meta = model._meta
        name, first = qn(meta.get_field(name).column), qn(meta.get_field(first or name).column)
        parts.append(f"SELECT {n}, {qn(meta.pk.column)}, {name}, {first} "
                     f"FROM {qn(meta.db_table)} WHERE {qn(meta.pk.column)} IN ({', '.join(['%s'] * len(ids))})")
        params += ids
    kinds = list(missing)
    found = {kind: {} for kind in kinds}
    with conn.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for n, pk, name, first in cursor.fetchall():
            found[kinds[n]][pk] = first or name
    with _lock:
        if generation == _generation[0] and sum(map(len, _maps.values())) + sum(map(len, found.values())) <= _MAX:
            for kind, names_ in found.items():
                _maps[kind].update(names_)
    for kind, names_ in found.items():
        got[kind].update(names_)
    return got


for _model in (CatalogClass, Unit, Region, UnitGrid):
    post_save.connect(_changed, sender=_model, dispatch_uid=f"open311-names-{_model.__name__}-save")
    post_delete.connect(_changed, sender=_model, dispatch_uid=f"open311-names-{_model.__name__}-delete")


# --- a state's words, once per state and language -------------------------------------------------

_STATE_DISPLAY = dict(State.choices)
_words = {}


def _state_words(state, language):
    """(status, plain words, state display) of a state in the active language (``language``)."""
    key = (language, state)
    hit = _words.get(key)
    if hit is None:
        display = str(_STATE_DISPLAY.get(state, state))
        plain = PLAIN.get(state)
        hit = _words[key] = ("closed" if state in TERMINAL else "open", str(plain) if plain is not None else display, display)
    return hit


# --- statements compiled once per connection ------------------------------------------------------

_NUMBER = "\x1fopen311-number\x1f"
_CASE_ID = -7_301_311_001
_START, _END = datetime(1901, 1, 1, tzinfo=dt_timezone.utc), datetime(1901, 1, 2, tzinfo=dt_timezone.utc)


# --- events ---------------------------------------------------------------------------------------

def _last_run(ids, numbers):
    """Public events of the cases in the state they left them in, after the last one that left another state:
    the only events ``status_note`` reads (its backwards walk stops at the first event to another state).
    The cases are named twice, by id on the events and by number on the cases: PostgreSQL otherwise hashes the
    whole case table to join it (37 ms at 30,000 cases, against 1 ms through the number's index)."""
    other_later = CaseEvent.objects.filter(case_id=OuterRef("case_id"), public=True, seq__gt=OuterRef("seq")).filter(
        ~Q(to_state=OuterRef("case__state")))
    return (CaseEvent.objects.filter(case_id__in=ids, case__number__in=numbers, public=True, to_state=F("case__state"))
            .filter(~Exists(other_later)).order_by("case_id", "seq").values_list("case_id", "to_state", "data"))


def _all_public(ids, numbers):
    return (CaseEvent.objects.filter(case_id__in=ids, public=True).order_by("case_id", "seq")
            .values_list("case_id", "action", "to_state", "at", "data"))


def _events(ids, numbers, extensions):
    """{case id: [Event]} in order: every public event with ``extensions``, else those ``status_note`` reads.
    One statement per number of cases, compiled once per connection."""
    shape = _all_public if extensions else _last_run
    id_slots = [_CASE_ID - i for i in range(len(ids))]
    number_slots = [f"\x1fopen311-number-{i}\x1f" for i in range(len(ids))]
    values = dict(zip(id_slots, ids))
    if not extensions:  # the flow log names the cases by id only
        values.update(zip(number_slots, numbers))
    rows = prepared.rows(("events+" if extensions else "events", len(ids)), lambda: shape(id_slots, number_slots), values)
    out = {}
    if extensions:
        for case_id, action, to_state, at, data in rows:
            out.setdefault(case_id, []).append(Event(action, to_state, at, data))
    else:
        for case_id, to_state, data in rows:
            out.setdefault(case_id, []).append(Event(None, to_state, None, data))
    return out


def _last_units(ids):
    """{case id: unit id} of the last unit each case was dispatched to."""
    if len(ids) == 1:
        rows = prepared.rows("links", lambda: CaseUnit.objects.filter(case_id=_CASE_ID).order_by("pk").values_list(
            "case_id", "unit_id"), {_CASE_ID: ids[0]})
    else:
        rows = CaseUnit.objects.filter(case_id__in=ids).order_by("pk").values_list("case_id", "unit_id")
    return dict((case_id, unit_id) for case_id, unit_id in rows)


# --- the document ---------------------------------------------------------------------------------

def serialize(rows, extensions=False):
    """The GeoReport v2 requests of case rows (``rows_of``, ``row_by_number``, ``page_rows``), as
    ``RequestSerializer.many``.

    A case's document is kept per process (per city) under everything it is made of: its row (which carries the
    case's ``chain_hash``, changed by every event appended to its record, hence by every state change, public
    answer or dispatch), the language, ``extensions``, the generation of the name maps (cleared on any change of a
    class, unit, region or grid, and every URBANGRID_OPEN311_SERVICES_TTL seconds) and, for a case without a
    unit yet, the unit the responsibility list names for it now. A document asked again with all of these equal is
    the same document; only the others are made (their events read), so a client polling the newest pages costs
    one query per page while nothing changes."""
    # each caller its own dicts (a shallow copy; the lists of notes are not changed by anyone)
    return [dict(entry[0]) for entry in _kept(rows, extensions)]


def serialize_json(rows, extensions=False):
    """``to_json(serialize(rows, extensions))``, each document's JSON kept with it (a page of 100 spends more on
    writing 300 dates and the JSON than on reading its rows)."""
    parts = []
    for entry in _kept(rows, extensions):
        if entry[1] is None:
            entry[1] = to_json(entry[0])
        parts.append(entry[1])
    return "[" + ", ".join(parts) + "]"  # json.dumps's own separator


def _kept(rows, extensions):
    """[[document, its JSON or None]] of ``rows``: kept ones, the others made and kept."""
    if not rows:
        return []
    language = translation.get_language()
    _fresh()
    generation = _generation[0]
    unassigned = [(r[CLASS], r[LON], r[LAT]) for r in rows if r[UNIT] is None and r[STATE] not in TERMINAL
                  and r[LON] is not None]
    resolved = responsible_units_cached(unassigned) if unassigned else {}  # kept with resolve()'s answers
    kept = _docs[None]
    out, keys, missing = [None] * len(rows), [None] * len(rows), []
    for i, r in enumerate(rows):
        unit = resolved.get((r[CLASS], r[LON], r[LAT])) if r[UNIT] is None else None
        keys[i] = key = (tuple(r), language, extensions, generation, unit.pk if unit is not None else None)
        entry = kept.get(key)
        if entry is None:
            missing.append(i)
        else:
            out[i] = entry
    if missing:
        made = _documents([rows[i] for i in missing], extensions, language, resolved)
        if len(kept) + len(made) > _MAX_DOCS:
            kept.clear()
        for i, doc in zip(missing, made):
            out[i] = kept[keys[i]] = [doc, None]
    return out


_docs = PerCity(lambda: {None: {}})
_MAX_DOCS = 20_000  # about 1.5 kB each


def _documents(rows, extensions, language, resolved):
    """The documents of ``rows`` (see ``serialize``), made from their events and names."""
    ids = [r[PK] for r in rows]
    events = _events(ids, [r[NUMBER] for r in rows], extensions)
    last_unit = {}
    ended = [r[PK] for r in rows if r[UNIT] is None and r[STATE] in TERMINAL]
    if ended:
        last_unit = _last_units(ended)
    # every row's regions, not only those of the rows without an address: the queries do not depend on the rows
    found = names({
        "class": {r[CLASS] for r in rows},
        "unit": {r[UNIT] for r in rows if r[UNIT] is not None} | set(last_unit.values()),
        "region": {i for r in rows for i in (r[DISTRICT], r[STREET], r[COMMUNITY]) if i is not None},
        "grid": {r[GRID] for r in rows if r[GRID] is not None}})
    classes, units, regions, grids = found["class"], found["unit"], found["region"], found["grid"]
    with_note = None
    out = []
    for r in rows:
        state = r[STATE]
        status, plain, display = _state_words(state, language)
        case_events = events.get(r[PK], ())
        notes = plain
        for e in reversed(case_events):
            if e.to_state != state:
                break
            note = public_note(e.data)
            if note:
                with_note = with_note or gettext("%(status)s：%(note)s")
                notes = with_note % {"status": plain, "note": note}
                break
        if r[UNIT] is not None:
            agency = units[r[UNIT]]
        elif r[PK] in last_unit:
            agency = units[last_unit[r[PK]]]
        elif state in TERMINAL or r[LON] is None:
            agency = None
        else:
            unit = resolved.get((r[CLASS], r[LON], r[LAT]))
            agency = unit.name if unit is not None else None
        address = r[ADDRESS] or " ".join(regions[i] for i in (r[DISTRICT], r[STREET], r[COMMUNITY]) if i is not None)
        doc = {
            "service_request_id": r[NUMBER],
            "status": status,
            "status_notes": notes,
            "service_name": classes[r[CLASS]],
            "service_code": f"{r[VERSION]}:{r[KIND]}:{r[CODE]}",
            "description": r[DESCRIPTION],
            "agency_responsible": agency,
            "service_notice": display,
            "requested_datetime": r[CREATED],
            "updated_datetime": (r[CLOSED] or r[UPDATED]) if status == "closed" else r[UPDATED],
            "expected_datetime": r[DEADLINE],
            "address": address,
            "address_id": grids[r[GRID]] if r[GRID] is not None else None,
            "zipcode": None,
            "lat": r[LAT],
            "long": r[LON],
            "media_url": r[MEDIA] or None,
        }
        if extensions:
            doc["notes"] = [note_out(e) for e in case_events if e.action in PUBLIC_STEPS]
        out.append(doc)
    return out
