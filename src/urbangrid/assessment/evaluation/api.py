"""综合评价 API: units (部门), positions (岗位) and regions (区域) for a period.

Bounded cost: a period longer than ``URBANGRID_EVALUATION_MAX_DAYS`` days is a 422 naming the fields
(``{"detail", "code": "invalid_period", "fields": {"from": …, "to": …}}``); nothing is tallied in a request,
and an answer says whether it counted every day of its period (``complete``, ``missing_days``)."""
from datetime import date

from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from urbangrid.cases.services import Invalid
from urbangrid.org.access import api_require

from ..periods import PeriodError, parse_period
from .evaluate import evaluation_for, tracking_gaps

router = Router(tags=["assessment"])
PERM = "assessment.view"


class PeriodQuery(Schema):
    period: str | None = Field(None, description="day | week | month | quarter | year (with date; default: this month)")
    date: str | None = Field(None, description="a day inside the period, YYYY-MM-DD (default today)")
    from_: str | None = Field(None, alias="from", description="custom period: first day, YYYY-MM-DD")
    to: str | None = Field(None, description="custom period: last day (included), YYYY-MM-DD")


class RegionQuery(PeriodQuery):
    level: str = Field("district", description="grid | responsibility_grid | community | street | district")


class PeriodOut(Schema):
    kind: str
    first_day: date
    last_day: date
    start: str
    end: str


class UnitRow(Schema):
    unit_code: str
    unit_name: str
    filed: int = Field(description="立案数: distinct cases dispatched to the unit")
    closed: int = Field(description="结案数: distinct cases the unit fed back")
    due_closed: int = Field(description="应结案数: 结案 + cases whose handling clock of the unit was overdue in the period "
                                        "and not stopped by its end")
    close_rate: float | None
    handled: int = Field(description="处置数: feed_back events")
    ontime_handled: int
    due_handled: int = Field(description="应处置数: 处置数 + overdue handling clocks")
    overdue_unhandled: int = Field(description="超期未处置: handling clocks overdue in the period (in every period they "
                                               "stay so) and not stopped by its end")
    ontime_handle_rate: float | None
    rework: int = Field(description="返工数: failed checks")
    rework_rate: float | None
    filed_score: float | None
    close_rate_score: float | None
    ontime_handle_rate_score: float | None
    rework_rate_score: float | None
    score: float | None = Field(description="综合指标值; null without activity in the period (无数据)")
    grade: str = Field(description="A–E; empty without activity in the period")
    color: str
    has_data: bool = Field(True, description="false: no activity in the period (无数据): no score, grade or rank")
    rank: int | None = Field(None, description="rank by score among the subjects with activity (ties share it); null without")


class PositionRow(Schema):
    role: str
    role_label: str
    person_id: int
    employee_no: str
    name: str
    indicators: dict[str, float | int | None]
    scores: dict[str, float]
    score: float | None = Field(description="综合指标值; null without activity in the period (无数据)")
    grade: str = Field(description="A–E; empty without activity in the period")
    color: str
    has_data: bool = Field(True, description="false: no activity in the period (无数据): no score, grade or rank")
    rank: int | None = Field(None, description="rank by score among the subjects with activity (ties share it); null without")


class RegionRow(Schema):
    level: str
    code: str
    name: str
    region_class: str
    unit_grids: int
    verified_reports: int
    filed: int
    filed_per_grid: float
    report_rate: float | None
    closed: int
    due_closed: int = Field(description="应结案数: 结案 + cases whose handling was overdue in the period and that were "
                                        "neither closed nor voided in it (fed back or not)")
    close_rate: float | None
    ontime_closed: int
    ontime_close_rate: float | None
    avg_handle_hours: float | None
    self_handled_closed: int = Field(0, description="自行处置结案数: closures of cases reported as self-handled; in the "
                                                    "other figures only if the scheme counts them (self_handled_in_regions)")
    report_rate_score: float | None
    filed_score: float | None
    close_rate_score: float | None
    ontime_close_rate_score: float | None
    score: float | None = Field(description="综合指标值; null without activity in the period (无数据)")
    grade: str = Field(description="A–E; empty without activity in the period")
    color: str
    has_data: bool = Field(True, description="false: no activity in the period (无数据): no score, grade or rank")
    rank: int | None = Field(None, description="rank by score among the subjects with activity (ties share it); null without")


class TallyStatus(Schema):
    complete: bool = Field(True, description="every day of the period is counted (false: see missing_days)")
    missing_days: list[date] = Field([], description="days whose daily tallies are not ready yet: the figures leave "
                                                     "them out (the worker tallies them within minutes)")


class UnitsOut(TallyStatus):
    period: PeriodOut
    items: list[UnitRow]


class PositionsOut(TallyStatus):
    period: PeriodOut
    items: list[PositionRow]


class RegionsOut(TallyStatus):
    period: PeriodOut
    level: str
    items: list[RegionRow]


class PeriodInvalid(Invalid):
    """A period that cannot be evaluated: 422 with the parameters to fix in ``fields``."""


def period_invalid(exc):
    return PeriodInvalid(str(exc), "invalid_period", exc.fields)


def _period(q):
    try:
        return parse_period(q.period, q.date, q.from_, q.to)
    except PeriodError as exc:
        raise period_invalid(exc) from None


def _out(p):
    return {"kind": p.kind, "first_day": p.first_day, "last_day": p.last_day, "start": p.start.isoformat(),
            "end": p.end.isoformat()}


def _evaluation(p):
    with tracking_gaps() as gaps:
        ev = evaluation_for(p.start, p.end)
    return ev, gaps.as_dict()


# The operation ids are the ones these endpoints had as urbangrid.assessment.api (ninja derives them from the
# module), so API clients generated before the move keep working.
@router.get("/evaluation/units", response=UnitsOut, summary="部门评价 (units) for a period",
            operation_id="urbangrid_assessment_api_evaluation_units")
def evaluation_units(request, q: Query[PeriodQuery]):
    api_require(request, PERM)
    p = _period(q)
    ev, status = _evaluation(p)
    return {"period": _out(p), "items": ev.units(), **status}


@router.get("/evaluation/positions", response=PositionsOut, summary="岗位评价 (巡查员/受理员/值班长/派遣员) for a period",
            operation_id="urbangrid_assessment_api_evaluation_positions")
def evaluation_positions(request, q: Query[PeriodQuery]):
    api_require(request, PERM)
    p = _period(q)
    ev, status = _evaluation(p)
    return {"period": _out(p), "items": ev.positions(), **status}


@router.get("/evaluation/regions", response=RegionsOut, summary="区域评价 for a period at one level",
            operation_id="urbangrid_assessment_api_evaluation_regions")
def evaluation_regions(request, q: Query[RegionQuery]):
    api_require(request, PERM)
    p = _period(q)
    ev, status = _evaluation(p)
    try:
        items = ev.regions(q.level)
    except PeriodError as exc:
        raise HttpError(422, str(exc)) from None
    return {"period": _out(p), "level": q.level, "items": items, **status}
