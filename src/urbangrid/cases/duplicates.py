"""Duplicates (same class, nearby, still open) and recurrence (反复: same class, same place, after closure).

Radius and windows are settings, so a bureau tunes them to its streets: URBANGRID_DUPLICATE_RADIUS_M (50),
URBANGRID_DUPLICATE_DAYS (7), URBANGRID_RECURRENCE_RADIUS_M (30), URBANGRID_RECURRENCE_DAYS (30).
"""
import math
from datetime import timedelta

from django.conf import settings

from .fastload import load_case
from .models import Case
from .states import OPEN, State

M_PER_DEG_LAT = 110_574.0


def _box(qs, lon, lat, radius_m):
    """``qs`` narrowed to the bounding box of the circle (served by the class/lat/lon index)."""
    dlat = radius_m / M_PER_DEG_LAT
    dlon = radius_m / (111_320.0 * max(0.01, math.cos(math.radians(lat))))
    return qs.filter(lat__gte=lat - dlat, lat__lte=lat + dlat, lon__gte=lon - dlon, lon__lte=lon + dlon)


def _distance(lon1, lat1, lon2, lat2):
    """Metres between two nearby points (equirectangular: exact enough within a few hundred metres)."""
    return math.hypot((lon1 - lon2) * 111_320.0 * math.cos(math.radians(lat2)), (lat1 - lat2) * M_PER_DEG_LAT)


def _nearby(qs, lon, lat, radius_m):
    """Cases of ``qs`` within ``radius_m`` metres: an indexed bounding box, then the exact distance."""
    out = []
    for case in _box(qs, lon, lat, radius_m):
        d = _distance(case.lon, case.lat, lon, lat)
        if d <= radius_m:
            case.distance_m = round(d, 1)
            out.append(case)
    return sorted(out, key=lambda c: c.distance_m)


def similar_open(catalog_class_id, lon, lat, at, exclude_pk=None, limit=10):
    """Open cases of the same class nearby, reported within the window: candidates to merge."""
    since = at - timedelta(days=settings.URBANGRID_DUPLICATE_DAYS)
    qs = Case.objects.filter(catalog_class_id=catalog_class_id, state__in=OPEN - {State.MERGED}, created_at__gte=since)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return _nearby(qs, lon, lat, settings.URBANGRID_DUPLICATE_RADIUS_M)[:limit]


def previous_closed(catalog_class_id, lon, lat, at):
    """The latest case of the same class at the same place closed within the recurrence window, or None."""
    since = at - timedelta(days=settings.URBANGRID_RECURRENCE_DAYS)
    radius = settings.URBANGRID_RECURRENCE_RADIUS_M
    qs = Case.objects.filter(catalog_class_id=catalog_class_id, state=State.CLOSED, closed_at__gte=since, closed_at__lte=at)
    # Every report asks this, and a hot spot may have many closed cases: read three columns, latest
    # closure first, and load the one case that is within the radius.
    rows = _box(qs, lon, lat, radius).order_by("-closed_at", "-pk").values_list("number", "lon", "lat")
    first = list(rows[:20])  # nearly always decides it; the box's corners are the only misses
    for batch in (first, rows[20:] if len(first) == 20 else ()):
        for number, case_lon, case_lat in batch:
            if _distance(case_lon, case_lat, lon, lat) <= radius:
                return load_case(number)  # the precompiled read of the transition path (fastload.py)
    return None
