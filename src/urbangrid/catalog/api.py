"""Catalogue and responsibility-list API (mounted under /api/v1/; auth is the API's global auth)."""
from datetime import date

from django.db.models import Count, Q
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from urbangrid.core.schemas import ErrorOut
from urbangrid.grids.locator import OutsideManagedArea

from .crosswalk import counterparts
from .models import CatalogClass, CatalogVersion, CrosswalkEntry
from .responsibility import NoResponsibleUnit, resolve

router = Router(tags=["catalog"])
Kind = CatalogClass.Kind


class VersionOut(Schema):
    code: str
    name: str
    standard: str
    effective_date: date | None
    is_current: bool
    base: str | None = Field(None, description="the national version a local list extends")
    code_length: int
    component_count: int
    event_count: int

    @staticmethod
    def resolve_base(obj):
        return obj.base.code if obj.base_id else None


class ClassOut(Schema):
    version: str
    kind: Kind
    major_code: str
    major_name: str
    code: str
    name: str
    plain_name: str
    code_inferred: bool
    component_code: str | None
    is_local_extension: bool
    active: bool


class CounterpartOut(Schema):
    version: str
    kind: Kind
    code: str
    name: str
    relation: str
    verified: bool


class ClassDetailOut(ClassOut):
    description: str
    counterparts: list[CounterpartOut]


class ClassPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ClassOut]


class UnitOut(Schema):
    id: int
    code: str
    name: str


class TimeLimitOut(Schema):
    value: float
    unit: str
    label: str


class ResolveOut(Schema):
    unit: UnitOut
    urgency: str
    time_limit: TimeLimitOut | None
    filing_standard: str
    closing_standard: str
    rule_id: int | None
    fallback: bool
    explanation: str
    unit_grid_code: str
    community_code: str


def _class_out(c):
    return {"version": c.version.code, "kind": c.kind, "major_code": c.major_code, "major_name": c.major_name, "code": c.code,
            "name": c.name, "plain_name": c.plain_name, "code_inferred": c.code_inferred, "component_code": c.component_code,
            "is_local_extension": c.is_local_extension, "active": c.active}


def _get_class(version, code, kind):
    """One class by version and code; a 2026 code can be both a component and a matter, so ask for ``kind`` then."""
    found = list(CatalogClass.objects.filter(version__code=version, code=code, **({"kind": kind} if kind else {}))
                 .select_related("version", "component"))
    if not found:
        raise HttpError(404, _("版本%(v)s中没有小类%(code)s") % {"v": version, "code": code})
    if len(found) > 1:
        raise HttpError(400, _("代码%(code)s在该版本中既是部件又是事项，请指定 kind") % {"code": code})
    return found[0]


@router.get("/catalog/versions", response=list[VersionOut], summary="Catalogue versions")
def list_versions(request):
    qs = CatalogVersion.objects.select_related("base").annotate(
        component_count=Count("classes", filter=Q(classes__kind=Kind.COMPONENT)),
        event_count=Count("classes", filter=Q(classes__kind=Kind.EVENT)))
    return list(qs)


@router.get("/catalog/classes", response=ClassPage, summary="Classes, filtered and paginated")
def list_classes(request, version: str | None = None, kind: Kind | None = None, q: str | None = None, major: str | None = None,
                 limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=10**9)):
    qs = CatalogClass.objects.select_related("version", "component").order_by("version__code", "kind", "code")
    if version:
        qs = qs.filter(version__code=version)
    if kind:
        qs = qs.filter(kind=kind)
    if major:
        qs = qs.filter(major_code=major)
    if q:
        qs = qs.filter(Q(code__startswith=q) | Q(name__icontains=q) | Q(plain_name__icontains=q))
    return {"count": qs.count(), "limit": limit, "offset": offset, "items": [_class_out(c) for c in qs[offset:offset + limit]]}


@router.get("/catalog/classes/{version}/{code}", response={200: ClassDetailOut, 400: ErrorOut, 404: ErrorOut},
            summary="One class with its crosswalk counterparts")
def get_class(request, version: str, code: str, kind: Kind | None = None):
    c = _get_class(version, code, kind)
    entries = CrosswalkEntry.objects.filter(Q(old_class=c) | Q(new_class=c)).select_related(
        "old_class__version", "new_class__version")
    others = []
    for e in entries:
        other = e.new_class if e.old_class_id == c.pk else e.old_class
        if other is not None:
            others.append({"version": other.version.code, "kind": other.kind, "code": other.code, "name": other.name,
                           "relation": e.relation, "verified": e.verified})
    return {**_class_out(c), "description": c.description, "counterparts": others}


@router.get("/responsibility/resolve", response={200: ResolveOut, 400: ErrorOut, 404: ErrorOut, 422: ErrorOut},
            summary="Who handles this class at this point (responsibility list, then 属地兜底)")
def resolve_responsibility(request, version: str, code: str, lon: float = Query(..., ge=-180, le=180),
                           lat: float = Query(..., ge=-90, le=90), kind: Kind | None = None, filing_condition: str | None = None):
    c = _get_class(version, code, kind)
    try:
        r = resolve(c, lon, lat, filing_condition)
    except OutsideManagedArea as exc:
        return Status(422, {"detail": str(exc), "code": "outside_managed_area"})
    except ValueError as exc:  # NaN and the like, which the range checks let through
        return Status(422, {"detail": str(exc), "code": "bad_coordinates"})
    except NoResponsibleUnit as exc:
        return Status(422, {"detail": str(exc), "code": "no_responsible_unit"})
    limit = None
    if r.time_limit_value is not None:
        limit = {"value": float(r.time_limit_value), "unit": r.time_limit_unit, "label": r.rule.time_limit_display}
    return {
        "unit": {"id": r.unit.pk, "code": r.unit.code, "name": r.unit.name}, "urgency": r.urgency, "time_limit": limit,
        "filing_standard": r.filing_standard, "closing_standard": r.closing_standard,
        "rule_id": r.rule.pk if r.rule else None, "fallback": r.fallback, "explanation": r.explanation,
        "unit_grid_code": r.location.unit_grid_code, "community_code": r.location.community_code,
    }


# --- 跨版本统计: the cases of a period counted under one catalogue's classes -----------------------------------
