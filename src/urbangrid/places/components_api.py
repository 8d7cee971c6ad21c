"""Components (管理部件) API: list with filters, one asset with its history of cases, the map by bounding box.

Reads need ``reference.view`` like the grids and the catalogue; the history shows only the cases the actor may
see (``cases.services.visible_cases``). Mounted under /api/v1/.
"""
from datetime import date, datetime

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from urbangrid.catalog import components
from urbangrid.catalog.models import Component
from urbangrid.core.schemas import ErrorOut
from urbangrid.org.access import api_require

from .components import cases_of

router = Router(tags=["components"])
State = Component.State

RELATED = ("catalog_class__version", "unit_grid__responsibility_grid", "competent_unit", "owner_unit", "maintenance_unit")


class UnitRef(Schema):
    code: str
    name: str


class ComponentOut(Schema):
    identifier: str
    version: str = Field(..., description="catalogue version of the class, e.g. cjt214-2007")
    class_code: str
    class_name: str
    name: str
    state: State
    state_label: str
    lon: float
    lat: float
    unit_grid_code: str | None = Field(..., description="derived from the point; null outside the managed area")
    responsibility_grid_code: str | None
    competent_unit: UnitRef | None = Field(..., description="主管部门")
    owner_unit: UnitRef | None = Field(..., description="权属单位")
    maintenance_unit: UnitRef | None = Field(..., description="养护单位")
    initial_date: date | None
    changed_date: date | None
    data_source: str
    note: str


class ComponentPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ComponentOut]


class ComponentCaseOut(Schema):
    number: str
    state: str
    state_label: str
    class_code: str
    description: str
    created_at: datetime
    closed_at: datetime | None
    current_unit_code: str | None


class ComponentDetailOut(ComponentOut):
    case_count: int = Field(..., description="cases naming this identifier that the actor may see")
    cases: list[ComponentCaseOut] = Field(..., description=f"the newest of them, at most {components.HISTORY_LIMIT}")


class ComponentFeature(Schema):
    type: str = "Feature"
    id: str
    geometry: dict
    properties: dict


class ComponentMap(Schema):
    type: str = "FeatureCollection"
    features: list[ComponentFeature]
    total: int = Field(..., description="components in the box (before the limit)")
    truncated: bool


class ComponentFilter(Schema):
    version: str | None = Field(None, description="catalogue version code of the class")
    class_code: str | None = None
    state: State | None = None
    grid: str | None = Field(None, description="responsibility grid code (责任网格)")
    unit_grid: str | None = Field(None, description="unit grid code (单元网格)")
    region: str | None = Field(None, description="region code: city, district, street or community")
    q: str | None = Field(None, max_length=17, description="part of the identifier")


def _unit(u):
    return {"code": u.code, "name": u.name} if u is not None else None


def component_out(c):
    ug = c.unit_grid
    return {
        "identifier": c.identifier, "version": c.catalog_class.version.code, "class_code": c.catalog_class.code,
        "class_name": c.catalog_class.name, "name": c.name, "state": c.state, "state_label": str(c.get_state_display()),
        "lon": c.lon, "lat": c.lat, "unit_grid_code": ug.code if ug else None,
        "responsibility_grid_code": ug.responsibility_grid.code if ug and ug.responsibility_grid_id else None,
        "competent_unit": _unit(c.competent_unit), "owner_unit": _unit(c.owner_unit),
        "maintenance_unit": _unit(c.maintenance_unit), "initial_date": c.initial_date, "changed_date": c.changed_date,
        "data_source": c.data_source, "note": c.note,
    }


def _filtered(filters):
    qs = Component.objects.select_related(*RELATED).order_by("identifier")
    try:
        return components.search(qs, **filters.dict())
    except components.UnknownFilter as exc:
        raise HttpError(422, str(exc)) from None


@router.get("/components", response=ComponentPage, summary="Components (管理部件), filtered and paginated")
def list_components(request, filters: Query[ComponentFilter], limit: int = Query(50, ge=1, le=500),
                    offset: int = Query(0, ge=0, le=10**9)):
    api_require(request, "reference.view")
    qs = _filtered(filters)
    return {"count": qs.count(), "limit": limit, "offset": offset, "items": [component_out(c) for c in qs[offset:offset + limit]]}


@router.get("/components/map", response={200: ComponentMap, 400: ErrorOut},
            summary="Components in a bounding box as GeoJSON points (the maps' component layer)")
def components_map(request, filters: Query[ComponentFilter],
                   bbox: str = Query(..., description=f"min_lon,min_lat,max_lon,max_lat (WGS-84), each side at most "
                                                      f"{components.MAX_BBOX_DEG}°"),
                   limit: int = Query(components.MAP_DEFAULT_LIMIT, ge=1, le=components.MAP_MAX_LIMIT)):
    api_require(request, "reference.view")
    try:
        box = components.parse_bbox(bbox)
    except components.BadBBox as exc:
        raise HttpError(400, str(exc)) from None
    qs = components.in_bbox(_filtered(filters), box)
    rows = list(qs.values_list("identifier", "lon", "lat", "state", "name", "catalog_class__code", "catalog_class__name")
                [:limit + 1])
    truncated = len(rows) > limit
    total = qs.count() if truncated else len(rows)
    labels = dict(State.choices)
    features = [{"id": ident, "geometry": {"type": "Point", "coordinates": [lon, lat]},
                 "properties": {"identifier": ident, "state": state, "state_label": str(labels.get(state, state)),
                                "name": name, "class_code": code, "class_name": cname}}
                for ident, lon, lat, state, name, code, cname in rows[:limit]]
    return {"features": features, "total": total, "truncated": truncated}


@router.get("/components/{identifier}", response={200: ComponentDetailOut, 404: ErrorOut},
            summary="One component with its history of cases (those naming its identifier)")
def get_component(request, identifier: str):
    actor = api_require(request, "reference.view")
    c = Component.objects.select_related(*RELATED).filter(identifier=identifier).first()
    if c is None:
        raise HttpError(404, _("部件 %(id)s 不存在") % {"id": identifier})
    count, cases = cases_of(actor, c.identifier)
    history = [{"number": k.number, "state": k.state, "state_label": str(k.get_state_display()), "class_code": k.class_code,
                "description": k.description, "created_at": k.created_at, "closed_at": k.closed_at,
                "current_unit_code": k.current_unit.code if k.current_unit_id else None} for k in cases]
    return {**component_out(c), "case_count": count, "cases": history}
