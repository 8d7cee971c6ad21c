"""The case loop as one declarative table: states, transitions, who may take them, required inputs, the
guard, the clock each one stops or starts, its effects on the case row (``effects.py``), what its event
records, the notification it sends and what it counts toward evaluation.

``engine.apply`` is the one function that carries a row out on a case and builds its event; every writer
of the loop calls it (``services.transition`` for live requests, the demo history, the generator).
Views and API routers only name an action (``Action``). A bureau that changes its procedure edits the rows
here, not if-chains in views.

Public and internal words: a step's ``opinion`` or ``reason`` (the event's note) is internal, for staff only —
dispatchers', handlers' and verifiers' opinions never leave the building. The rows that record ``PUBLIC_NOTE``
take, besides it, an answer to the citizen (公开答复): the only free text of a case event that Open311 and the
citizens' tracking page show, beside the plain words of the state (``public.timeline``).
"""
import enum
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from .effects import Archive, Claim, Clear, Flag, HandOver, MergeInto, Place, Reclassify, Stamp, Verdict
from .states import OPEN, Satisfaction, State, Stage

S = State


@dataclass(frozen=True)
class Branch:
    """A target chosen by an input: ``Branch("confirmed", {True: A, False: B})``."""

    input: str
    targets: dict


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: frozenset
    target: object  # a State, a Branch, or None for "stays in the same state"
    permission: str  # from org.roles.ROLE_PERMISSIONS
    scope: str  # whose case it is: see services._in_scope
    requires: tuple = ()  # input names that must be present and non-empty
    photos: str = ""  # photo kind that must be attached (at least one)
    stops: tuple = ()  # clocks stopped (their on-time result is recorded on the event)
    starts: object = None  # the clock started: a Stage, or a Branch on the target state
    clock: str = ""  # special clock effects: extend, pause, resume, restart_handle, recalendar
    counts: tuple = ()  # what the step counts toward in the evaluation (``counting``); the table is the one source
    guard: str = ""  # a named guard in GUARDS
    increments: tuple = field(default=())  # case counters to add one to
    effects: tuple = ()  # effects.Effect objects: what the step does to the case row
    concerns: str = ""  # the unit the event concerns: "assigned" (the unit handed the case) or "current"
    records: tuple = ()  # inputs copied into the event's data
    notifies: str = ""  # the Notification kind the step sends ("" for none)
    internal: bool = False  # written by the platform as a consequence of another step, never asked for
    implied: tuple = ()  # inputs taken from the case or the actor, not the request (see implied_inputs)


# The input (recorded in the event's data) that a row takes as its answer to the citizen; see the docstring.
PUBLIC_NOTE = "public_note"
P = PUBLIC_NOTE

OPEN_STATES = frozenset(OPEN)
BEFORE_CLOSED = frozenset(OPEN_STATES)

TRANSITIONS = [
    # A report whose address the gazetteer could not place with confidence (Open311, a hotline call without a
    # point) waits 待定位 on the 定位 clock, its ranked candidates recorded; the others go to 受理.
    Transition("report", _("上报"), frozenset({None}), Branch("unlocated", {False: S.REPORTED, True: S.UNLOCATED}),
               "case.report", "report", starts=Branch("unlocated", {False: Stage.ACCEPT, True: Stage.LOCATE}),
               counts=("report",), records=("source", "self_handled", "recurrence_of", "external_ref", "candidates", "due_at")),
    # 定位: the centre's intake staff place a 待定位 case (a candidate chosen, or a point entered on the map); it
    # then goes on as a located report of its source would have (待受理).
    Transition("locate", _("定位"), frozenset({S.UNLOCATED}), S.REPORTED, "case.accept", "centre",
               requires=("point",), stops=(Stage.LOCATE,), starts=Stage.ACCEPT, counts=("locate",),
               effects=(Place(),), records=("candidate",)),
    Transition("send_verify", _("发核实"), frozenset({S.REPORTED}), S.VERIFYING, "case.send_verify", "centre",
               stops=(Stage.ACCEPT,), starts=Stage.VERIFY, counts=("send_verify",)),
    Transition("verify", _("核实"), frozenset({S.VERIFYING}), Branch("confirmed", {True: S.PENDING_FILING, False: S.NOT_FILED}),
               "case.verify", "grid_inspector", requires=("opinion",), photos="verify", stops=(Stage.VERIFY,),
               starts=Branch("confirmed", {True: Stage.FILE, False: None}), counts=("verify",), records=("confirmed",)),
    Transition("accept", _("受理"), frozenset({S.REPORTED}), Branch("self_handled", {True: S.PENDING_CLOSE, False: S.PENDING_FILING}),
               "case.accept", "centre", stops=(Stage.ACCEPT,),
               starts=Branch("self_handled", {True: Stage.CLOSE, False: Stage.FILE}), counts=("accept",),
               implied=("self_handled",)),
    Transition("file", _("立案"), frozenset({S.PENDING_FILING}), S.PENDING_DISPATCH, "case.file", "centre",
               stops=(Stage.FILE,), starts=Stage.DISPATCH, counts=("file",), effects=(Stamp("filed_at"),)),
    Transition("not_file", _("不予立案"), frozenset({S.REPORTED, S.PENDING_FILING}), S.NOT_FILED, "case.not_file", "centre",
               requires=("reason",), stops=(Stage.ACCEPT, Stage.FILE), counts=("not_file",), records=(P,)),
    Transition("dispatch", _("派遣"), frozenset({S.PENDING_DISPATCH}),
               Branch("to_district", {False: S.HANDLING, True: S.PENDING_DISTRICT_DISPATCH}), "case.dispatch", "centre",
               requires=("unit_or_district",), stops=(Stage.DISPATCH,),
               starts=Branch("to_district", {False: Stage.HANDLE, True: Stage.SECOND_DISPATCH}), counts=("dispatch",),
               effects=(Stamp("dispatched_at"), HandOver()), concerns="assigned", notifies="dispatched"),
    Transition("dispatch_second", _("二级派遣"), frozenset({S.PENDING_DISTRICT_DISPATCH}), S.HANDLING, "case.dispatch_second",
               "district", requires=("unit",), guard="unit_in_district", stops=(Stage.SECOND_DISPATCH,), starts=Stage.HANDLE,
               counts=("second_dispatch",), effects=(HandOver(),), concerns="assigned", notifies="dispatched"),
    # A case sent to the wrong district: its dispatcher hands it back to the city's, with the reason. The
    # second-dispatch clock stops (its on-time result on the event) and the city's dispatch clock starts again.
    Transition("hand_back", _("退回市级派遣"), frozenset({S.PENDING_DISTRICT_DISPATCH}), S.PENDING_DISPATCH,
               "case.dispatch_second", "district", requires=("reason",), stops=(Stage.SECOND_DISPATCH,),
               starts=Stage.DISPATCH, counts=("district_return",), effects=(Clear(("district_centre_id",)),),
               records=("district",), implied=("district",)),
    # Inside the unit: a handler signs for the task (签收) or hands it to a team member (转交/指派). The
    # case stays in handling and its clock runs on; only the current person changes.
    Transition("accept_task", _("签收"), frozenset({S.HANDLING}), None, "case.handle", "unit", guard="unclaimed",
               effects=(Claim(),), concerns="current", implied=("signer",)),
    Transition("assign", _("转交/指派"), frozenset({S.HANDLING}), None, "case.handle", "unit", requires=("person",),
               effects=(Claim(),), concerns="current"),
    Transition("request_return", _("申请回退"), frozenset({S.HANDLING}), S.RETURN_REQUESTED, "case.handle", "unit",
               requires=("reason",), concerns="current"),
    Transition("approve_return", _("同意回退"), frozenset({S.RETURN_REQUESTED}), S.PENDING_DISPATCH, "case.approve", "approver",
               requires=("opinion",), stops=(Stage.HANDLE,), starts=Stage.DISPATCH, counts=("return",),
               increments=("return_count",), effects=(Clear(("current_unit_id", "current_person_id", "district_centre_id")),),
               notifies="returned"),
    Transition("refuse_return", _("不同意回退"), frozenset({S.RETURN_REQUESTED}), S.HANDLING, "case.approve", "approver",
               requires=("opinion",)),
    Transition("request_extension", _("申请延期"), frozenset({S.HANDLING}), S.EXTENSION_REQUESTED, "case.handle", "unit",
               requires=("reason", "extra_time"), concerns="current", records=("extra_time",)),
    Transition("approve_extension", _("同意延期"), frozenset({S.EXTENSION_REQUESTED}), S.HANDLING, "case.approve", "approver",
               requires=("opinion",), clock="extend", counts=("extension",), increments=("extension_count",),
               records=("extra_time",)),
    Transition("refuse_extension", _("不同意延期"), frozenset({S.EXTENSION_REQUESTED}), S.HANDLING, "case.approve", "approver",
               requires=("opinion",)),
    Transition("request_suspension", _("申请挂账"), frozenset({S.HANDLING}), S.SUSPENSION_REQUESTED, "case.handle", "unit",
               requires=("reason",), concerns="current"),
    Transition("approve_suspension", _("同意挂账"), frozenset({S.SUSPENSION_REQUESTED}), S.SUSPENDED, "case.approve", "approver",
               requires=("opinion",), clock="pause", counts=("suspension",), increments=("suspension_count",)),
    Transition("refuse_suspension", _("不同意挂账"), frozenset({S.SUSPENSION_REQUESTED}), S.HANDLING, "case.approve", "approver",
               requires=("opinion",)),
    Transition("resume", _("挂账恢复"), frozenset({S.SUSPENDED}), S.HANDLING, "case.approve", "approver", clock="resume"),
    # The unit that fed back is the one 处置数 and 按期处置 count by.
    Transition("feed_back", _("处置反馈"), frozenset({S.HANDLING}), S.FED_BACK, "case.handle", "unit",
               requires=("opinion",), photos="after", stops=(Stage.HANDLE,), starts=Stage.SEND_CHECK, counts=("handle",),
               effects=(Stamp("fed_back_at"),), concerns="current", records=(P,)),
    Transition("send_check", _("发核查"), frozenset({S.FED_BACK}), S.CHECKING, "case.send_check", "centre",
               stops=(Stage.SEND_CHECK,), starts=Stage.CHECK, counts=("send_check",)),
    Transition("check_pass", _("核查通过"), frozenset({S.CHECKING}), S.PENDING_CLOSE, "case.check", "grid_inspector",
               requires=("opinion",), photos="check", stops=(Stage.CHECK,), starts=Stage.CLOSE, counts=("check",)),
    Transition("check_fail", _("核查不通过（返工）"), frozenset({S.CHECKING}), S.HANDLING, "case.check", "grid_inspector",
               requires=("reason",), photos="check", stops=(Stage.CHECK,), clock="restart_handle",
               counts=("check", "rework"), increments=("rework_count",), concerns="current", notifies="rework"),
    Transition("close", _("结案"), frozenset({S.PENDING_CLOSE}), S.CLOSED, "case.close", "centre",
               stops=(Stage.CLOSE,), counts=("close",), effects=(Archive(),), notifies="closed", records=(P,)),
    Transition("void", _("作废"), BEFORE_CLOSED - {S.CLOSED}, S.VOIDED, "case.void", "centre",
               requires=("reason",), stops=tuple(Stage), counts=("void",), records=(P,)),
    Transition("merge", _("合并"), frozenset({S.REPORTED, S.PENDING_FILING}), S.MERGED, "case.merge", "centre",
               requires=("master",), guard="master_open", stops=tuple(Stage), counts=("merge",), effects=(MergeInto(),),
               records=(P,)),
    # The master case's note of a duplicate merged into it (its reporter follows the master from now on).
    Transition("merged_in", _("合并入本案"), OPEN_STATES, None, "case.merge", "centre", records=("duplicate",), internal=True),
    # The working calendar changed under a running clock (a notice imported, a day edited): the clock's deadline
    # and light recomputed from its events on the new calendar (``engine.recompute_clock``); not public.
    Transition("recalendar", _("按工作日历重算时限"), OPEN_STATES, None, "", "centre", clock="recalendar", internal=True),
    # The city switched its catalogue (CJ/T 214-2007 → GB/T 47678.5-2026 or back): an open case moves to its class's
    # counterpart through the crosswalk (``cases.catalog_switch``); a closed case keeps the class it was closed under.
    Transition("reclassify", _("分类版本切换（重新归类）"), OPEN_STATES, None, "", "centre", effects=(Reclassify(),),
               internal=True),
    Transition("supervise", _("督办"), OPEN_STATES, None, "case.supervise", "supervisor",
               requires=("opinion",), counts=("supervise",), increments=("supervision_count",),
               effects=(Flag("is_supervised", True),), notifies="supervised"),
    Transition("callback", _("回访"), frozenset({S.CLOSED}), None, "case.callback", "centre",
               requires=("satisfaction",), counts=("callback",), effects=(Verdict(),), records=("satisfaction",)),
    Transition("rate", _("市民评价"), frozenset({S.CLOSED}), None, "case.rate", "citizen",
               requires=("satisfaction",), guard="not_rated", counts=("callback",), effects=(Verdict(),),
               records=("satisfaction",)),
    Transition("reopen", _("重新派遣（回访不满意）"), frozenset({S.CLOSED}), S.PENDING_DISPATCH, "case.callback", "centre",
               requires=("reason",), guard="dissatisfied", starts=Stage.DISPATCH, counts=("reopen",),
               increments=("reopen_count",),
               effects=(Clear(("archive_type", "closed_at", "satisfaction", "current_unit_id", "district_centre_id")),)),
    # The other answer to a dissatisfied citizen: the work was done to standard (e.g. the demand is outside
    # the bureau's remit), the closure stands, the reason is on the record and the case leaves the to-do.
    Transition("keep_closed", _("维持结案（回访不满意）"), frozenset({S.CLOSED}), None, "case.callback", "centre",
               requires=("reason",), guard="dissatisfied", effects=(Flag("kept_closed", True),), records=(P,)),
]

TABLE = {t.action: t for t in TRANSITIONS}

# The post a scope's work is done in, recorded on the event when the actor holds several roles that carry
# the permission (a 分网格长 who is also a unit's 处置人员 feeds back as 处置人员).
SCOPE_ROLES = {
    "report": ("inspector",), "grid_inspector": ("inspector",), "unit": ("unit_handler",),
    "district": ("district_dispatcher",), "approver": ("dispatcher", "district_dispatcher"),
    "centre": ("intake_operator", "shift_lead", "dispatcher"), "supervisor": ("dispatcher", "leader", "grid_leader"),
}
ACTIONS = tuple(TABLE)

# The event log's vocabulary, generated from the table: ``Action.DISPATCH == "dispatch"``. Code outside the
# table names actions through it (a test holds the rest of the code to that).
Action = enum.StrEnum("Action", {t.action.upper(): t.action for t in TRANSITIONS})

# Guards: a condition on the case a row needs besides its source state (inputs are checked by the services).
GUARDS = {
    "dissatisfied": lambda case: case.satisfaction == Satisfaction.DISSATISFIED and not case.kept_closed,
    "not_rated": lambda case: not case.satisfaction,
    "unclaimed": lambda case: case.current_person_id is None,
}


def guard_ok(t, case):
    check = GUARDS.get(t.guard)
    return check is None or check(case)


def implied_inputs(t, case, actor):
    """The inputs of row ``t`` that come from the case (self_handled: the reporter's word on 自行处置; district: the
    district a case is handed back from) or the actor (signer: whoever signs for a task becomes its current person)."""
    out = {}
    if "self_handled" in t.implied:
        out["self_handled"] = case.self_handled
    if "signer" in t.implied:
        out["person_obj"] = actor.person
    if "district" in t.implied:  # the district the case is handed back from (cleared by the step)
        district = case.district_centre
        out["district"] = district.code if district is not None else ""
    return out


def takes_public_note(t):
    """Whether row ``t`` takes an answer to the citizen (公开答复) besides its internal note."""
    return PUBLIC_NOTE in t.records


def rows_that(predicate):
    """Actions of the rows for which ``predicate(row)`` holds, e.g. the steps that count toward 处置数."""
    return tuple(t.action for t in TRANSITIONS if predicate(t))


def counting(counter):
    """Actions whose events count toward ``counter`` (the table's ``counts`` column)."""
    return rows_that(lambda t: counter in t.counts)


def allowed_from(state):
    """Rows a person may take from ``state`` (internal rows are written by the platform only)."""
    return [t for t in TRANSITIONS if state in t.sources and not t.internal]


def target_of(t, inputs):
    if isinstance(t.target, Branch):
        return t.target.targets[bool(inputs.get(t.target.input))]
    return t.target


def clock_started(t, inputs):
    if isinstance(t.starts, Branch):
        return t.starts.targets[bool(inputs.get(t.starts.input))]
    return t.starts
