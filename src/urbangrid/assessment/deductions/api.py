"""JSON API for the deduction standard, deductions (倒扣分) and appeals (申诉). Thin: the rules live in
``rules.py``; errors come back as ``{detail, code, fields}`` with the field names."""
from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from urbangrid.catalog.models import CatalogClass
from urbangrid.core.excel import ImportErrors, uploaded_path, xlsx_download
from urbangrid.core.schemas import ErrorOut
from urbangrid.org.access import actor_of, api_require

from ..models import Deduction, InspectionItem
from ..periods import PeriodError, parse_period
from . import rules as svc
from .scoring import target_scores

router = Router(tags=["deductions"])
RELATED = ("item", "assessor", "grid", "road_segment", "unit", "party_organization", "person", "place_grid", "case",
           "appealed_by", "unit_grid")


class InspectionItemOut(Schema):
    code: str
    name: str
    standard: str
    aspect: str
    aspect_label: str
    default_points: float
    max_points: float
    max_times: int | None
    count_period: str
    target_types: list[str]
    earn_back: bool
    earn_back_ratio: float
    earn_back_points: float | None
    catalog_version: str | None
    class_code: str | None
    active: bool


class ItemImportOut(Schema):
    created: int
    updated: int


class ItemImportErrorOut(Schema):
    detail: str
    errors: list[dict]


class DeductionIn(Schema):
    item: str = Field(..., description="inspection item code (检查项目编号)")
    lon: float
    lat: float
    target_type: str = Field(..., description="grid | segment | unit | party | person")
    target: str | None = Field(None, description="code of the grid, segment, unit or party organisation, or a person's "
                                                 "employee number; empty for grid/segment: the one at the place")
    points: str | None = Field(None, description="default: the item's default points; at most its maximum")
    note: str = ""
    address: str = ""
    occurred_at: datetime | None = Field(None, description="when the problem was found (default now)")
    open_case: bool = Field(False, description="also report a case for it through the normal case service")
    catalog_version: str | None = Field(None, description="case class when the item names none")
    class_code: str | None = None
    idempotency_key: str | None = Field(None, max_length=80, description="a retry with the same key returns the first record")


class DeductionEventOut(Schema):
    action: str
    action_label: str
    from_state: str
    to_state: str
    person: str | None
    role: str
    note: str
    at: datetime


class DeductionOut(Schema):
    id: int
    state: str
    state_label: str
    item_code: str
    item_name: str
    points: float
    earn_back_points: float
    earned_back: float
    target_type: str
    target_id: int
    target_code: str
    target_name: str
    lon: float
    lat: float
    address: str
    unit_grid_code: str
    place_grid_code: str | None
    note: str
    occurred_at: datetime
    recorded_at: datetime
    assessor: str | None
    case_number: str | None
    appeal_deadline: datetime
    appeal_reason: str
    appealed_at: datetime | None
    review_note: str
    reviewed_at: datetime | None
    photos: list[str]
    url: str


class DeductionDetailOut(DeductionOut):
    events: list[DeductionEventOut]
    can_appeal: bool
    can_review: bool


class DeductionPage(Schema):
    total: int
    items: list[DeductionOut]


class DeductionFilter(Schema):
    mine: bool = Field(False, description="only the deductions I recorded")
    against_me: bool = Field(False, description="only the deductions against targets I answer for")
    state: str | None = Field(None, description="recorded | appealed | upheld | cancelled")
    target_type: str | None = None
    target: str | None = Field(None, description="target code / employee number (with target_type)")
    period: str | None = Field(None, description="day | week | month | quarter | year (with day)")
    day: str | None = Field(None, description="a day inside the period, YYYY-MM-DD")
    from_: str | None = Field(None, alias="from")
    to: str | None = None
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10**9)  # beyond a database integer is a 422, not a 500


class DeductionAppealIn(Schema):
    reason: str


class DeductionReviewIn(Schema):
    decision: str = Field(..., description="uphold | cancel")
    note: str


class DeductionPeriodOut(Schema):
    kind: str
    first_day: str
    last_day: str


class DeductionScoreRow(Schema):
    target_type: str
    target_id: int
    name: str
    deductions: int
    points: float
    earned_back: float
    score: float
    pending: int


class DeductionScoresOut(Schema):
    period: DeductionPeriodOut
    items: list[DeductionScoreRow]


def item_out(it):
    cls = it.catalog_class
    return {"code": it.code, "name": it.name, "standard": it.standard, "aspect": it.aspect,
            "aspect_label": it.get_aspect_display(), "default_points": float(it.default_points),
            "max_points": float(it.max_points), "max_times": it.max_times, "count_period": it.count_period,
            "target_types": it.target_types, "earn_back": it.earn_back, "earn_back_ratio": float(it.earn_back_ratio),
            "earn_back_points": None if it.earn_back_points is None else float(it.earn_back_points),
            "catalog_version": cls.version.code if cls else None, "class_code": cls.code if cls else None,
            "active": it.active}


def deduction_out(d):
    return {
        "id": d.pk, "state": d.state, "state_label": d.get_state_display(), "item_code": d.item.code,
        "item_name": d.item.name, "points": float(d.points), "earn_back_points": float(d.earn_back_points),
        "earned_back": float(svc.earned_back(d)), "target_type": d.target_type, "target_id": d.target_id,
        "target_code": d.target_code, "target_name": svc.target_label(d.target_type, d.target), "lon": d.lon,
        "lat": d.lat, "address": d.address, "unit_grid_code": d.unit_grid.code,
        "place_grid_code": d.place_grid.code if d.place_grid_id else None, "note": d.note, "occurred_at": d.occurred_at,
        "recorded_at": d.recorded_at, "assessor": d.assessor.name if d.assessor_id else None,
        "case_number": d.case.number if d.case_id else None, "appeal_deadline": d.appeal_deadline,
        "appeal_reason": d.appeal_reason, "appealed_at": d.appealed_at, "review_note": d.review_note,
        "reviewed_at": d.reviewed_at,
        "photos": [reverse("assessment:deduction_photo", args=[d.pk, p.pk]) for p in d.photos.all()],
        "url": reverse("assessment:deduction_detail", args=[d.pk]),
    }


def detail_out(actor, d):
    events = [{"action": e.action, "action_label": svc.action_label(e.action), "from_state": e.from_state, "to_state": e.to_state,
               "person": e.person.name if e.person_id else None, "role": e.role, "note": e.note, "at": e.at}
              for e in d.events.select_related("person")]
    return {**deduction_out(d), "events": events,
            "can_appeal": d.state == Deduction.State.RECORDED and timezone.now() <= d.appeal_deadline and svc.can_appeal(actor, d),
            "can_review": d.state == Deduction.State.APPEALED and actor.can("assessment.review_appeal")
            and not svc.reviewer_conflict(actor, d)}


class PeriodInvalid(svc.DeductionError):
    status = 422


def period_from(period, day, date_from, date_to):
    try:
        return parse_period(period, day, date_from, date_to, max_days=None)  # a list filter: evaluates nothing
    except PeriodError as exc:
        field = "from" if (date_from or date_to) else ("day" if day else "period")
        raise PeriodInvalid(str(exc), "invalid_period", {field: str(exc)}) from None


def filtered(actor, f):
    """The visible deductions narrowed by the list filters (shared with the pages)."""
    qs = svc.visible_deductions(actor)
    if f.mine:
        qs = qs.filter(assessor_id=actor.person.pk if actor.person else -1)
    if f.against_me:
        qs = qs.filter(svc.answerable_q(actor))
    if f.state:
        if f.state not in Deduction.State.values:
            raise svc.Invalid(_("未知的状态"), "invalid_input", {"state": _("状态应为：%(v)s") % {"v": "、".join(Deduction.State.values)}})
        qs = qs.filter(state=f.state)
    if f.target_type:
        if f.target_type not in svc.TARGET_FIELD:
            raise svc.Invalid(_("未知的考核对象类型"), "invalid_input", {"target_type": _("未知的考核对象类型")})
        qs = qs.filter(target_type=f.target_type)
        if f.target:
            obj = svc.find_target(f.target_type, f.target)
            if obj is None:
                raise svc.Invalid(_("考核对象不存在"), "invalid_input", {"target": _("考核对象 %(t)s 不存在") % {"t": f.target}})
            qs = qs.filter(**{svc.TARGET_FIELD[f.target_type]: obj})
    if f.period or f.day or f.from_ or f.to:
        p = period_from(f.period, f.day, f.from_, f.to)
        qs = qs.filter(occurred_at__gte=p.start, occurred_at__lt=p.end)
    return qs


# --- the deduction standard ----------------------------------------------------------------------

@router.get("/inspection-items", response=list[InspectionItemOut], summary="The deduction standard (检查项目/扣分标准)")
def list_items(request, include_inactive: bool = False):
    qs = InspectionItem.objects.select_related("catalog_class__version").order_by("code")
    if not include_inactive:
        qs = qs.filter(active=True)
    return [item_out(it) for it in qs]


@router.get("/inspection-items/export", response={200: None}, summary="The deduction standard as .xlsx")
def export_items(request):
    api_require(request, "reference.manage")
    return xlsx_download(svc.export_items, "inspection-items.xlsx")


@router.post("/inspection-items/import", response={200: ItemImportOut, 400: ItemImportErrorOut, 403: ErrorOut},
             summary="Create or update items from .xlsx (all rows checked first; a bad file changes nothing)")
def import_items(request, file: File[UploadedFile]):
    api_require(request, "reference.manage")
    with uploaded_path(file) as path:
        try:
            r = svc.import_items(path)
        except ImportErrors as exc:
            return Status(400, {"detail": _("共 %(n)s 处错误，未导入任何数据") % {"n": len(exc.errors)},
                                "errors": [{"row": e.row, "column": e.column, "message": e.message} for e in exc.errors]})
    return {"created": r.created, "updated": r.updated}


# --- deductions -----------------------------------------------------------------------------------

def _load(pk):
    return Deduction.objects.select_related(*RELATED).prefetch_related("photos").get(pk=pk)


@router.post("/deductions", response={201: DeductionDetailOut, 200: DeductionDetailOut, 400: ErrorOut, 401: ErrorOut,
                                      403: ErrorOut, 422: ErrorOut},
             summary="Record a deduction (倒扣分), multipart with photos; a repeated idempotency key returns the first")
def create_deduction(request, payload: Form[DeductionIn], photos: File[list[UploadedFile]] = None):
    actor = actor_of(request)
    key = payload.idempotency_key or request.headers.get("Idempotency-Key")
    cls = None
    if payload.class_code:

        cls = CatalogClass.objects.filter(version__code=payload.catalog_version or "local-demo", code=payload.class_code).first()
        if cls is None:
            raise svc.Invalid(_("未知的问题类别"), "invalid_input", {"class_code": _("未知的问题类别")})
    occurred = payload.occurred_at
    if occurred is not None and timezone.is_naive(occurred):
        occurred = timezone.make_aware(occurred)
    d, created = svc.record(actor, item=payload.item, lon=payload.lon, lat=payload.lat, target_type=payload.target_type,
                            target=payload.target, points=payload.points, note=payload.note, address=payload.address,
                            occurred_at=occurred, open_case=payload.open_case, catalog_class=cls, photos=photos or [],
                            idempotency_key=key)
    return Status(201 if created else 200, detail_out(actor, _load(d.pk)))


@router.get("/deductions", response={200: DeductionPage, 400: ErrorOut, 422: ErrorOut},
            summary="Deductions in my scope (mine, against me, by state, target or period)")
def list_deductions(request, f: Query[DeductionFilter]):
    actor = actor_of(request)
    qs = filtered(actor, f).select_related(*RELATED).prefetch_related("photos").order_by("-occurred_at", "-pk")
    total = qs.count()
    return {"total": total, "items": [deduction_out(d) for d in qs[f.offset:f.offset + f.limit]]}


@router.get("/deductions/{deduction_id}", response={200: DeductionDetailOut, 404: ErrorOut},
            summary="One deduction with its history")
def get_deduction(request, deduction_id: int):
    actor = actor_of(request)
    d = svc.get_visible(actor, deduction_id)
    return detail_out(actor, _load(d.pk))


@router.post("/deductions/{deduction_id}/appeal", response={200: DeductionDetailOut, 400: ErrorOut, 403: ErrorOut,
                                                            404: ErrorOut, 409: ErrorOut},
             summary="Appeal (申诉) by the target's people, within the appeal days, once")
def appeal_deduction(request, deduction_id: int, payload: DeductionAppealIn):
    actor = actor_of(request)
    d = svc.appeal(actor, deduction_id, payload.reason)
    return detail_out(actor, _load(d.pk))


@router.post("/deductions/{deduction_id}/review", response={200: DeductionDetailOut, 400: ErrorOut, 403: ErrorOut,
                                                            404: ErrorOut, 409: ErrorOut},
             summary="Review an appeal: uphold (维持) or cancel (撤销) with a note")
def review_deduction(request, deduction_id: int, payload: DeductionReviewIn):
    actor = actor_of(request)
    d = svc.review(actor, deduction_id, payload.decision, payload.note)
    return detail_out(actor, _load(d.pk))


class DeductionScoreQuery(Schema):
    period: str | None = Field(None, description="day | week | month | quarter | year (default month)")
    day: str | None = Field(None, description="a day inside the period, YYYY-MM-DD (default today)")
    from_: str | None = Field(None, alias="from", description="custom period: first day")
    to: str | None = Field(None, description="custom period: last day (included)")
    target_type: str | None = Field(None, description="grid | segment | unit | party | person")


def scores_for(actor, p, target_type):
    """Scores of the period; people without the whole view get the targets they answer for only."""
    if target_type and target_type not in svc.TARGET_FIELD:
        raise svc.Invalid(_("未知的考核对象类型"), "invalid_input", {"target_type": _("未知的考核对象类型")})
    rows = target_scores(p.start, p.end, target_type or None)
    if not svc.sees_all(actor):
        mine = set()
        for tt, col in svc.TARGET_FIELD.items():
            mine |= {(tt, i) for i in svc.visible_deductions(actor).filter(target_type=tt).values_list(f"{col}_id", flat=True)}
        rows = [r for r in rows if (r["target_type"], r["target_id"]) in mine]
    return rows


@router.get("/deduction-scores", response={200: DeductionScoresOut, 400: ErrorOut, 403: ErrorOut, 422: ErrorOut},
            summary="Each target's score for a period: 100 less counted deduction points plus earn-back")
def deduction_scores(request, q: Query[DeductionScoreQuery]):
    actor = actor_of(request)
    if not (actor.can("assessment.view") or actor.can("assessment.deduct") or actor.can("assessment.review_appeal")):
        api_require(request, "assessment.view")
    p = period_from(q.period, q.day, q.from_, q.to)
    return {"period": {"kind": p.kind, "first_day": p.first_day.isoformat(), "last_day": p.last_day.isoformat()},
            "items": scores_for(actor, p, q.target_type)}
