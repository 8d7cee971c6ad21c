"""The one step of the case loop: given a case (in memory), a table row, its cleaned inputs, the actor and
the time, ``apply`` moves the state, the clocks, the counters and the row's effects, and builds the event.
No database access: the same function writes live requests (``services.transition``), the demo history and
the megacity generator, and the tests drive it directly. Callers check who may act and save the result;
none of them sets case fields or builds event data itself.
"""
from dataclasses import dataclass, field, replace
from datetime import timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal

from urbangrid.worktime import clock as wt

from .effects import HandOver
from .states import Stage
from .workflow import SCOPE_ROLES, TABLE, Branch, clock_started, target_of

# Stage limits when no setting exists (worktime.TimeLimitSetting has the configurable ones).
FALLBACK_HANDLE = (Decimal("1"), wt.WORKING_DAYS)


@dataclass
class Limits:
    """Stage time limits: {stage: (value, unit, yellow_share)}, the rework policy and the 处置 yellow share (the
    处置 limit itself is the responsibility list's; ``worktime.TimeLimitSetting``'s 处置 row holds the share)."""

    stages: dict
    rework_keeps_first_deadline: bool = False
    handle_yellow_share: Decimal = Decimal("0.2")

    def of(self, stage):
        return self.stages.get(stage, (Decimal("1"), wt.WORKING_HOURS, Decimal("0.2")))

    def yellow_share(self, stage):
        return self.handle_yellow_share if stage == Stage.HANDLE else self.of(stage)[2]

    def natural(self, case):
        """Whether the case's running clock counts natural time (自然时), so no calendar day moves it."""
        unit = case.handle_limit_unit if case.stage == Stage.HANDLE else self.of(case.stage)[1]
        return unit == wt.CALENDAR_HOURS


@dataclass
class Outcome:
    """What a transition did, before it is saved: ``event`` holds the CaseEvent's fields (by attname)."""

    to_state: str
    stopped: list = field(default_factory=list)  # [{"stage", "started", "deadline", "on_time"}]
    data: dict = field(default_factory=dict)
    unit: object = None  # the unit the event concerns
    event: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Assignment:
    """What the responsibility list gives a unit taking a case: the rule and its handling limit and urgency
    (``rule_id`` None and the fallback limit when no rule covers the class there: 属地兜底)."""

    rule_id: int | None
    limit_value: Decimal
    limit_unit: str
    urgency: str = ""

    @classmethod
    def of(cls, rule_id, limit_value, limit_unit, urgency=""):
        if limit_value is None:
            return cls(None, FALLBACK_HANDLE[0], FALLBACK_HANDLE[1], "")
        return cls(rule_id, Decimal(limit_value), limit_unit, urgency or "")


def role_of(actor, t):
    """The post the actor acts in for row ``t`` (recorded on the event)."""

    return actor.role_for(t.permission, SCOPE_ROLES.get(t.scope, ())) if t.permission else ""


def _start_clock(case, stage, at, calendar, limits):
    if stage == Stage.HANDLE:
        value = case.handle_limit_value if case.handle_limit_value is not None else FALLBACK_HANDLE[0]
        unit = case.handle_limit_unit or FALLBACK_HANDLE[1]
    else:
        value, unit, _share = limits.of(stage)
    due = calendar.deadline(at, value, unit)
    case.stage = stage
    case.stage_started_at = at
    case.stage_deadline = due
    case.stage_paused_at = None
    natural = unit == wt.CALENDAR_HOURS
    case.stage_budget_seconds = ((due - at) if natural else calendar.working_timedelta(at, due)).total_seconds()
    _set_yellow(case, at, calendar, limits.yellow_share(stage))
    if stage == Stage.HANDLE:
        case.handle_deadline = due
        if case.handle_first_deadline is None:
            case.handle_first_deadline = due


def _set_yellow(case, at, calendar, share):
    """The instant the remaining time drops below ``share`` of the whole budget (the yellow light). A clock
    already past its deadline (an extension or a resume that still ends before now) turned yellow at the
    deadline at the latest: never after it."""
    remaining = calendar.working_timedelta(at, case.stage_deadline)
    before_yellow = remaining - timedelta(seconds=case.stage_budget_seconds) * float(share)
    case.stage_yellow_at = (calendar.add_working_time(at, before_yellow) if before_yellow > timedelta()
                            else min(at, case.stage_deadline))


def _iso(value):
    """An instant as recorded in event data: UTC, whatever zone the caller's datetime carries (one text per
    instant, so a replayed step records exactly what the live one did)."""
    return value.astimezone(dt_timezone.utc).isoformat() if value is not None else None


def _stop_clock(case, at):
    """Stop the running clock; returns its record with on-time (a paused clock is judged at its pause)."""
    if not case.stage:
        return None
    judged_at = case.stage_paused_at or at
    on_time = case.stage_deadline is None or judged_at <= case.stage_deadline
    record = {"stage": case.stage, "started": _iso(case.stage_started_at), "deadline": _iso(case.stage_deadline),
              "on_time": on_time}
    if case.stage == Stage.HANDLE:
        case.handle_overdue = case.handle_overdue or not on_time
    if not on_time:
        case.is_overdue = True
    case.stage = ""
    case.stage_started_at = case.stage_deadline = case.stage_paused_at = case.stage_yellow_at = None
    case.stage_budget_seconds = 0
    return record


def apply(case, t, inputs, at, calendar, limits, actor=None, role=None, public=True):
    """Carry out table row ``t`` on ``case`` in memory (no saving, no checks of who) and return the ``Outcome``
    with the event's fields. ``inputs`` are the cleaned inputs (objects, not codes: ``unit_obj``,
    ``district_obj``, ``person_obj``, ``master_obj``, ``assignment``). ``calendar`` is a
    ``worktime.clock.Calendar`` (or the generator's axis): its methods do the working-time arithmetic.
    ``role`` overrides the post looked up for ``actor`` (the generator caches it)."""
    from_state = case.state
    out = Outcome(to_state=target_of(t, inputs) or case.state)
    data = out.data
    unit = None
    for effect in t.effects:  # before the clocks: a unit taking the case brings its handling limit
        if not effect.after_clocks:
            got = effect.apply(case, inputs, at)
            if got is not None:
                unit = got
            data.update(effect.record(case, inputs))
    if t.concerns == "current":
        unit = case.current_unit
    _clocks(case, t, inputs, at, calendar, limits, out)
    for effect in t.effects:  # after them: the archive type follows the overdue flags the clocks leave
        if effect.after_clocks:
            effect.apply(case, inputs, at)
    for counter in t.increments:
        setattr(case, counter, getattr(case, counter) + 1)
    for key in t.records:
        value = inputs.get(key)
        if value is None or value == "":
            continue
        data[key] = [str(value[0]), value[1]] if key == "extra_time" else value
    if out.stopped:
        data["stopped"] = out.stopped
    case.state = out.to_state
    case.version += 1
    case.updated_at = at
    out.unit = unit
    user = getattr(actor, "user", None)
    person = getattr(actor, "person", None)
    out.event = {
        "seq": case.version, "action": t.action, "from_state": from_state or "", "to_state": case.state, "at": at,
        "actor_user_id": user.pk if getattr(user, "pk", None) else None,
        "actor_person_id": person.pk if person is not None else None,
        "role": role if role is not None else (role_of(actor, t) if actor is not None else ""),
        "unit_id": unit.pk if unit is not None else None,
        "note": inputs.get("opinion") or inputs.get("reason") or "", "reason_code": str(inputs.get("reason_code") or "")[:40],
        "data": data, "deadline": case.stage_deadline, "stage": case.stage, "public": public,
    }
    return out


def _clocks(case, t, inputs, at, calendar, limits, out):
    if t.stops and case.stage in t.stops:
        out.stopped.append(_stop_clock(case, at))
    special = t.clock
    if special == "extend":
        extra_value, extra_unit = inputs["extra_time"]
        due = calendar.deadline(case.stage_deadline, extra_value, extra_unit)
        out.data["extended_from"] = _iso(case.stage_deadline)
        case.stage_budget_seconds += calendar.working_timedelta(case.stage_deadline, due).total_seconds()
        case.stage_deadline = case.handle_deadline = due
        _set_yellow(case, at, calendar, limits.handle_yellow_share)
    elif special == "pause":
        case.stage_paused_at = at
    elif special == "resume":
        due = calendar.resume_deadline(case.stage_deadline, case.stage_paused_at, at)
        out.data["paused_from"] = _iso(case.stage_paused_at)
        case.stage_deadline = case.handle_deadline = due
        case.stage_paused_at = None
        _set_yellow(case, at, calendar, limits.handle_yellow_share)
    elif special == "recalendar":
        clock = inputs["clock"]
        out.data["deadline_from"] = _iso(case.stage_deadline)
        for name, value in clock.items():
            setattr(case, name, value)
    elif special == "restart_handle":
        first = case.handle_first_deadline
        _start_clock(case, Stage.HANDLE, at, calendar, limits)
        if limits.rework_keeps_first_deadline and first:
            case.stage_deadline = case.handle_deadline = first
    started = clock_started(t, inputs)
    if started:
        _start_clock(case, started, at, calendar, limits)


# --- the running clock recomputed on another calendar -----------------------------------------------

CLOCK_FIELDS = ("stage_deadline", "stage_budget_seconds", "stage_yellow_at", "handle_deadline", "handle_first_deadline")


@dataclass
class _Shadow:
    """The clock fields of a case, for ``recompute_clock`` to run the engine's clock steps on."""

    stage: str = ""
    stage_started_at: object = None
    stage_deadline: object = None
    stage_paused_at: object = None
    stage_budget_seconds: float = 0
    stage_yellow_at: object = None
    handle_deadline: object = None
    handle_first_deadline: object = None
    handle_limit_value: object = None
    handle_limit_unit: str = ""
    is_overdue: bool = False
    handle_overdue: bool = False


def _starts_clock(t, e):
    """Whether event ``e`` (of row ``t``) started the clock it records (``e.stage``)."""
    return bool(e.stage) and (t.starts is not None or t.clock == "restart_handle")


def _clock_inputs(t, e):
    """The inputs the engine's clock step reads, taken back from the event: the branch of the clock started (the
    one that leads to the stage the event records) and the extra time of an extension."""
    inputs = {}
    if isinstance(t.starts, Branch):
        inputs[t.starts.input] = next((k for k, v in t.starts.targets.items() if (v or "") == (e.stage or "")), False)
    if e.data.get("extra_time"):
        value, unit = e.data["extra_time"]
        inputs["extra_time"] = (Decimal(str(value)), unit)
    return inputs


def recompute_clock(case, events, calendar, limits, now):
    """The running clock of ``case`` as the engine would have left it had ``calendar`` been in force from the start:
    the engine's own clock steps re-run from the events (``at``, the limits the dispatches recorded, extensions,
    pauses and resumes; earlier recomputations add nothing), no database. Returns {field: value} of the clock fields
    (``CLOCK_FIELDS``) and ``is_overdue``, or None when no clock runs. A 处置 clock starts from the limit its
    dispatch recorded; another stage's clock from the working (or natural) time it was started with, so a
    changed stage setting does not move a clock already running. ``is_overdue``: a flag the deadline sweep set
    only because the old deadline passed is cleared when the new one has not (closed clocks' verdicts stand)."""
    if not case.stage or case.stage_deadline is None:
        return None
    events = [e for e in events if TABLE.get(e.action) is not None]
    starts = [i for i, e in enumerate(events) if _starts_clock(TABLE[e.action], e)]
    if not starts or events[starts[-1]].stage != case.stage:
        return None
    k = starts[-1]
    # A hand-over that recorded no limit kept the case's limit, which only a hand-over with a limit changes: start
    # from the limit the case holds (the initial one until such a hand-over, then each recorded one in turn).
    recorded = [e for e in events[:k + 1] if any(isinstance(x, HandOver) for x in TABLE[e.action].effects)
                and e.data.get("limit")]
    shadow = _Shadow() if recorded else _Shadow(handle_limit_value=case.handle_limit_value,
                                                 handle_limit_unit=case.handle_limit_unit or "")
    late = False
    for e in events[:k + 1]:
        t = TABLE[e.action]
        late = late or any(not r.get("on_time", True) for r in e.data.get("stopped") or ())
        if any(isinstance(x, HandOver) for x in t.effects) and e.data.get("limit"):
            value, unit = e.data["limit"]
            shadow.handle_limit_value, shadow.handle_limit_unit = Decimal(str(value)), unit
        if e is not events[k] and e.stage == Stage.HANDLE and shadow.handle_first_deadline is None \
                and _starts_clock(t, e):
            first = _Shadow(handle_limit_value=shadow.handle_limit_value, handle_limit_unit=shadow.handle_limit_unit)
            _start_clock(first, Stage.HANDLE, e.at, calendar, limits)
            shadow.handle_first_deadline = first.handle_first_deadline
    if case.stage != Stage.HANDLE:  # the working (or natural) time the clock was started with
        natural = limits.natural(case)
        amount = timedelta(seconds=case.stage_budget_seconds)
        limits = replace(limits, stages={**limits.stages, case.stage: (
            amount, wt.CALENDAR_HOURS if natural else wt.WORKING_HOURS, limits.of(case.stage)[2])})
    for e in events[k:]:
        t = TABLE[e.action]
        if e is not events[k] and t.clock not in ("extend", "pause", "resume"):
            continue
        _clocks(shadow, t, _clock_inputs(t, e), e.at, calendar, limits, Outcome(to_state=""))
    out = {name: getattr(shadow, name) for name in CLOCK_FIELDS}
    if case.stage != Stage.HANDLE:
        del out["handle_deadline"]  # the last 处置 clock's, stopped: its deadline stands
    if out["handle_first_deadline"] is None:
        del out["handle_first_deadline"]
    judged = case.stage_paused_at or now
    if case.is_overdue and not late and case.stage_deadline < judged <= shadow.stage_deadline:
        out["is_overdue"] = False
    return out


def light(case, now):
    """红黄绿灯 of the case's running clock ("" when no clock runs); a paused clock keeps its light.
    Same rule as ``queries.light_q`` so a list filtered by light agrees with the lights it shows."""
    if not case.stage or not case.stage_deadline:
        return ""
    at = case.stage_paused_at or now
    if at > case.stage_deadline:
        return wt.RED
    if case.stage_yellow_at and at > case.stage_yellow_at:
        return wt.YELLOW
    return wt.GREEN
