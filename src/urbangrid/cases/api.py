"""Cases API: create (with photos and an idempotency key), every transition, lists, to-do, detail."""
from datetime import date, datetime
from datetime import timezone as dt_timezone

from django.db.models import CharField
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from urbangrid.catalog.crosswalk import RecountInputError
from urbangrid.catalog.models import CatalogClass
from urbangrid.core.bounds import EARLIEST, LATEST
from urbangrid.core.localcache import LocalCache
from urbangrid.core.schemas import ErrorOut
from urbangrid.grids.models import Region, ResponsibilityGrid, RoadSegment, UnitGrid
from urbangrid.org.access import actor_of, api_require
from urbangrid.org.models import Unit

from . import engine, intake, listing, queries, services
from .duplicates import similar_open
from .indicators import INDICATORS
from .models import Case, CaseEvent
from .recount import recount_request
from .states import Source, plain_status
from .workflow import ACTIONS, TABLE, Action, rows_that, takes_public_note

router = Router(tags=["cases"])


class CaseOut(Schema):
    number: str
    state: str
    state_label: str
    source: str
    catalog_version: str
    class_code: str
    class_name: str
    kind: str
    urgency: str
    description: str
    lon: float | None = Field(..., description="null while the case is 待定位 (state unlocated)")
    lat: float | None
    address: str
    component_identifier: str = Field("", description="部件标识码 of the asset a component case concerns (empty for events)")
    unit_grid_code: str | None
    responsibility_grid_code: str | None
    district_code: str | None
    road_segment_code: str | None
    current_unit_code: str | None
    current_unit_name: str | None
    stage: str
    stage_deadline: datetime | None
    light: str
    deadline_unconfirmed: bool = Field(False, description="the deadline was counted over a day no official holiday "
                                       "notice confirms yet (statutory holidays only): 期限待确认")
    version: int
    created_at: datetime
    closed_at: datetime | None
    archive_type: str
    is_overdue: bool
    self_handled: bool
    is_supervised: bool
    needs_verification: bool
    duplicate_of: str | None
    rework_count: int
    return_count: int
    extension_count: int
    suspension_count: int
    supervision_count: int
    reopen_count: int
    satisfaction: str
    recurrence_of: str | None
    external_ref: str | None


class SimilarOut(Schema):
    number: str
    state: str
    distance_m: float
    created_at: datetime


class HotlineOrderIn(Schema):
    hotline: str = Field(..., pattern="^(12345|12319)$")
    external_no: str = Field(..., min_length=1, max_length=60, description="the hotline's own work-order number")
    catalog_version: str
    class_code: str
    kind: str | None = None
    lon: float | None = Field(None, description="WGS84; with lat, or leave both out and give the address")
    lat: float | None = None
    address: str = Field("", max_length=256, description="without lon/lat: located through the gazetteer when it is "
                                                         "confident, otherwise the case waits 待定位 for the centre")
    description: str = Field(..., min_length=1, max_length=4000)
    caller_name: str = Field("", max_length=50)
    caller_phone: str = Field("", max_length=50)
    component_identifier: str = Field("", max_length=40, description="部件标识码 of the asset a component order concerns")


class HotlineOutcomeOut(Schema):
    hotline: str
    external_no: str
    number: str
    state: str
    status_text: str
    closed_at: datetime | None
    result: str
    satisfaction: str
    created: bool = False


class EventOut(Schema):
    seq: int
    action: str
    action_label: str
    from_state: str
    to_state: str
    at: datetime
    actor: str | None
    role: str
    unit_code: str | None
    note: str
    deadline: datetime | None
    data: dict
    photos: list[str]


class PhotoOut(Schema):
    kind: str
    url: str
    width: int
    height: int


class ActionOut(Schema):
    action: str
    label: str
    requires: list[str]
    photos: str


class CaseDetailOut(CaseOut):
    events: list[EventOut]
    photos: list[PhotoOut]
    actions: list[ActionOut]


class CasePage(Schema):
    total: int
    items: list[CaseOut]


class CaseIn(Schema):
    catalog_version: str = Field(..., description="e.g. local-demo, cjt214-2007, gbt47678.5-2026")
    class_code: str
    kind: str | None = Field(None, description="component or event; needed only when a code exists as both")
    lon: float
    lat: float
    description: str = Field(..., max_length=4000)
    source: Source = Source.INSPECTOR
    address: str = ""
    self_handled: bool = False
    component_identifier: str = ""
    reporter_name: str = ""
    reporter_contact: str = ""
    idempotency_key: str | None = Field(None, max_length=80, description="the client's id of this submission; a retry returns the same case")
    observed_at: str | None = Field(None, description=(
        "when the reporter saw the problem (ISO 8601 with an offset), e.g. a report queued offline; it is the report "
        "time when at most URBANGRID_OBSERVED_MAX_AGE_HOURS old and not ahead of the server by more than "
        "URBANGRID_OBSERVED_FUTURE_SKEW_SECONDS, else the received time is used and the report event says why"))


class ActionIn(Schema):
    opinion: str = ""
    reason: str = ""
    reason_code: str = ""
    public_note: str = Field("", description="the answer to the citizen (公开答复), the only words Open311 and the "
                                             "tracking page show (opinion and reason are internal); only on "
                                             + ", ".join(rows_that(takes_public_note)))
    unit: str | None = Field(None, description="unit code (dispatch, second-level dispatch)")
    district: str | None = Field(None, description="district code: dispatch to its command sub-centre")
    extra_value: str | None = Field(None, description="extension: amount")
    extra_unit: str | None = Field(None, description="extension: working_hours, working_days or calendar_hours")
    confirmed: bool = True
    satisfaction: str | None = None
    master: str | None = Field(None, description="merge: the master case number")
    person: str | None = Field(None, description="assign: employee number of a handler (处置人员) of the case's unit")
    point: str | None = Field(None, description="locate (定位): the point as \"lon,lat\" (WGS84); or lon and lat")
    lon: str | None = Field(None, description="locate: longitude (WGS84)")
    lat: str | None = Field(None, description="locate: latitude (WGS84)")
    candidate: str | None = Field(None, description="locate: the label of the gazetteer candidate chosen, if one was")
    expected_version: int | None = Field(None, description="the case version the client saw; 409 if it moved on")


class CaseFilter(Schema):
    state: list[str] | None = Field(None)
    light: str | None = Field(None, pattern="^(red|yellow|green)$")
    grid: str | None = None
    unit: str | None = None
    district: str | None = None
    class_code: str | None = None
    source: str | None = None
    date_from: date | None = Field(None, ge=EARLIEST, le=LATEST)
    date_to: date | None = Field(None, ge=EARLIEST, le=LATEST)
    date_field: str = Field("created_at", pattern="^(created_at|filed_at|dispatched_at|closed_at)$",
                            description="the date date_from/date_to apply to")
    catalog_version: str | None = None
    archive_type: str | None = Field(None, pattern="^(normal|overdue)$")
    rework: bool = Field(False, description="only cases sent back for rework at least once")
    self_handled: bool | None = Field(None, description="true: only 自行处置 cases; false: none of them")
    kpi: str | None = Field(None, pattern="^(" + "|".join(INDICATORS) + ")$",
                            description="a figure's key (cases.indicators): the cases it counts over the dates")
    q: str | None = None
    sort: str = Field("-reported", pattern="^-?(deadline|reported)$",
                      description="deadline / -deadline (running deadline), reported / -reported (report time)")
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10**9)  # beyond a database integer is a 422, not a 500


def _ref(case, name, related, attr):
    """A related object's code or name: from the ``with_refs`` annotation when the row has it, else the relation."""
    if hasattr(case, name):
        return getattr(case, name)
    return getattr(getattr(case, related), attr) if getattr(case, f"{related}_id") else None


def case_out(case, now=None):
    now = now or timezone.now()
    return {
        "number": case.number, "state": case.state, "state_label": str(case.get_state_display()), "source": case.source,
        "catalog_version": case.catalog_version, "class_code": case.class_code,
        "class_name": _ref(case, "ref_class_name", "catalog_class", "name"),
        "kind": case.kind, "urgency": case.urgency, "description": case.description, "lon": case.lon, "lat": case.lat,
        "address": case.address, "component_identifier": case.component_identifier, "unit_grid_code": _ref(case, "ref_unit_grid_code", "unit_grid", "code"),
        "responsibility_grid_code": _ref(case, "ref_responsibility_grid_code", "responsibility_grid", "code"),
        "district_code": _ref(case, "ref_district_code", "district", "code"),
        "road_segment_code": _ref(case, "ref_road_segment_code", "road_segment", "code"),
        "current_unit_code": _ref(case, "ref_unit_code", "current_unit", "code"),
        "current_unit_name": _ref(case, "ref_unit_name", "current_unit", "name"),
        "stage": case.stage, "stage_deadline": case.stage_deadline, "light": engine.light(case, now),
        "deadline_unconfirmed": services.deadline_unconfirmed(case), "version": case.version,
        "created_at": case.created_at, "closed_at": case.closed_at, "archive_type": case.archive_type,
        "is_overdue": case.is_overdue, "self_handled": case.self_handled, "is_supervised": case.is_supervised,
        "needs_verification": case.needs_verification,
        "duplicate_of": _ref(case, "ref_duplicate_of_number", "duplicate_of", "number"),
        "rework_count": case.rework_count, "return_count": case.return_count, "extension_count": case.extension_count,
        "suspension_count": case.suspension_count, "supervision_count": case.supervision_count,
        "reopen_count": case.reopen_count, "satisfaction": case.satisfaction,
        "recurrence_of": _ref(case, "ref_recurrence_of_number", "recurrence_of", "number"), "external_ref": case.external_ref,
    }


# The codes and names case_out shows, each as a scalar subquery on the related row's primary key.
# select_related would load the related rows whole (grid and district polygons included) for one code
# each; nine joins (F("unit_grid__code") …) cost PostgreSQL's planner ~40 ms per query searching join
# orders, against ~1.5 ms for the subqueries (docs/benchmarks.md, 2026-11-28 (4)). Written as SQL
# because Django's Subquery costs ~0.3 ms each to compile per request; the names come from the models.
def _code_of(model, fk, column):
    outer, inner = Case._meta, model._meta
    sql = (f'SELECT ref."{inner.get_field(column).column}" FROM "{inner.db_table}" ref '
           f'WHERE ref."{inner.pk.column}" = "{outer.db_table}"."{outer.get_field(fk).column}"')
    return RawSQL(sql, (), output_field=CharField())


def _refs():
    return {
        "ref_class_name": _code_of(CatalogClass, "catalog_class", "name"),
        "ref_unit_grid_code": _code_of(UnitGrid, "unit_grid", "code"),
        "ref_responsibility_grid_code": _code_of(ResponsibilityGrid, "responsibility_grid", "code"),
        "ref_district_code": _code_of(Region, "district", "code"),
        "ref_road_segment_code": _code_of(RoadSegment, "road_segment", "code"),
        "ref_unit_code": _code_of(Unit, "current_unit", "code"),
        "ref_unit_name": _code_of(Unit, "current_unit", "name"),
        "ref_duplicate_of_number": _code_of(Case, "duplicate_of", "number"),
        "ref_recurrence_of_number": _code_of(Case, "recurrence_of", "number"),
    }


REFS = _refs()
# What the case page shows of its places beside REFS (region names; Case.district_centre is a Region too).
PLACE_REFS = {f"ref_{fk}_name": _code_of(Region, fk, "name") for fk in ("district", "street", "community", "district_centre")}


def with_refs(qs):
    return qs.annotate(**REFS)


def detail_out(actor, case):
    out = case_out(case)
    photos = list(case.photos.all())
    by_event = {}
    for p in photos:
        by_event.setdefault(p.event_id, []).append(reverse("cases:photo", args=[p.pk]))
    out["events"] = [
        {"seq": e.seq, "action": e.action, "action_label": str(TABLE[e.action].label) if e.action in TABLE else e.action,
         "from_state": e.from_state, "to_state": e.to_state, "at": e.at,
         "actor": e.actor_person.name if e.actor_person_id else None, "role": e.role,
         "unit_code": e.unit.code if e.unit_id else None, "note": e.note, "deadline": e.deadline, "data": e.data,
         "photos": by_event.get(e.pk, [])}
        for e in CaseEvent.objects.filter(case=case).select_related("actor_person", "unit").order_by("seq")
    ]
    out["photos"] = [{"kind": p.kind, "url": reverse("cases:photo", args=[p.pk]), "width": p.width, "height": p.height} for p in photos]
    out["actions"] = [{"action": t.action, "label": str(t.label), "requires": list(t.requires), "photos": t.photos}
                      for t in services.available_actions(actor, case)]
    return out


def _filter(qs, f):
    """The query's filter (cases/listing.py: the same filter as the web's lists)."""
    return listing.narrow(qs, listing.CaseFilter.from_data(f.dict()))


def _page(qs, f):
    total = qs.count()
    now = timezone.now()
    rows = listing.ordered(with_refs(qs), f.sort)[f.offset: f.offset + f.limit]
    return {"total": total, "items": [case_out(c, now) for c in rows]}


# Classes by (version, code, kind), per process (see core/localcache.py): every report names one, and
# an edit shows up here at once, in other processes within URBANGRID_RESPONSIBILITY_TTL seconds (the
# responsibility list caches its answers per class for as long).
CLASSES = LocalCache("catalog-classes", ("catalog.CatalogClass", "catalog.CatalogVersion"), "URBANGRID_RESPONSIBILITY_TTL", 5.0)


def _load_class(version, code, kind):
    qs = CatalogClass.objects.select_related("version").filter(version__code=version, code=code, active=True)
    if kind:
        qs = qs.filter(kind=kind)
    found = list(qs[:2])
    return found[0] if len(found) == 1 else found or None  # None (unknown) is not kept


def _class_for(payload):
    found = CLASSES.get((payload.catalog_version, payload.class_code, payload.kind or ""),
                        lambda: _load_class(payload.catalog_version, payload.class_code, payload.kind))
    if not isinstance(found, CatalogClass):
        field_error = _("未知的问题类别") if not found else _("该代码同时是部件和事项，请指明 kind")
        raise services.Invalid(field_error, "invalid_input", {"class_code": field_error})
    return found


def _new_case_out(case):
    """case_out of a case this request has just created, without reading it back: the grid, district
    and road codes are those of the location the case was placed by, the class is the one it was
    reported under, and a new case has no unit, no master and at most the recurrence it was linked to."""
    loc = case.location  # None for a case 待定位
    case.ref_unit_grid_code, case.ref_responsibility_grid_code = (loc.unit_grid_code, loc.responsibility_grid_code) if loc else (None, None)
    case.ref_district_code, case.ref_road_segment_code = (loc.district_code, loc.road_segment_code) if loc else (None, None)
    out = case_out(case)
    # Times as the database gives them back (UTC): the clock computes deadlines in the city's zone.
    return {k: v.astimezone(dt_timezone.utc) if isinstance(v, datetime) else v for k, v in out.items()}


@router.post("/cases", response={201: CaseOut, 200: CaseOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
             summary="Report a case (信息收集), multipart with photos; a repeated idempotency key returns the same case")
def create_case(request, payload: Form[CaseIn], photos: File[list[UploadedFile]] = None,
                after_photos: File[list[UploadedFile]] = None):
    actor = actor_of(request)
    key = payload.idempotency_key or request.headers.get("Idempotency-Key")
    case, created = services.report(
        actor, catalog_class=_class_for(payload), lon=payload.lon, lat=payload.lat, description=payload.description,
        source=payload.source, address=payload.address, self_handled=payload.self_handled, photos=photos or [],
        after_photos=after_photos or [], idempotency_key=key, reporter_name=payload.reporter_name,
        reporter_contact=payload.reporter_contact, component_identifier=payload.component_identifier,
        observed_at=payload.observed_at,
    )
    if created:
        return Status(201, _new_case_out(case))
    case = with_refs(Case.objects.filter(pk=case.pk)).get()
    return Status(200, case_out(case))


@router.get("/cases", response=CasePage, summary="Cases in the actor's scope, filtered and paginated")
def list_cases(request, filters: Query[CaseFilter]):
    return _page(_filter(services.visible_cases(actor_of(request)), filters), filters)


@router.get("/cases/todo", response=CasePage, summary="What is waiting for me (待办), by my roles")
def my_tasks(request, filters: Query[CaseFilter]):
    return _page(_filter(queries.todo(actor_of(request)), filters), filters)


@router.get("/cases/{number}", response={200: CaseDetailOut, 404: ErrorOut}, summary="A case with its whole timeline and my actions")
def get_case(request, number: str):
    actor = actor_of(request)
    case = services.check_visible(actor, with_refs(Case.objects.filter(number=number)).first(), number)
    return detail_out(actor, case)


@router.get("/cases/{number}/dispatch-suggestion", response={200: dict, 404: ErrorOut},
            summary="Unit, urgency and deadline from the responsibility list, with the rule behind it")
def dispatch_suggestion(request, number: str):
    case = services.get_visible(actor_of(request), number)
    s = services.dispatch_suggestion(case)
    unit = s.pop("unit")
    s["unit_code"], s["unit_name"] = (unit.code, unit.name) if unit else (None, None)
    for key in ("time_limit_value",):
        if s.get(key) is not None:
            s[key] = str(s[key])
    if s.get("deadline_if_now"):
        s["deadline_if_now"] = s["deadline_if_now"].isoformat()
    return s


@router.post("/cases/{number}/actions/{action}",
             response={200: CaseDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
             summary="Take a workflow action (multipart; photos where the action needs them)")
def take_action(request, number: str, action: str, payload: Form[ActionIn], photos: File[list[UploadedFile]] = None):
    if action not in ACTIONS or action == Action.REPORT:
        raise services.NotFound(_("未知的操作 %(a)s") % {"a": action}, "unknown_action")
    actor = actor_of(request)
    inputs = payload.dict(exclude={"expected_version"})
    services.transition(actor, number, action, inputs, photos=photos or [], expected_version=payload.expected_version)
    case = with_refs(Case.objects.filter(number=number)).get()
    return detail_out(actor, case)


@router.get("/cases/{number}/similar", response={200: list[SimilarOut], 404: ErrorOut},
            summary="Open cases of the same class nearby (duplicate candidates to merge)")
def similar_cases(request, number: str):
    case = services.get_visible(actor_of(request), number)
    if case.lon is None:  # 待定位: nowhere yet
        return []
    return [{"number": c.number, "state": c.state, "distance_m": c.distance_m, "created_at": c.created_at}
            for c in similar_open(case.catalog_class_id, case.lon, case.lat, case.created_at, exclude_pk=case.pk)]


def _outcome(case, created=False):
    hotline, _sep, external_no = (case.external_ref or "").partition(":")
    result = (CaseEvent.objects.filter(case=case, action__in=[Action.FEED_BACK, Action.NOT_FILE, Action.VOID, Action.CLOSE]).order_by("-seq")
              .values_list("note", flat=True).first() or "")
    return {"hotline": hotline, "external_no": external_no, "number": case.number, "state": case.state,
            "status_text": str(plain_status(case)), "closed_at": case.closed_at, "result": result,
            "satisfaction": case.satisfaction, "created": created}


@router.post("/hotline/orders", response={201: HotlineOutcomeOut, 200: HotlineOutcomeOut, 403: ErrorOut, 422: ErrorOut},
             summary="Import a 12345/12319 work order (工单); a re-sent order with the same number is recognised")
def import_hotline_order(request, payload: HotlineOrderIn):
    actor = actor_of(request)
    cls = _class_for(payload)
    case, created = services.report(
        actor, catalog_class=cls, lon=payload.lon, lat=payload.lat, description=payload.description,
        source=Source.HOTLINE_12345 if payload.hotline == "12345" else Source.HOTLINE_12319, address=payload.address,
        reporter_name=payload.caller_name, reporter_contact=payload.caller_phone,
        external_ref=intake.hotline_ref(payload.hotline, payload.external_no), door=intake.HOTLINE,
        component_identifier=payload.component_identifier)
    return Status(201 if created else 200, _outcome(case, created))


@router.get("/hotline/orders/{hotline}/{external_no}", response={200: HotlineOutcomeOut, 404: ErrorOut},
            summary="The outcome of a hotline work order, by its own number")
def hotline_outcome(request, hotline: str, external_no: str):
    case = services.visible_cases(actor_of(request)).filter(external_ref=f"{hotline}:{external_no}").first()
    if case is None:
        raise services.NotFound(_("工单 %(n)s 不存在") % {"n": external_no}, "not_found")
    return _outcome(case)


# --- 跨版本统计 (cases/recount.py) ---------------------------------------------------------------------

class RecountQuery(Schema):
    version: str | None = Field(None, description="target catalogue version (with its local extensions); default: "
                                                  "the current national version")
    from_: str | None = Field(None, alias="from", description="first day of report, YYYY-MM-DD (default: all)")
    to: str | None = Field(None, description="last day of report (included), YYYY-MM-DD")
    kind: str | None = Field(None, description="component or event (default: both)")


class RecountClassOut(Schema):
    version: str
    kind: str
    code: str
    name: str


class RecountSourceOut(RecountClassOut):
    cases: int
    status: str = Field(description="mapped, or unverified (through a draft crosswalk row)")


class RecountRowOut(RecountClassOut):
    direct: int = Field(description="cases filed under this class")
    mapped: int = Field(description="cases filed under a class the crosswalk maps to this one")
    unverified: int = Field(description="of mapped: through a draft row not yet verified")
    total: int
    sources: list[RecountSourceOut]


class RecountPendingOut(RecountClassOut):
    cases: int
    status: str = Field(description="split (several counterparts, none chosen) or none (no counterpart)")
    candidates: list[RecountClassOut]


class RecountOut(Schema):
    versions: list[str]
    date_from: date | None
    date_to: date | None
    kind: str
    cases: int = Field(description="every case of the period: counted plus pending")
    counted: int
    rows: list[RecountRowOut]
    pending: list[RecountPendingOut]


def _class_ref(c):
    return {"version": c.version.code, "kind": c.kind, "code": c.code, "name": c.name}


@router.get("/catalog/recount", response=RecountOut, summary="Cases counted under one catalogue's classes (crosswalk)")
def catalog_recount(request, q: Query[RecountQuery]):
    api_require(request, "dashboard.view")
    try:
        r = recount_request(q.version, q.from_, q.to, q.kind)
    except RecountInputError as exc:
        raise services.Invalid("; ".join(exc.errors.values()), "invalid_input", exc.errors) from None
    return {
        "versions": [v.code for v in r.versions], "date_from": r.date_from, "date_to": r.date_to, "kind": r.kind,
        "cases": r.cases, "counted": r.counted,
        "rows": [{**_class_ref(x["target"]), "direct": x["direct"], "mapped": x["mapped"], "unverified": x["unverified"],
                  "total": x["total"], "sources": [{**_class_ref(c), "cases": n, "status": st} for c, n, st in x["sources"]]}
                 for x in r.rows],
        "pending": [{**_class_ref(p["source"]), "cases": p["n"], "status": p["status"],
                     "candidates": [_class_ref(c) for c in p["candidates"]]} for p in r.pending],
    }
