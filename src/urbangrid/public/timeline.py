"""What the public may see of a case: plain-words status (``cases.states.PLAIN``) and a timeline without names, and of the steps' words
only their answers to the citizen (公开答复, ``workflow.PUBLIC_NOTE``): opinions and reasons stay inside.

The one place Open311 (``status_notes``, ``notes[]``, request updates) and the tracking page take a case's
public words from.
"""
from django.utils.translation import gettext, gettext_lazy as _

from urbangrid.cases.models import CaseEvent
from urbangrid.cases.states import plain_status
from urbangrid.cases.workflow import PUBLIC_NOTE, Action

# Public timeline entries: which actions show, in plain words. Internal steps (approvals, requests,
# supervision) and every note, name and contact stay inside.
PUBLIC_STEPS = {
    Action.REPORT: _("问题已提交"), Action.LOCATE: _("已确定问题位置"), Action.ACCEPT: _("已受理"), Action.SEND_VERIFY: _("已安排现场核实"),
    Action.VERIFY: _("现场核实完成"), Action.FILE: _("已立案"), Action.DISPATCH: _("已派遣给责任单位"),
    Action.DISPATCH_SECOND: _("已派遣给责任单位"), Action.FEED_BACK: _("责任单位已处理"),
    Action.CHECK_PASS: _("现场核查通过"), Action.CHECK_FAIL: _("核查未通过，返工处理"), Action.CLOSE: _("已办结"),
    Action.NOT_FILE: _("未予立案"), Action.VOID: _("已撤销"), Action.MERGE: _("已与同一问题合并"),
    Action.RATE: _("市民已评价"), Action.REOPEN: _("因市民不满意，重新处理"), Action.KEEP_CLOSED: _("经复核，维持办结"),
}
# The entries that name the responsible unit (handed the case, or answering for the work).
UNIT_SHOWN = frozenset({Action.DISPATCH, Action.DISPATCH_SECOND, Action.FEED_BACK})


def public_note(data):
    """A step's answer to the citizen from its event data ("" when it gave none): never its note."""
    note = (data or {}).get(PUBLIC_NOTE) if isinstance(data, dict) else None
    return note if isinstance(note, str) else ""


def status_note(case, events):
    """The case's status in words for the public: the plain words of its state and, when the steps that left
    it in that state gave one, their latest answer to the citizen. ``events`` are the case's events in order
    (objects with ``to_state`` and ``data``); an answer given before the case moved on (a feedback that the
    check then sent back) no longer describes it."""
    status = str(plain_status(case))
    for e in reversed(events):
        if e.to_state != case.state:
            break
        note = public_note(e.data)
        if note:
            return gettext("%(status)s：%(note)s") % {"status": status, "note": note}
    return status


def public_timeline(case):
    events = (CaseEvent.objects.filter(case=case, action__in=PUBLIC_STEPS).order_by("seq")
              .values("action", "at", "unit__name", "data"))
    rows = []
    for e in events:
        # The responsible unit is public (who answers for it); the people are not; of the words, the answer.
        rows.append({"label": PUBLIC_STEPS[e["action"]], "at": e["at"],
                     "unit": e["unit__name"] if e["action"] in UNIT_SHOWN else "", "note": public_note(e["data"])})
    return rows
