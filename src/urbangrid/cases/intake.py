"""受理渠道: every door that creates a case, declared once — the sources a report through it may carry, who may
use it (a permission, or citizens with none), how it keeps an outside system's number, its rate limit and whether
``services.report`` refuses a report its door does not allow (``refusal``); the views ask
``over_limit`` before they do any work.

Doors: the staff's reports (the inspectors' app and the case API, for the sources a post may claim), the
citizens' page and app, the hotline (the centre's desk and the API import of work orders: one door, one
permission), Open311 (outside systems with an API key), the assessors' deductions that open a case, and the
province's tasks (上级交办: the exchange fetches them and reports each one at the centre's intake desk, keyed by the
task's id; ``exchange/inbox.py``).
"""
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from urbangrid.core.ratelimit import client_address, hit
from urbangrid.org.roles import Role

from .states import Source

# Who may say a report came through a channel: the channel is the server's fact about the door and the actor,
# never the client's word. The inspectors' app is the inspectors'; hotline, video and media reports are
# registered at the centre's desks; a leader's instruction by the leader or the centre.
CENTRE_DESKS = frozenset({Role.INTAKE_OPERATOR, Role.SHIFT_LEAD, Role.DISPATCHER})
SOURCE_POSTS = {
    Source.INSPECTOR: frozenset({Role.INSPECTOR}),
    Source.HOTLINE_12345: CENTRE_DESKS, Source.HOTLINE_12319: CENTRE_DESKS, Source.VIDEO: CENTRE_DESKS,
    Source.MEDIA: CENTRE_DESKS, Source.LEADER: CENTRE_DESKS | {Role.LEADER}, Source.PROVINCE: CENTRE_DESKS,
}
PUBLIC_SOURCES = frozenset({Source.PUBLIC_WEB, Source.PUBLIC_APP, Source.OPEN311})


@dataclass(frozen=True)
class Door:
    key: str
    label: str
    sources: frozenset
    permission: str | None        # None: open to citizens (no login)
    external_ref: str = ""         # the form of an outside system's number kept on the case ("" none)
    limit_setting: str = ""        # URBANGRID_* posts per hour per client address ("" none)
    unplaced: bool = False         # a report may come with no place at all: 待定位, the centre places it


STAFF, CITIZEN, HOTLINE, OPEN311, DEDUCTION, PROVINCE = "staff", "citizen", "hotline", "open311", "deduction", "province"
DOORS = {d.key: d for d in (
    Door(STAFF, gettext_lazy("工作人员上报（巡查员移动端、案件接口）"),
         frozenset({Source.INSPECTOR, Source.VIDEO, Source.MEDIA, Source.LEADER}), "case.report"),
    Door(CITIZEN, gettext_lazy("市民上报（网页、APP）"), frozenset({Source.PUBLIC_WEB, Source.PUBLIC_APP}), None,
         limit_setting="URBANGRID_PUBLIC_POSTS_PER_HOUR"),
    Door(HOTLINE, gettext_lazy("热线工单（来电登记、工单接口）"), frozenset({Source.HOTLINE_12345, Source.HOTLINE_12319}),
         "case.accept", external_ref="<热线>:<工单号>"),
    Door(OPEN311, gettext_lazy("外部系统（Open311，凭 API key）"), frozenset({Source.OPEN311}), None,
         external_ref="o311:<key>:<fixmystreet_id>", limit_setting="URBANGRID_OPEN311_POSTS_PER_HOUR"),
    # A deduction on a problem that should be handled opens a case (assessment/deductions/rules.py), under the
    # citizens' app source: the assessor reports what any passer-by could have.
    Door(DEDUCTION, gettext_lazy("考核扣分转案件"), frozenset({Source.PUBLIC_APP}), "assessment.deduct"),
    # The province's tasks (督办, 专项任务): the platform fetches them and reports each at the intake desk; a task
    # may name no place (the centre places it) and its id keeps it one case however often it is fetched.
    Door(PROVINCE, gettext_lazy("上级交办（省级平台任务）"), frozenset({Source.PROVINCE}), "case.report",
         external_ref="province:<任务编号>", unplaced=True),
)}


def door_of_source(source):
    """The door a report of ``source`` comes through when its caller names none (Open311 and province tasks never:
    their own doors, named by their callers, so no other caller can claim those sources)."""
    if source in (Source.PUBLIC_WEB, Source.PUBLIC_APP):
        return CITIZEN
    if source in (Source.HOTLINE_12345, Source.HOTLINE_12319):
        return HOTLINE
    return STAFF


def refusal(door_key, actor, source):
    """Why ``actor`` may not report ``source`` through the door: (message, code), or None when he may."""
    door = DOORS.get(door_key)
    if door is None or source not in door.sources:
        if source == Source.OPEN311:
            return _("“外部系统（Open311）”来源只能经 Open311 接口以 API key 上报"), "forbidden_source"
        return _("此渠道不受理“%(s)s”来源的上报") % {"s": Source(source).label}, "forbidden_source"
    anonymous = not actor.is_authenticated
    if door.permission is None:
        return None
    if anonymous:
        return _("请先登录"), "login_required"
    if getattr(actor.user, "is_superuser", False):
        return None
    if not actor.can(door.permission):
        if door.key == HOTLINE:
            return _("只有监督中心可以登记热线工单"), "forbidden"
        return _("您无权上报案件"), "forbidden"
    posts = SOURCE_POSTS.get(source)
    if posts is not None and not (set(actor.roles) & posts):
        return _("您的岗位不能以“%(s)s”来源上报") % {"s": Source(source).label}, "forbidden_source"
    return None


def over_limit(door_key, request):
    """The door's hourly limit if this POST from the request's address goes over it, else None. Counted in the
    store every server process shares (core/ratelimit.py), before any other work: a refused or invalid
    submission costs the server too."""
    door = DOORS[door_key]
    if not door.limit_setting:
        return None
    limit = getattr(settings, door.limit_setting)
    return None if hit(f"intake-{door.key}", client_address(request), limit) else limit


def hotline_ref(hotline, external_no):
    """A hotline work order's number as the case keeps it (a re-sent order is recognised by it)."""
    return f"{hotline}:{external_no}" if external_no else None


def province_ref(task_id):
    """A province task's id as the case keeps it (a task fetched again is recognised by it)."""
    return f"province:{int(task_id)}"


def province_task_of(external_ref):
    """The province task id a case was made from (its ``external_ref``), or None."""
    prefix, _sep, number = (external_ref or "").partition(":")
    return int(number) if prefix == "province" and number.isdigit() else None


def open311_ref(key_pk, fixmystreet_id):
    return f"o311:{key_pk}:{fixmystreet_id}"[:80] if fixmystreet_id else None
