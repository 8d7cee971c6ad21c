"""Duplicates (same class, nearby, still open) and recurrence (反复: same class, same place, after closure).

Radius and windows are settings, so a bureau tunes them to its streets: URBANGRID_DUPLICATE_RADIUS_M (50),
URBANGRID_DUPLICATE_DAYS (7), URBANGRID_RECURRENCE_RADIUS_M (30), URBANGRID_RECURRENCE_DAYS (30).
"""
import math
from datetime import timedelta

from django.conf import settings

from .models import Case
from .states import OPEN, State

M_PER_DEG_LAT = 110_574.0


def _setting(name, default):
    return getattr(settings, name, default)


def _nearby(qs, lon, lat, radius_m):
    """Cases of ``qs`` within ``radius_m`` metres: an indexed bounding box, then the exact distance."""
    dlat = radius_m / M_PER_DEG_LAT
    dlon = radius_m / (111_320.0 * max(0.01, math.cos(math.radians(lat))))
    rows = qs.filter(lat__gte=lat - dlat, lat__lte=lat + dlat, lon__gte=lon - dlon, lon__lte=lon + dlon)
    out = []
    for case in rows:
        d = math.hypot((case.lon - lon) * 111_320.0 * math.cos(math.radians(lat)), (case.lat - lat) * M_PER_DEG_LAT)
        if d <= radius_m:
            case.distance_m = round(d, 1)
            out.append(case)
    return sorted(out, key=lambda c: c.distance_m)


def similar_open(catalog_class_id, lon, lat, at, exclude_pk=None, limit=10):
    """Open cases of the same class nearby, reported within the window: candidates to merge."""
    since = at - timedelta(days=_setting("URBANGRID_DUPLICATE_DAYS", 7))
    qs = Case.objects.filter(catalog_class_id=catalog_class_id, state__in=OPEN - {State.MERGED}, created_at__gte=since)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return _nearby(qs, lon, lat, _setting("URBANGRID_DUPLICATE_RADIUS_M", 50))[:limit]


def previous_closed(catalog_class_id, lon, lat, at):
    """The latest case of the same class at the same place closed within the recurrence window, or None."""
    since = at - timedelta(days=_setting("URBANGRID_RECURRENCE_DAYS", 30))
    qs = Case.objects.filter(catalog_class_id=catalog_class_id, state=State.CLOSED, closed_at__gte=since, closed_at__lte=at)
    found = _nearby(qs, lon, lat, _setting("URBANGRID_RECURRENCE_RADIUS_M", 30))
    return max(found, key=lambda c: c.closed_at) if found else None
