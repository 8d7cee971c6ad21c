"""Read side of cases: filters, lights in SQL, and each role's to-do list (待办)."""
from django.db.models import F, Q
from django.utils import timezone

from urbangrid.org.roles import Role

from .services import visible_cases
from .states import OPEN, Satisfaction, State


def light_q(light, now=None):
    """SQL condition for a light, matching ``engine.light``: a paused clock is judged at its pause."""
    now = now or timezone.now()
    running = Q(stage_paused_at__isnull=True)
    paused = Q(stage_paused_at__isnull=False)
    if light == "red":
        return (running & Q(stage_deadline__lt=now)) | (paused & Q(stage_deadline__lt=F("stage_paused_at")))
    if light == "yellow":
        return ((running & Q(stage_deadline__gte=now, stage_yellow_at__lt=now))
                | (paused & Q(stage_deadline__gte=F("stage_paused_at"), stage_yellow_at__lt=F("stage_paused_at"))))
    if light == "green":
        return Q(stage_deadline__isnull=False) & ~light_q("red", now) & ~light_q("yellow", now)
    raise ValueError(light)


def todo_q(actor):
    """What is waiting for this actor, by role (the workbench's first list)."""
    q = Q(pk__in=[])
    roles = actor.roles
    if Role.INSPECTOR in roles:
        grids = actor.grids_as(Role.INSPECTOR)
        q |= Q(state__in=[State.VERIFYING, State.CHECKING], responsibility_grid_id__in=grids)
    if actor.city_wide and Role.INTAKE_OPERATOR in roles:
        q |= Q(state__in=[State.UNLOCATED, State.REPORTED, State.FED_BACK])
        q |= Q(state=State.CLOSED, satisfaction="", needs_verification=True)
        q |= Q(state=State.CLOSED, satisfaction=Satisfaction.DISSATISFIED, kept_closed=False)
    if actor.city_wide and Role.SHIFT_LEAD in roles:
        q |= Q(state__in=[State.PENDING_FILING, State.PENDING_CLOSE])
    approvals = [State.RETURN_REQUESTED, State.EXTENSION_REQUESTED, State.SUSPENSION_REQUESTED]
    if actor.city_wide and Role.DISPATCHER in roles:
        q |= Q(state=State.PENDING_DISPATCH) | Q(state__in=approvals, district_centre__isnull=True)
    if Role.DISTRICT_DISPATCHER in roles and actor.district_ids:
        q |= Q(state=State.PENDING_DISTRICT_DISPATCH, district_centre_id__in=actor.district_ids)
        q |= Q(state__in=approvals, district_centre_id__in=actor.district_ids)
    if actor.unit_ids:
        q |= Q(state=State.HANDLING, current_unit_id__in=actor.unit_ids)
    if Role.LEADER in roles or Role.GRID_LEADER in roles:
        q |= Q(is_supervised=True, state__in=OPEN)
    return q


def todo(actor):
    return visible_cases(actor).filter(todo_q(actor))
