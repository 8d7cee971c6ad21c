"""The deadline sweep: flags overdue cases and writes approaching/overdue notifications (once per clock)."""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Case, Notification
from .queries import light_q
from .states import OPEN, Stage


def _recipient(case):
    """The unit holding the case for the handling clock; the centre post of the step otherwise."""
    if case.stage == Stage.HANDLE and case.current_unit_id:
        return {"unit_id": case.current_unit_id, "role": ""}
    role = {Stage.DISPATCH: "dispatcher", Stage.SECOND_DISPATCH: "district_dispatcher", Stage.VERIFY: "inspector",
            Stage.CHECK: "inspector", Stage.FILE: "shift_lead", Stage.CLOSE: "shift_lead"}.get(case.stage, "intake_operator")
    return {"unit_id": None, "role": role}


def sweep(now=None):
    """One pass; safe to run in several processes at once (notifications are keyed per case clock)."""
    now = now or timezone.now()
    counts = {}
    for kind, light in ((Notification.Kind.OVERDUE, "red"), (Notification.Kind.APPROACHING, "yellow")):
        cases = list(Case.objects.filter(state__in=OPEN).filter(light_q(light, now))
                     .only("pk", "number", "stage", "stage_started_at", "stage_deadline", "current_unit_id"))
        rows = []
        for case in cases:
            stage_label = Stage(case.stage).label if case.stage else ""
            text = (_("案件 %(n)s 的%(stage)s环节已超期（时限 %(d)s）") if kind == Notification.Kind.OVERDUE
                    else _("案件 %(n)s 的%(stage)s环节即将超期（时限 %(d)s）")) % {
                "n": case.number, "stage": stage_label, "d": timezone.localtime(case.stage_deadline).strftime("%Y-%m-%d %H:%M")}
            rows.append(Notification(case_id=case.pk, kind=kind, text=text, created_at=now,
                                     dedupe_key=f"{kind}:{case.pk}:{case.stage}:{case.stage_started_at.isoformat()}",
                                     **_recipient(case)))
        with transaction.atomic():
            if kind == Notification.Kind.OVERDUE and cases:
                Case.objects.filter(pk__in=[c.pk for c in cases], is_overdue=False).update(is_overdue=True)
            Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        counts[str(kind)] = len(rows)
    return counts
