"""Geocoding API: address text → ranked candidates, point → address words (the actor authenticated and allowed to
see reference data, like ``/locate``)."""
from ninja import Field, Query, Router, Schema, Status

from urbangrid.core.schemas import ErrorOut
from urbangrid.org.access import api_require

from .geocoder import MAX_TEXT, GeocodeInputError, geocoder

router = Router(tags=["gazetteer"])


class CandidateOut(Schema):
    lon: float
    lat: float
    score: float = Field(..., description="0–1; road and community candidates are weighed down (0.6, 0.5)")
    precision: str = Field(..., description="doorplate, landmark, intersection, road or community")
    label: str
    confident: bool = Field(..., description="the best candidate only: a point precise and certain enough to place a case")
    unit_grid: str | None = None
    responsibility_grid: str | None = None
    community: str | None = None


class GeocodeOut(Schema):
    query: str
    candidates: list[CandidateOut]


class GeocodeQuery(Schema):
    q: str = Field(..., min_length=1, max_length=MAX_TEXT, description="address text, e.g. 黄山路与金寨路交叉口东北角")
    limit: int = Field(5, ge=1, le=20)


class ReverseQuery(Schema):
    lon: float = Field(..., ge=-180, le=180)
    lat: float = Field(..., ge=-90, le=90)


class ReverseOut(Schema):
    lon: float
    lat: float
    address: str | None = Field(None, description="路名 + 门牌/标志物 + 方位; null far from every road and landmark")
    road: str | None = None
    number: int | None = None
    intersection: list[str] | None = None
    landmark: str | None = None
    distance_m: float | None = None


@router.get("/geocode", response={200: GeocodeOut, 422: ErrorOut}, summary="Address text → ranked candidates (地理编码)")
def geocode(request, params: Query[GeocodeQuery]):
    api_require(request, "reference.view")
    try:
        found = geocoder.geocode(params.q, limit=params.limit)
    except GeocodeInputError as exc:
        return Status(422, {"detail": str(exc), "code": "invalid_address"})
    return {"query": params.q, "candidates": [c.as_dict() for c in found]}


@router.get("/reverse-geocode", response={200: ReverseOut, 422: ErrorOut}, summary="Point → 路名 + 门牌/标志物 + 方位")
def reverse_geocode(request, params: Query[ReverseQuery]):
    api_require(request, "reference.view")
    try:
        found = geocoder.reverse(params.lon, params.lat)
    except GeocodeInputError as exc:
        return Status(422, {"detail": str(exc), "code": "invalid_coordinates"})
    return {"lon": params.lon, "lat": params.lat, **(found or {})}
