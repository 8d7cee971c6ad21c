"""Geography API: grids as GeoJSON, regions, road segments, point → grid lookup."""
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from urbangrid.core.schemas import ErrorOut
from urbangrid.grids.locator import OutsideManagedArea, locator
from urbangrid.grids.models import Region, ResponsibilityGrid, RoadSegment, UnitGrid
from urbangrid.org.access import api_require

from .card import card_data

router = Router(tags=["grids"])


class Feature(Schema):
    type: str = "Feature"
    id: str
    geometry: dict | None
    properties: dict


class FeatureCollection(Schema):
    type: str = "FeatureCollection"
    features: list[Feature]
    total: int = Field(..., description="features matching the filters (before limit/offset)")


class RegionOut(Schema):
    id: int
    code: str
    name: str
    level: str
    parent_code: str | None


class LocationOut(Schema):
    lon: float
    lat: float
    unit_grid_code: str
    responsibility_grid_code: str | None
    responsibility_grid_name: str | None
    community_code: str
    community_name: str
    street_code: str | None
    street_name: str | None
    district_code: str | None
    district_name: str | None
    road_segment_code: str | None
    road_segment_name: str | None
    road_distance_m: float | None


class BBoxFilter(Schema):
    bbox: str | None = Field(None, description="min_lon,min_lat,max_lon,max_lat")
    limit: int = Field(500, ge=1, le=5000)
    offset: int = Field(0, ge=0, le=10**9)  # beyond a database integer is a 422, not a 500


def _bbox_q(bbox):
    if not bbox:
        return Q()
    try:
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in bbox.split(","))
    except ValueError:
        raise HttpError(422, _("bbox 应为 4 个以逗号分隔的数字：最小经度,最小纬度,最大经度,最大纬度")) from None
    if min_lon > max_lon or min_lat > max_lat:
        raise HttpError(422, _("bbox 的最小值不能大于最大值"))
    return Q(max_lon__gte=min_lon, min_lon__lte=max_lon, max_lat__gte=min_lat, min_lat__lte=max_lat)


def _rgrid_feature(g):
    return {
        "id": g.code, "geometry": g.geometry,
        "properties": {"layer": "responsibility_grid", "code": g.code, "name": g.name, "region_code": g.region.code,
                       "area_m2": round(g.area_m2, 1), "unit_grid_count": getattr(g, "n_cells", None)},
    }


@router.get("/grids", response=FeatureCollection, summary="Responsibility grids (责任网格) as GeoJSON")
def list_responsibility_grids(request, filters: Query[BBoxFilter]):
    api_require(request, "reference.view")
    qs = ResponsibilityGrid.objects.select_related("region").filter(_bbox_q(filters.bbox)).order_by("code")
    total = qs.count()
    rows = qs[filters.offset: filters.offset + filters.limit]
    return {"features": [_rgrid_feature(g) for g in rows], "total": total}


@router.get("/grids/{code}", response={200: Feature, 404: ErrorOut}, summary="One responsibility grid with its 六定 card data")
def get_responsibility_grid(request, code: str):
    api_require(request, "reference.view")
    g = get_object_or_404(ResponsibilityGrid.objects.select_related("region"), code=code)
    feature = _rgrid_feature(g)

    feature["properties"]["card"] = card_data(g)  # no phones here: the persons API gives them by org/privacy.py
    return feature


@router.get("/unit-grids", response=FeatureCollection, summary="Unit grids (单元网格) as GeoJSON")
def list_unit_grids(request, filters: Query[BBoxFilter], responsibility_grid: str | None = None, community: str | None = None):
    api_require(request, "reference.view")
    qs = UnitGrid.objects.select_related("community", "responsibility_grid").filter(_bbox_q(filters.bbox)).order_by("code")
    if responsibility_grid:
        qs = qs.filter(responsibility_grid__code=responsibility_grid)
    if community:
        qs = qs.filter(community__code=community)
    total = qs.count()
    features = [
        {"id": u.code, "geometry": u.geometry,
         "properties": {"layer": "unit_grid", "code": u.code, "community_code": u.community.code,
                        "responsibility_grid_code": u.responsibility_grid.code if u.responsibility_grid else None,
                        "management_level": u.management_level, "area_m2": round(u.area_m2, 1)}}
        for u in qs[filters.offset: filters.offset + filters.limit]
    ]
    return {"features": features, "total": total}


@router.get("/road-segments", response=FeatureCollection, summary="Road segments (路段) as GeoJSON")
def list_road_segments(request, filters: Query[BBoxFilter]):
    api_require(request, "reference.view")
    qs = RoadSegment.objects.filter(_bbox_q(filters.bbox)).prefetch_related("grids", "party_organizations").order_by("code")
    total = qs.count()
    features = [
        {"id": s.code, "geometry": s.geometry,
         "properties": {"layer": "road_segment", "code": s.code, "name": s.name, "road_class": s.road_class,
                        "length_m": round(s.length_m, 1), "grids": [g.code for g in s.grids.all()],
                        "party_organizations": [p.code for p in s.party_organizations.all()]}}
        for s in qs[filters.offset: filters.offset + filters.limit]
    ]
    return {"features": features, "total": total}


@router.get("/regions", response=list[RegionOut], summary="Region tree (行政区划)")
def list_regions(request, level: Region.Level | None = None, parent: str | None = None):
    api_require(request, "reference.view")
    qs = Region.objects.select_related("parent").order_by("code")
    if level:
        qs = qs.filter(level=level)
    if parent:
        qs = qs.filter(parent__code=parent)
    return [{"id": r.pk, "code": r.code, "name": r.name, "level": r.level, "parent_code": r.parent.code if r.parent else None} for r in qs]


@router.get("/locate", response={200: LocationOut, 422: ErrorOut}, summary="Which grid, community, street, district and road a point is in")
def locate(request, lon: float, lat: float):
    api_require(request, "reference.view")
    try:
        loc = locator.locate(lon, lat)
    except OutsideManagedArea as exc:
        return Status(422, {"detail": str(exc), "code": "outside_managed_area"})
    except ValueError as exc:
        return Status(422, {"detail": str(exc), "code": "invalid_coordinates"})
    return loc.as_dict()
