"""Case states (案件状态) and the vocabularies the workflow table uses."""
from django.db import models
from django.utils.translation import gettext_lazy as _

from urbangrid.catalog.models import Urgency  # noqa: F401  (one vocabulary with the responsibility list)


class State(models.TextChoices):
    # An address the gazetteer could not place with confidence (Open311, hotline): the centre places it first.
    UNLOCATED = "unlocated", _("待定位")
    REPORTED = "reported", _("待受理")
    VERIFYING = "verifying", _("待核实")
    PENDING_FILING = "pending_filing", _("待立案")
    PENDING_DISPATCH = "pending_dispatch", _("待派遣")
    PENDING_DISTRICT_DISPATCH = "pending_district_dispatch", _("待二级派遣")
    HANDLING = "handling", _("处置中")
    RETURN_REQUESTED = "return_requested", _("回退待审")
    EXTENSION_REQUESTED = "extension_requested", _("延期待审")
    SUSPENSION_REQUESTED = "suspension_requested", _("挂账待审")
    SUSPENDED = "suspended", _("挂账")
    FED_BACK = "fed_back", _("待发核查")
    CHECKING = "checking", _("核查中")
    PENDING_CLOSE = "pending_close", _("待结案")
    CLOSED = "closed", _("已结案")
    NOT_FILED = "not_filed", _("不予立案")
    VOIDED = "voided", _("作废")
    MERGED = "merged", _("已合并")


TERMINAL = frozenset({State.CLOSED, State.NOT_FILED, State.VOIDED, State.MERGED})
OPEN = frozenset(set(State) - TERMINAL)
# States in which the responsible unit holds the case and the handling clock is running (or paused).
IN_HANDLING = frozenset({State.HANDLING, State.RETURN_REQUESTED, State.EXTENSION_REQUESTED,
                         State.SUSPENSION_REQUESTED, State.SUSPENDED})


class Stage(models.TextChoices):
    """The clock a case is on (each step of the loop has its own time limit)."""

    LOCATE = "locate", _("定位")
    ACCEPT = "accept", _("受理")
    VERIFY = "verify", _("核实")
    FILE = "file", _("立案")
    DISPATCH = "dispatch", _("派遣")
    SECOND_DISPATCH = "second_dispatch", _("二级派遣")
    HANDLE = "handle", _("处置")
    SEND_CHECK = "send_check", _("发核查")
    CHECK = "check", _("核查")
    CLOSE = "close", _("结案")


class Source(models.TextChoices):
    INSPECTOR = "inspector", _("巡查员上报")
    PUBLIC_WEB = "public_web", _("公众举报（网页）")
    PUBLIC_APP = "public_app", _("公众举报（APP）")
    HOTLINE_12345 = "hotline_12345", _("12345 热线")
    HOTLINE_12319 = "hotline_12319", _("12319 热线")
    VIDEO = "video", _("视频监控")
    MEDIA = "media", _("媒体曝光")
    LEADER = "leader", _("领导交办")
    OPEN311 = "open311", _("外部系统（Open311）")
    # A task the province assigned (省级交办任务: 督办, 专项任务), fetched by the exchange (exchange/inbox.py).
    PROVINCE = "province", _("上级交办")


# Reports from these channels are verified on site by the grid's inspector before filing.
NEEDS_VERIFICATION = frozenset({Source.PUBLIC_WEB, Source.PUBLIC_APP, Source.HOTLINE_12345, Source.HOTLINE_12319,
                                Source.MEDIA, Source.OPEN311})


class ArchiveType(models.TextChoices):
    NORMAL = "normal", _("正常结案")
    OVERDUE = "overdue", _("超时结案")
    ERROR = "error", _("差错结案")
    SPECIAL = "special", _("特殊结案")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASIC = "basic", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")


class PhotoKind(models.TextChoices):
    BEFORE = "before", _("处置前")
    AFTER = "after", _("处置后")
    VERIFY = "verify", _("核实")
    CHECK = "check", _("核查")


# 公开状态: what a citizen reads for each state (tracking page, Open311 status_notes, hotline answers).
PLAIN = {
    State.UNLOCATED: _("已收到，正在根据您提供的地址确定位置"),
    State.REPORTED: _("已收到，等待受理"), State.VERIFYING: _("已受理，正在现场核实"),
    State.PENDING_FILING: _("已核实，等待立案"), State.PENDING_DISPATCH: _("已立案，正在派遣"),
    State.PENDING_DISTRICT_DISPATCH: _("已立案，正在派遣"), State.HANDLING: _("责任单位正在处理"),
    State.RETURN_REQUESTED: _("责任单位正在处理"), State.EXTENSION_REQUESTED: _("责任单位正在处理"),
    State.SUSPENSION_REQUESTED: _("责任单位正在处理"), State.SUSPENDED: _("需协调解决，已列入问题台账"),
    State.FED_BACK: _("已处理，等待核查"), State.CHECKING: _("已处理，正在核查"), State.PENDING_CLOSE: _("已核查，即将办结"),
    State.CLOSED: _("已办结"), State.NOT_FILED: _("经核实不属于受理范围，未立案"), State.VOIDED: _("已撤销"),
    State.MERGED: _("与其他市民反映的同一问题合并处理"),
}


def plain_status(case):
    """A case's state in the citizen's plain words."""
    return PLAIN.get(case.state, case.get_state_display())
