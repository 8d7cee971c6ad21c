"""Roles (grid roles and centre posts) and the permissions each one carries.

Every later feature asks ``has_perm(roles, "case.dispatch")`` rather than testing role names, so a
bureau that splits or merges posts edits this table, not the views.
"""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    # Grid roles (网格角色): held in a responsibility grid or on a road segment.
    GRID_LEADER = "grid_leader", _("网格长")
    DEPUTY_GRID_LEADER = "deputy_grid_leader", _("副网格长")
    SUB_GRID_LEADER = "sub_grid_leader", _("分网格长")
    GRID_LIAISON = "grid_liaison", _("网格联络员")
    GRID_OFFICER = "grid_officer", _("网格责任员")
    INSPECTOR = "inspector", _("网格巡查员")
    ASSESSOR = "assessor", _("考核员")
    # Centre posts (岗位): held for the city or for one district.
    INTAKE_OPERATOR = "intake_operator", _("受理员")
    SHIFT_LEAD = "shift_lead", _("值班长")
    DISPATCHER = "dispatcher", _("派遣员")
    DISTRICT_DISPATCHER = "district_dispatcher", _("二级派遣员")
    LEADER = "leader", _("领导")
    # Staff of a responsible unit who handle dispatched cases (处置人员).
    UNIT_HANDLER = "unit_handler", _("处置人员")
    ADMIN = "admin", _("系统管理员")
    # A member of the public holding a case's tracking code (no login).
    CITIZEN = "citizen", _("市民")


GRID_ROLES = frozenset({
    Role.GRID_LEADER, Role.DEPUTY_GRID_LEADER, Role.SUB_GRID_LEADER, Role.GRID_LIAISON,
    Role.GRID_OFFICER, Role.INSPECTOR, Role.ASSESSOR,
})
CENTRE_POSTS = frozenset({Role.INTAKE_OPERATOR, Role.SHIFT_LEAD, Role.DISPATCHER, Role.DISTRICT_DISPATCHER, Role.LEADER, Role.ADMIN})
UNIT_ROLES = frozenset({Role.UNIT_HANDLER})

# Permission codes, grouped by what they let a person do. Scope (which grids, units, districts)
# comes from where the role is held, see ``scope.Actor``. ``person.phone``: staff phone numbers of the people
# the role dispatches or supervises (the rule and its scope: ``org/privacy.py``). ``notify.view`` / ``notify.retry``:
# the notification outbox (通知投递, ``cases/outbox.py``) and putting dead deliveries back in the queue.
_VIEW_REF = {"reference.view"}
ROLE_PERMISSIONS = {
    Role.GRID_LEADER: _VIEW_REF | {"grid.view", "case.view", "case.supervise", "assessment.view", "person.phone"},
    Role.DEPUTY_GRID_LEADER: _VIEW_REF | {"grid.view", "case.view", "assessment.view", "person.phone"},
    Role.SUB_GRID_LEADER: _VIEW_REF | {"grid.view", "case.view", "case.handle"},
    Role.GRID_LIAISON: _VIEW_REF | {"grid.view", "case.view", "assessment.view"},
    Role.GRID_OFFICER: _VIEW_REF | {"grid.view", "case.view", "case.handle"},
    Role.INSPECTOR: _VIEW_REF | {"grid.view", "case.view", "case.report", "case.verify", "case.check", "case.self_handle"},
    Role.ASSESSOR: _VIEW_REF | {"grid.view", "assessment.deduct", "case.report"},
    Role.INTAKE_OPERATOR: _VIEW_REF | {"grid.view_all", "case.view_all", "case.accept", "case.send_verify", "case.send_check",
                                       "case.not_file", "case.merge", "case.callback", "case.report", "person.phone"},
    Role.SHIFT_LEAD: _VIEW_REF | {"grid.view_all", "case.view_all", "case.file", "case.not_file", "case.close", "case.void",
                                  "case.merge", "person.phone", "notify.view", "notify.retry"},
    Role.DISPATCHER: _VIEW_REF | {"grid.view_all", "case.view_all", "case.dispatch", "case.approve", "case.supervise", "person.phone"},
    Role.DISTRICT_DISPATCHER: _VIEW_REF | {"grid.view", "case.view", "case.dispatch_second", "case.approve", "person.phone"},
    Role.LEADER: _VIEW_REF | {"grid.view_all", "case.view_all", "case.supervise", "case.report", "dashboard.view",
                              "assessment.view", "assessment.review_appeal", "person.phone", "notify.view"},
    Role.UNIT_HANDLER: _VIEW_REF | {"case.view", "case.handle"},
    Role.ADMIN: _VIEW_REF | {"grid.view_all", "case.view_all", "reference.manage", "dashboard.view", "assessment.view",
                             "assessment.review_appeal", "person.phone", "notify.view", "notify.retry"},
    Role.CITIZEN: {"case.rate"},
}


def permissions_for(roles):
    perms = set()
    for role in roles:
        perms |= ROLE_PERMISSIONS.get(role, set())
    return perms
