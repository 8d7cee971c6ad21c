"""The pure part of a transition: given a case (in memory), a table row, inputs and the time, compute
the new state, clocks, counters and the event. No database access, so the same rules drive live
requests (``services.transition``) and bulk generation of history (the demo, megacity datasets).
"""
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from urbangrid.worktime import clock as wt

from .states import ArchiveType, Stage
from .workflow import clock_started, target_of

# Stage limits when no setting exists (worktime.TimeLimitSetting has the configurable ones).
FALLBACK_HANDLE = (Decimal("1"), wt.WORKING_DAYS)


@dataclass
class Limits:
    """Stage time limits: {stage: (value, unit, yellow_share)} and the rework policy."""

    stages: dict
    rework_keeps_first_deadline: bool = False
    handle_yellow_share: Decimal = Decimal("0.2")

    def of(self, stage):
        return self.stages.get(stage, (Decimal("1"), wt.WORKING_HOURS, Decimal("0.2")))


@dataclass
class Outcome:
    """What a transition does, before it is saved."""

    to_state: str
    stopped: list = field(default_factory=list)  # [{"stage", "started", "deadline", "on_time"}]
    data: dict = field(default_factory=dict)


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
    _set_yellow(case, at, calendar, limits.of(stage)[2] if stage != Stage.HANDLE else limits.handle_yellow_share)
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


def _stop_clock(case, at):
    """Stop the running clock; returns its record with on-time (a paused clock is judged at its pause)."""
    if not case.stage:
        return None
    judged_at = case.stage_paused_at or at
    on_time = case.stage_deadline is None or judged_at <= case.stage_deadline
    record = {"stage": case.stage, "started": case.stage_started_at.isoformat() if case.stage_started_at else None,
              "deadline": case.stage_deadline.isoformat() if case.stage_deadline else None, "on_time": on_time}
    if case.stage == Stage.HANDLE:
        case.handle_overdue = case.handle_overdue or not on_time
    if not on_time:
        case.is_overdue = True
    case.stage = ""
    case.stage_started_at = case.stage_deadline = case.stage_paused_at = case.stage_yellow_at = None
    case.stage_budget_seconds = 0
    return record


def apply(case, t, inputs, at, calendar, limits):
    """Apply table row ``t`` to ``case`` in memory and return the ``Outcome`` (no saving, no checks of who).
    ``calendar`` is a ``worktime.clock.Calendar``: its methods do the working-time arithmetic."""
    out = Outcome(to_state=target_of(t, inputs) or case.state)
    if t.stops and case.stage in t.stops:
        out.stopped.append(_stop_clock(case, at))
    special = t.clock
    if special == "extend":
        extra_value, extra_unit = inputs["extra_time"]
        due = calendar.deadline(case.stage_deadline, extra_value, extra_unit)
        out.data["extended_from"] = case.stage_deadline.isoformat()
        case.stage_budget_seconds += calendar.working_timedelta(case.stage_deadline, due).total_seconds()
        case.stage_deadline = case.handle_deadline = due
        _set_yellow(case, at, calendar, limits.handle_yellow_share)
    elif special == "pause":
        case.stage_paused_at = at
    elif special == "resume":
        due = calendar.resume_deadline(case.stage_deadline, case.stage_paused_at, at)
        out.data["paused_from"] = case.stage_paused_at.isoformat()
        case.stage_deadline = case.handle_deadline = due
        case.stage_paused_at = None
        _set_yellow(case, at, calendar, limits.handle_yellow_share)
    elif special == "restart_handle":
        first = case.handle_first_deadline
        _start_clock(case, Stage.HANDLE, at, calendar, limits)
        if limits.rework_keeps_first_deadline and first:
            case.stage_deadline = case.handle_deadline = first
    started = clock_started(t, inputs)
    if started:
        _start_clock(case, started, at, calendar, limits)
    for counter in t.increments:
        setattr(case, counter, getattr(case, counter) + 1)
    if t.action == "close":
        case.archive_type = ArchiveType.OVERDUE if (case.is_overdue or case.handle_overdue) else ArchiveType.NORMAL
        case.closed_at = at
    out.data["counts"] = list(t.counts)
    if out.stopped:
        out.data["stopped"] = out.stopped
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
