"""What the public may see of a case: plain-words status and a timeline without notes or names."""
from django.utils.translation import gettext_lazy as _

from urbangrid.cases.models import CaseEvent
from urbangrid.cases.states import State

PLAIN = {
    State.REPORTED: _("已收到，等待受理"), State.VERIFYING: _("已受理，正在现场核实"),
    State.PENDING_FILING: _("已核实，等待立案"), State.PENDING_DISPATCH: _("已立案，正在派遣"),
    State.PENDING_DISTRICT_DISPATCH: _("已立案，正在派遣"), State.HANDLING: _("责任单位正在处理"),
    State.RETURN_REQUESTED: _("责任单位正在处理"), State.EXTENSION_REQUESTED: _("责任单位正在处理"),
    State.SUSPENSION_REQUESTED: _("责任单位正在处理"), State.SUSPENDED: _("需协调解决，已列入问题台账"),
    State.FED_BACK: _("已处理，等待核查"), State.CHECKING: _("已处理，正在核查"), State.PENDING_CLOSE: _("已核查，即将办结"),
    State.CLOSED: _("已办结"), State.NOT_FILED: _("经核实不属于受理范围，未立案"), State.VOIDED: _("已撤销"),
    State.MERGED: _("与其他市民反映的同一问题合并处理"),
}
# Public timeline entries: which actions show, in plain words. Internal steps (approvals, requests,
# supervision) and every note, name and contact stay inside.
PUBLIC_STEPS = {
    "report": _("问题已提交"), "accept": _("已受理"), "send_verify": _("已安排现场核实"), "verify": _("现场核实完成"),
    "file": _("已立案"), "dispatch": _("已派遣给责任单位"), "dispatch_second": _("已派遣给责任单位"),
    "feed_back": _("责任单位已处理"), "check_pass": _("现场核查通过"), "check_fail": _("核查未通过，返工处理"),
    "close": _("已办结"), "not_file": _("未予立案"), "void": _("已撤销"), "merge": _("已与同一问题合并"),
    "rate": _("市民已评价"), "reopen": _("因市民不满意，重新处理"), "keep_closed": _("经复核，维持办结"),
}


def plain_status(case):
    return PLAIN.get(case.state, case.get_state_display())


def public_timeline(case):
    events = CaseEvent.objects.filter(case=case, action__in=PUBLIC_STEPS).order_by("seq").values("action", "at", "unit__name")
    rows = []
    for e in events:
        # The responsible unit is public (who answers for it); the people are not.
        rows.append({"label": PUBLIC_STEPS[e["action"]], "at": e["at"],
                     "unit": e["unit__name"] if e["action"] in ("dispatch", "dispatch_second", "feed_back") else ""})
    return rows
