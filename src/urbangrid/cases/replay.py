"""The case row, recomputed from its events: the record proves itself.

A case's stored fields are a cache of its event log. ``derive`` folds the events through the workflow table
(each row's effects replayed from what the event records, ``effects.Effect.replay``; clocks from the event's
stage, deadline and stopped clocks; counters from ``increments``) and ``disagreements`` lists every field whose
stored value differs. ``urbangrid audit verify`` runs it over every case, so an edited case row is found as
surely as an edited event.

The class a case was filed under is not in its report event (the case row keeps it): the class fields are
compared only once a step has moved the case to another class (重新归类, which records both), and then the
last such step must give them.

One field is allowed to run ahead of the log: the deadline sweep flags ``is_overdue`` when a running clock
passes its deadline, with no event. So a stored ``is_overdue`` (and an ``overdue`` archive type) is accepted
where the log shows a clock that ran past its deadline before the next step, and only there.
"""
from datetime import datetime
from decimal import Decimal

from .effects import CLASS_FIELDS, Archive
from .states import OPEN, ArchiveType
from .workflow import TABLE

COUNTERS = ("rework_count", "return_count", "extension_count", "suspension_count", "supervision_count", "reopen_count")
# The fields compared, in the order they are reported.
FIELDS = ("state", "version", "updated_at", "source", "self_handled", "filed_at", "dispatched_at", "fed_back_at",
          "closed_at", "archive_type", "is_supervised", *COUNTERS, "stage", "stage_deadline", "handle_overdue",
          "is_overdue", "current_unit_id", "current_person_id", "district_centre_id", "rule_id", "handle_limit_value",
          "handle_limit_unit", "urgency", "satisfaction", "kept_closed", "duplicate_of_id", *CLASS_FIELDS, "chain_hash",
          "due_at")


def _initial(case):
    row = {name: None for name in FIELDS}
    row.update({c: 0 for c in COUNTERS})
    row.update(state=None, version=0, archive_type="", is_supervised=False, stage="", handle_overdue=False,
               is_overdue=False, satisfaction="", kept_closed=False, handle_limit_unit="", self_handled=False,
               # set at the report from the request, not by a step: the log cannot tell them otherwise
               urgency=case.urgency)
    return row


class Derived(dict):
    """The fields the events give, and whether a clock ran past its deadline between steps (``overran``)."""

    overran = False
    problems = ()


def derive(case, events, now):
    """The case fields ``events`` (in order) give; ``Derived.problems`` lists steps the table does not allow."""
    row, problems = Derived(_initial(case)), []
    paused = False
    previous = None
    for e in events:
        t = TABLE.get(e.action)
        if t is None:
            problems.append(f"event {e.seq}: unknown action {e.action!r}")
            break
        if e.seq != row["version"] + 1 or e.from_state != (row["state"] or "") or row["state"] not in t.sources:
            problems.append(f"event {e.seq} ({e.action}) does not follow from state {row['state']!r}")
        if previous is not None and not paused and previous.stage and previous.deadline and e.at > previous.deadline:
            row.overran = True
        if e.seq == 1:
            row["source"] = e.data.get("source", case.source)
            row["self_handled"] = bool(e.data.get("self_handled", False))
            row["due_at"] = datetime.fromisoformat(e.data["due_at"]) if e.data.get("due_at") else None
        for effect in t.effects:
            if not effect.after_clocks:
                effect.replay(row, e)
        for record in e.data.get("stopped") or ():
            if not record.get("on_time", True):
                row["is_overdue"] = True
                if record.get("stage") == "handle":
                    row["handle_overdue"] = True
        for counter in t.increments:
            row[counter] += 1
        row["stage"], row["stage_deadline"] = e.stage, e.deadline
        if t.clock == "pause":
            paused = True
        elif t.clock == "resume" or not e.stage:
            paused = False
        for effect in t.effects:
            if effect.after_clocks:
                effect.replay(row, e)
                if row.overran and isinstance(effect, Archive):
                    row["_archive_may_be_overdue"] = True
        row["state"], row["version"], row["updated_at"] = e.to_state, e.seq, e.at
        row["chain_hash"] = e.hash
        previous = e
    if previous is not None and row["state"] in OPEN and not paused and previous.stage and previous.deadline \
            and now > previous.deadline:
        row.overran = True
    row.problems = problems
    return row


def _same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b)
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a == b
    if isinstance(a, (Decimal, int, float, str)) and isinstance(b, (Decimal, int, float, str)) and not (
            isinstance(a, str) and isinstance(b, str)):
        try:
            return Decimal(str(a)) == Decimal(str(b))
        except ArithmeticError:
            return False
    return (a or None) == (b or None)


def disagreements(case, events, now):
    """``[(field, stored, from the events)]`` for every case field its events do not give; step problems as
    ``("steps", problem, None)``."""
    row = derive(case, events, now)
    out = [("steps", p, None) for p in row.problems]
    for name in FIELDS:
        stored, derived = getattr(case, name), row[name]
        if name in ("state", "stage", "archive_type", "satisfaction", "source", "handle_limit_unit", "urgency"):
            stored, derived = str(stored or ""), str(derived or "")
        if name in CLASS_FIELDS and derived is None:
            continue  # filed under it, never reclassified: the log does not say
        if name in ("class_code", "catalog_version", "kind"):
            stored, derived = str(stored or ""), str(derived or "")
        if _same(stored, derived):
            continue
        if name == "is_overdue" and stored and row.overran:
            continue  # flagged by the deadline sweep while a clock ran past its deadline
        if name == "archive_type" and stored == ArchiveType.OVERDUE and row.get("_archive_may_be_overdue"):
            continue
        out.append((name, stored, derived))
    return out
