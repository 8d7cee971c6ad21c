"""Case histories for the megacity generator, produced by the workflow's own rules, written in bulk.

Each case is driven by the demo history's loop (``core.demo.history._Run.run_case``): every step is checked
against the workflow table, the actor's permission and scope, and ``cases.engine.apply`` moves the clocks,
counters and on-time flags, exactly as for a live request. Two things differ from the demo, for speed:
the case and its events are light in-memory objects with the same attributes as the models (a Django
model instance costs more to build than the rest of a step), and the rows go to the database in bulk —
PostgreSQL's COPY, SQLite's executemany — chunk by chunk, from worker processes that generate while the
parent writes. ``_light_event`` builds the same event as ``services._event`` (a test compares them).
"""
import json
import random
from collections import Counter
from datetime import datetime

from urbangrid.cases.chain import seal
from urbangrid.cases.models import Case, CaseEvent
from urbangrid.cases.workflow import TABLE
from urbangrid.core.demo.history import HistoryError, _Run, _tracking
from urbangrid.cases import engine
from urbangrid.cases.services import _in_scope
from urbangrid.cases.states import NEEDS_VERIFICATION, Source

CHUNK = 5000  # cases per unit of work (one worker task, one write)
_CASE_FIELDS = [f for f in Case._meta.concrete_fields]
_EVENT_FIELDS = [f for f in CaseEvent._meta.concrete_fields if not f.primary_key]  # ids from the sequence
_CASE_FKS = {f.name for f in _CASE_FIELDS if f.is_relation}
_CASE_DEFAULTS = {f.attname: (None if f.has_default() and callable(f.default) else f.get_default()) for f in _CASE_FIELDS}
_TRACKING = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class LightCase:
    """A case in memory with the model's attributes: setting ``unit`` sets ``unit_id`` as a model would."""

    def __init__(self, **kw):
        self.__dict__.update(_CASE_DEFAULTS)
        for k, v in kw.items():
            setattr(self, k, v)

    def __setattr__(self, name, value):
        self.__dict__[name] = value
        if name in _CASE_FKS:
            self.__dict__[name + "_id"] = value.pk if value is not None else None


class LightEvent:
    __slots__ = ("case", "seq", "action", "from_state", "to_state", "at", "actor_user_id", "actor_person_id", "role",
                 "unit_id", "note", "reason_code", "data", "deadline", "stage", "public", "prev_hash", "hash")


def _light_event(case, t, actor, at, from_state, outcome, inputs, unit=None, public=True):
    """``services._event`` without the model instance (same fields, same values)."""
    data = dict(outcome.data)
    for key in ("confirmed", "satisfaction", "master", "district"):
        if key in inputs and inputs[key] not in (None, ""):
            data[key] = inputs[key]
    if "extra_time" in inputs:
        data["extra_time"] = [str(inputs["extra_time"][0]), inputs["extra_time"][1]]
    e = LightEvent()
    e.case, e.seq, e.action, e.from_state, e.to_state, e.at = case, case.version, t.action, from_state or "", case.state, at
    e.actor_user_id = actor.user.pk if getattr(actor.user, "pk", None) else None
    e.actor_person_id = actor.person.pk if actor.person is not None else None
    e.role = actor.role_for(t.permission) if t.permission else ""
    e.unit_id = unit.pk if unit is not None else None
    e.note = inputs.get("opinion") or inputs.get("reason") or ""
    e.reason_code = str(inputs.get("reason_code") or "")[:40]
    e.data, e.deadline, e.stage, e.public = data, case.stage_deadline, case.stage, public
    e.prev_hash = e.hash = ""
    return e


def tracking_code(pk):
    """A distinct 10-character code per case id: an affine bijection on 50 bits, written in base 32."""
    n = (pk * 0x2545F4914F6CD + 0x1B873593) % (1 << 50)
    return "".join(_TRACKING[(n >> (5 * i)) & 31] for i in range(10))


class GenRun(_Run):
    """The demo history's run with light objects; the checks and the engine are the same."""

    def __init__(self, seed, end):
        super().__init__(seed, end)
        self.scope_ok = {}
        # Warm every lazy relation a step may follow, so worker processes never query the database.
        for rules in self.resolver.rules.values():
            for rule in rules:
                _ = rule.unit.region and rule.unit.region.parent
        for unit in self.resolver.territorial.values():
            _ = unit.region and unit.region.parent
        for ug in self.grids:
            _ = ug.community

    def step(self, case, action, actor, at, **inputs):
        t = TABLE[action]
        if case.state not in t.sources:
            raise HistoryError(f"{case.number}: {action} not allowed from {case.state}")
        # The scope verdict depends only on the actor and these case attributes: cache it.
        key = (id(actor), action, case.source, case.responsibility_grid_id, case.district_centre_id, case.current_unit_id)
        ok = self.scope_ok.get(key)
        if ok is None:
            ok = self.scope_ok[key] = actor.can(t.permission) and _in_scope(actor, t, case)
        if not ok:
            raise HistoryError(f"{case.number}: {actor.person} may not {action}")
        from_state = case.state
        unit = inputs.pop("_unit", None)
        outcome = engine.apply(case, t, inputs, at, self.cal, self.ctx.limits)
        case.state = outcome.to_state
        case.version += 1
        case.updated_at = at
        event = _light_event(case, t, actor, at, from_state, outcome, inputs, unit=unit)
        self.events.append(event)
        if action != "report":
            seal(event, case)
        self.stats[action] += 1
        return case

    def new_case(self, number, at, finish=True):
        rng = self.rng
        cls = rng.choices(self.classes, self.class_weights)[0]
        ug = rng.choice(self.grids)
        lon = round(rng.uniform(ug.min_lon, ug.max_lon), 7)
        lat = round(rng.uniform(ug.min_lat, ug.max_lat), 7)
        source = rng.choices([s for s, _ in _sources()], [w for _, w in _sources()])[0]
        street_id = ug.community.parent_id
        case = LightCase(
            number=number, source=str(source), catalog_class=cls, class_code=cls.code, catalog_version=cls.version.code,
            kind=cls.kind, description=f"{cls.name}（巡查发现）" if source == Source.INSPECTOR else f"群众反映：{cls.name}",
            lon=lon, lat=lat, unit_grid_id=ug.pk, responsibility_grid_id=ug.responsibility_grid_id,
            community_id=ug.community_id, street_id=street_id, district_id=self.street_of.get(street_id),
            needs_verification=source in NEEDS_VERIFICATION, created_at=at, updated_at=at, state=None, version=0,
        )
        case.pk = case.id = self.next_pk
        self.next_pk += 1
        case.tracking_code = tracking_code(case.pk)
        _tracking(rng)  # the demo draws a random code here: keep the random stream the same as the demo's
        inspector = self.cast.inspector_of[ug.responsibility_grid_id]
        reporter = inspector if source == Source.INSPECTOR else rng.choice(self.cast.intake)
        case.reporter = reporter.person
        case.self_handled = finish and source == Source.INSPECTOR and cls.kind == "event" and rng.random() < 0.05
        self.step(case, "report", reporter, at)
        self.events[-1].data.update({"source": source, "self_handled": case.self_handled})
        seal(self.events[-1], case)
        return case, cls, ug, inspector

    def chunk(self, seed, index, first_pk, items):
        """Run the cases ``items`` = [(number, at, finish)]; returns (cases, events, links, stats)."""
        self.rng = random.Random(f"generate-{seed}-{index}")
        self.events, self.links, self.stats = [], [], Counter()
        self.next_pk = first_pk
        cases = [self.run_case(number, at, finish) for number, at, finish in items]
        return cases, self.events, self.links, self.stats


def _sources():
    from urbangrid.core.demo.history import SOURCES

    return SOURCES


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


def _needs_prep(field, _cache={}):  # noqa: B006 - per-process memo
    if field not in _cache:
        from django.db import models

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
