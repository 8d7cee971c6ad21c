"""The demo build, in order: geography, units, party, people, catalogue and responsibility list, logins."""
import time

from django.utils.translation import gettext as _

from urbangrid.assessment.deductions.rules import ensure_default_standard
from urbangrid.assessment.models import Deduction
from urbangrid.cases.models import Case, CaseEvent
from urbangrid.cases.states import OPEN
from urbangrid.catalog.models import CatalogClass, Component, ResponsibilityRule
from urbangrid.core.bulk import analyze
from urbangrid.fabricate.demo.deductions import build_deductions
from urbangrid.fabricate.demo.gazetteer import build_gazetteer
from urbangrid.gazetteer.models import Doorplate, Intersection, Landmark, Road
from urbangrid.grids.locator import locator
from urbangrid.grids.models import Region, ResponsibilityGrid, RoadSegment, UnitGrid
from urbangrid.org.models import PartyOrganization, Person, RoleAssignment, Unit
from urbangrid.worktime.seeding import seed_calendar

from .city import build_city
from .history import RECEIVED, build_history
from .responsibility import switch_to_current
from .logins import build_logins
from .responsibility import build_responsibility


class _Steps:
    """Step lines of the build, each followed by the time it took."""

    def __init__(self, log):
        self.log, self.started = log, None

    def __call__(self, label):
        self.done()
        self.log(label)
        self.started = time.perf_counter()

    def done(self):
        if self.started is not None:
            self.log(_("  完成，用时 %(s).1f 秒") % {"s": time.perf_counter() - self.started})
            self.started = None


def build_demo(seed=2024, log=print, history=False, cases=None):
    step = _Steps(log)
    step(_("· 网格与路段、单位、党组织、人员 …"))
    city = build_city(seed)
    locator.invalidate()
    step(_("· 地址库（道路、门牌、交叉口、标志物）…"))

    build_gazetteer(seed)
    step(_("· 工作日历 …"))
    seed_calendar(range(2023, 2028))
    step(_("· 责任清单与部件 …"))
    build_responsibility(seed, city)

    ensure_default_standard()
    logins, path = build_logins(seed)
    history_summary = {}
    if history:

        step(_("· 案件历史（约三年）…"))
        started = time.perf_counter()
        history_summary = build_history(seed=seed, received=cases or RECEIVED, log=log)
        history_summary["seconds"] = round(time.perf_counter() - started, 1)
    # The history is filed under the document's lists; the city now files under GB/T 47678.5-2026.
    step(_("· 切换到现行分类标准（GB/T 47678.5-2026）…"))
    switched = switch_to_current()

    if history:  # the council's deductions walk the same years as the case history (and link to its cases)
        step(_("· 倒扣分与申诉 …"))
        build_deductions(seed=seed, log=log)
        # the evaluation reads daily tallies and requests never build them: tally the history now (only the
        # days not ready yet, so a rerun costs little), so that the first evaluation after the build is fast
        from urbangrid.assessment.evaluation.tallies import build_missing

        step(_("· 日统计（综合评价）…"))
        build_missing()
    step.done()

    analyze()  # the planner's statistics for everything just loaded (PostgreSQL)
    summary = {
        _("责任网格"): ResponsibilityGrid.objects.count(),
        _("单元网格"): UnitGrid.objects.count(),
        _("路段"): RoadSegment.objects.count(),
        _("区/街道/社区"): "/".join(str(Region.objects.filter(level=lv).count()) for lv in ("district", "street", "community")),
        _("单位"): Unit.objects.count(),
        _("党总支/党支部/党小组"): "/".join(str(PartyOrganization.objects.filter(level=lv).count()) for lv in ("general_branch", "branch", "group")),
        _("党员"): Person.objects.filter(is_party_member=True).count(),
        _("人员"): Person.objects.count(),
        _("角色分配"): RoleAssignment.objects.count(),
        _("事件大类/小类"): _majors_minors("local-demo", "event"),
        _("部件大类/小类"): _majors_minors("cjt214-2007", "component"),
        _("现行分类（事项/部件小类）"): "/".join(str(CatalogClass.objects.filter(version__is_current=True, kind=k).count())
                                        for k in ("event", "component")),
        _("分类切换：在办案件重新归类/待人工判断"): f"{len(switched.cases_mapped)}/{len(switched.cases_pending)}",
        _("责任清单规则"): ResponsibilityRule.objects.count(),
        _("部件"): Component.objects.count(),
        _("道路/门牌/交叉口/标志物"): _gazetteer_counts(),
        _("倒扣分"): Deduction.objects.count(),
    }
    if history_summary:

        summary[_("案件（受理/办结/在办）")] = "/".join(str(n) for n in (
            Case.objects.count(), Case.objects.exclude(state__in=OPEN).count(), Case.objects.filter(state__in=OPEN).count()))
        summary[_("在办中：生成时仍在流转")] = history_summary.get("n_in_flight", 0)
        summary[_("流转记录")] = CaseEvent.objects.count()
        if "seconds" in history_summary:
            summary[_("案件历史生成用时(秒)")] = history_summary["seconds"]
    return summary, logins, path


def _majors_minors(version, kind):
    qs = CatalogClass.objects.filter(version__code=version, kind=kind)
    return f"{qs.values('major_code').distinct().count()}/{qs.count()}"


def _gazetteer_counts():
    return "/".join(str(m.objects.count()) for m in (Road, Doorplate, Intersection, Landmark))
