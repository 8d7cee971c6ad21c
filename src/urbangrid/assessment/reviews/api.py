"""JSON API for the periodic reviews and the member / party roll-ups.

The reviews (``/reviews/daily`` … ``/reviews/yearly``) answer the same structure the pages render: summary
figures, sections (columns with their kinds, rows of cells with drill-down links) and chart data.
Members, party organisations and rankings have typed rows. Period parameters (and their bounds) as for the
evaluation API; every answer says whether its evaluations counted every day (``complete``, ``missing_days``).
"""
from datetime import date
from typing import Any

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from urbangrid.org.access import actor_of

from ..evaluation.api import PeriodQuery, TallyStatus, period_invalid
from ..evaluation.evaluate import tracking_gaps
from ..periods import PeriodError, parse_period
from . import base, members, periodic

router = Router(tags=["reviews"])


class ReviewPeriodOut(Schema):
    kind: str
    first_day: date
    last_day: date
    start: str
    end: str
    label: str


class ReviewColumnOut(Schema):
    key: str
    label: str
    kind: str = Field(description="text | int | float | rate (a fraction; 0.5 = 50%) | grade | light | mixed (see the row's kind)")


class ReviewRowOut(Schema):
    cells: dict[str, int | float | str | None] = Field(description="values by column key")
    links: dict[str, str] = Field(description="drill-down URLs by column key (the case list with filters, a case page)")
    color: str = Field(description="grade colour or light of the row")
    kind: str = Field(description="the kind of the row's values in 'mixed' columns (int or rate), else empty")
    has_data: bool = Field(True, description="false: the row's subject had no activity in the period (无数据): "
                                             "no score, grade or rank")


class ReviewSectionOut(Schema):
    key: str
    title: str
    note: str
    columns: list[ReviewColumnOut]
    rows: list[ReviewRowOut]


class ReviewSummaryOut(Schema):
    key: str
    label: str
    value: int | float | None
    kind: str
    link: str | None


class ReviewOut(TallyStatus):
    kind: str = Field(description="daily (日讲评) | weekly (周督查) | monthly (月总结) | quarterly (季调度) | yearly (年考核)")
    title: str
    period: ReviewPeriodOut
    generated_at: str | None
    summary: list[ReviewSummaryOut]
    sections: list[ReviewSectionOut]
    charts: dict[str, dict[str, Any]] = Field(description="chart data: categories + series, or pie data")
    partial: str = Field("", description="a period still running: up to which day (截至…日（本月进行中）); empty when finished")
    comparison: str = Field("", description="what the summary compares: the previous period, or its same span while this one runs")


class ReviewMemberRow(Schema):
    person_id: int
    employee_no: str
    name: str
    unit: str
    party_organization: str
    grids: str = Field(description="codes of the responsibility grids where the person holds a grid role")
    reports: int = Field(description="上报: report events by the person")
    verifications: int = Field(description="核实")
    checks: int = Field(description="核查 (passed and failed)")
    handled: int = Field(description="处置反馈: feed_back events by the person")
    timed: int = Field(description="verifications, checks and feedbacks whose clock the engine stopped")
    ontime: int
    ontime_rate: float | None
    grid_deductions: int
    grid_deduction_points: float
    personal_deduction_points: float
    satisfied: int
    basic: int
    dissatisfied: int
    satisfaction_rate: float | None = Field(description="(满意 + 基本满意) / all ratings in his grids")
    position_score: float | None
    pay_score: float | None = Field(description="绩效得分, see the members module for the formula; null without activity (无数据)")
    has_data: bool = True
    grade: str
    color: str


class ReviewMembersOut(TallyStatus):
    period: ReviewPeriodOut
    items: list[ReviewMemberRow]


class ReviewMemberOut(TallyStatus):
    period: ReviewPeriodOut
    record: ReviewMemberRow


class ReviewUnitScoreRow(Schema):
    unit_id: int | None
    code: str
    name: str
    eval_score: float | None
    deductions: int
    deduction_points: float
    deduction_score: float
    pay_score: float | None
    has_data: bool = True
    grade: str
    color: str


class ReviewScoresOut(TallyStatus):
    period: ReviewPeriodOut
    units: list[ReviewUnitScoreRow]
    persons: list[ReviewMemberRow]


class ReviewPartyRow(Schema):
    org_id: int
    code: str
    name: str
    level: str
    level_label: str
    parent: str
    grids: int
    segments: int
    grid_codes: str
    members: int
    filed: int
    closed: int
    due_closed: int
    close_rate: float | None
    ontime_closed: int
    ontime_close_rate: float | None
    segment_reports: int
    member_reports: int
    member_handled: int
    satisfaction_rate: float | None
    party_deduction_points: float
    grid_deduction_points: float
    region_score: float | None = Field(description="mean 区域评价 score of its grids with activity (null: none had any)")
    member_score: float | None = Field(description="mean pay score of its members with activity (null: none had any)")
    pay_score: float | None = Field(description="null when neither its grids nor its members had activity (无数据)")
    has_data: bool = True
    grade: str
    color: str


class ReviewPartyOut(TallyStatus):
    period: ReviewPeriodOut
    items: list[ReviewPartyRow]


class ReviewPartyQuery(PeriodQuery):
    level: str | None = Field(None, description="general_branch | branch | group (default: all)")


class ReviewRankQuery(PeriodQuery):
    dim: str = Field("unit", description="grid | unit | district | branch | position")


class ReviewRankRow(Schema):
    key: str
    rank: int | None = Field(description="among the subjects with activity; null without (无数据)")
    code: str
    name: str
    score: float | None
    grade: str
    color: str
    has_data: bool = True
    previous_rank: int | None
    rank_change: int | None = Field(description="places gained since the previous period (negative: lost)")
    previous_score: float | None
    score_change: float | None


class ReviewSeriesOut(Schema):
    name: str
    data: list[float | None]


class ReviewTrendOut(Schema):
    categories: list[str]
    series: list[ReviewSeriesOut]


class ReviewRankingsOut(TallyStatus):
    period: ReviewPeriodOut
    dimension: str
    rows: list[ReviewRankRow]
    grades: dict[str, int]
    trend: ReviewTrendOut


def _scope(request):
    scope = base.scope_of(actor_of(request))
    if scope.empty:
        raise HttpError(403, _("无权查看讲评与考核"))
    return scope


def _period(q, kind=None):
    try:
        if kind:
            return periodic.resolve_period(kind, q.period, q.date, q.from_, q.to)
        if not (q.period or q.date or q.from_ or q.to):
            return periodic.default_period("yearly")
        return parse_period(q.period, q.date, q.from_, q.to)
    except PeriodError as exc:
        raise period_invalid(exc) from None


class ReviewYearQuery(PeriodQuery):
    top: int | None = Field(None, description="N of the award candidates and of the bottom list (1–100, default 10)")


def _make(kind):
    def endpoint(request, q: Query[PeriodQuery]):
        scope = _scope(request)
        p = _period(q, kind)
        with tracking_gaps() as gaps:
            out = periodic.build(kind, p, scope).as_dict()
        return {**out, **gaps.as_dict()}

    def yearly_endpoint(request, q: Query[ReviewYearQuery]):
        scope = _scope(request)
        p = _period(q, kind)
        try:
            top = periodic.parse_top(q.top)
        except PeriodError as exc:
            raise HttpError(422, str(exc)) from None
        with tracking_gaps() as gaps:
            out = periodic.build(kind, p, scope, top_n=top).as_dict()
        return {**out, **gaps.as_dict()}

    if kind == "yearly":
        endpoint = yearly_endpoint

    endpoint.__name__ = f"review_{kind}"
    return endpoint


SUMMARIES = {
    "daily": "日讲评: the day's problems by grid and unit, open cases with lights, overdue list (default: yesterday)",
    "weekly": "周督查: the week's figures per district, street and unit; supervised cases; rework; deductions",
    "monthly": "月总结: evaluation summary, top classes, trend against the previous month",
    "quarterly": "季调度: units and districts month by month, hot spots, recurring problems, overdue backlog",
    "yearly": "年考核: unit and person score tables, grades, award candidates and bottom N",
}
for _kind in periodic.KINDS:
    router.get(f"/reviews/{_kind}", response=ReviewOut, summary=SUMMARIES[_kind], operation_id=f"review_{_kind}")(_make(_kind))


@router.get("/reviews/rankings", response=ReviewRankingsOut, summary="Rankings with the previous period, grades and the top five's trend")
def review_rankings(request, q: Query[ReviewRankQuery]):
    scope = _scope(request)
    p = _period(q) if (q.period or q.date or q.from_ or q.to) else parse_period("month")
    try:
        with tracking_gaps() as gaps:
            data = members.rankings(q.dim, p, scope)
    except PeriodError as exc:
        raise HttpError(422, str(exc)) from None
    return {"period": base.period_out(p), **data, **gaps.as_dict()}


@router.get("/reviews/scores", response=ReviewScoresOut, summary="Unit and person score tables for performance pay (绩效)")
def review_scores(request, q: Query[PeriodQuery]):
    scope = _scope(request)
    p = _period(q)
    with tracking_gaps() as gaps:
        tables = members.score_tables(p, scope)
    return {"period": base.period_out(p), **tables, **gaps.as_dict()}


@router.get("/members", response=ReviewMembersOut, summary="Party members' records for the democratic evaluation (民主评议)")
def member_records(request, q: Query[PeriodQuery]):
    scope = _scope(request)
    p = _period(q)
    with tracking_gaps() as gaps:
        items = members.member_records(p, scope)
    return {"period": base.period_out(p), "items": items, **gaps.as_dict()}


@router.get("/members/{person_id}", response=ReviewMemberOut, summary="One person's record for a period")
def member_record(request, person_id: int, q: Query[PeriodQuery]):
    scope = _scope(request)
    try:
        person = members.person_or_404(person_id)
    except LookupError:
        raise HttpError(404, _("人员 %(n)s 不存在") % {"n": person_id}) from None
    p = _period(q)
    with tracking_gaps() as gaps:
        rows = members.member_records(p, scope, party_members_only=False, person_id=person.pk)
    if not rows:
        raise HttpError(404, _("人员 %(n)s 不存在") % {"n": person_id})
    return {"period": base.period_out(p), "record": rows[0], **gaps.as_dict()}


def _party(request, q, code=None):
    scope = _scope(request)
    p = _period(q)
    if q.level and q.level not in ("general_branch", "branch", "group"):
        raise HttpError(422, _("党组织层级应为 general_branch、branch 或 group"))
    try:
        with tracking_gaps() as gaps:
            rows = members.party_rollups(p, scope, level=q.level, org_code=code)
    except LookupError:
        raise HttpError(404, _("党组织 %(c)s 不存在") % {"c": code}) from None
    return p, rows, gaps.as_dict()


@router.get("/party", response=ReviewPartyOut, summary="Party general branches, branches and groups rolled up from their grids and segments")
def party_rollups(request, q: Query[ReviewPartyQuery]):
    p, rows, status = _party(request, q)
    return {"period": base.period_out(p), "items": rows, **status}


@router.get("/party/{code}", response=ReviewPartyOut, summary="One party organisation's roll-up")
def party_rollup(request, code: str, q: Query[ReviewPartyQuery]):
    p, rows, status = _party(request, q, code)
    if not rows:
        raise HttpError(404, _("党组织 %(c)s 不存在") % {"c": code})
    return {"period": base.period_out(p), "items": rows, **status}
