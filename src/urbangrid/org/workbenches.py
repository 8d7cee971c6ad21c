"""Which workbench each role lands on, and how many items wait there (the home page's switcher)."""
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .roles import Role


@dataclass(frozen=True)
class Workbench:
    key: str
    label: str
    url: str
    roles: frozenset


WORKBENCHES = [
    Workbench("mobile", _("巡查员移动端"), "/m/", frozenset({Role.INSPECTOR})),
    Workbench("centre", _("监督中心工作台"), "/centre/", frozenset({Role.INTAKE_OPERATOR, Role.SHIFT_LEAD})),
    Workbench("hotline", _("热线来电登记"), "/centre/hotline/", frozenset({Role.INTAKE_OPERATOR})),
    Workbench("command", _("指挥中心派遣台"), "/command/", frozenset({Role.DISPATCHER})),
    Workbench("district", _("区指挥分中心"), "/district/", frozenset({Role.DISTRICT_DISPATCHER})),
    Workbench("unit", _("处置单位工作台"), "/unit/", frozenset({Role.UNIT_HANDLER})),
    Workbench("deductions", _("考核扣分"), "/assessment/deductions/", frozenset({Role.ASSESSOR})),
    Workbench("dashboard", _("领导驾驶舱"), "/dashboard/", frozenset({Role.LEADER, Role.ADMIN})),
    Workbench("grids", _("我的网格"), "/grids/", frozenset({Role.GRID_LEADER, Role.DEPUTY_GRID_LEADER, Role.SUB_GRID_LEADER,
                                                           Role.GRID_LIAISON, Role.GRID_OFFICER, Role.ASSESSOR})),
]


def workbenches_for(actor):
    roles = set(actor.roles)
    if getattr(actor.user, "is_superuser", False):
        roles.add(Role.ADMIN)
    return [w for w in WORKBENCHES if w.roles & roles]
