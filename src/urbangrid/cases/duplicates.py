"""Duplicates (same class, nearby, still open) and recurrence (反复: same class, same place, after closure).

Radius and windows are settings, so a bureau tunes them to its streets: URBANGRID_DUPLICATE_RADIUS_M (50),
URBANGRID_DUPLICATE_DAYS (7), URBANGRID_RECURRENCE_RADIUS_M (30), URBANGRID_RECURRENCE_DAYS (30).
"""
import math
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings
from django.db.models import Q

from urbangrid.core import prepared

from .fastload import load_case
from .models import Case
from .states import OPEN, State

M_PER_DEG_LAT = 110_574.0


def _box_q(lon, lat, radius_m):
    """The bounding box of the circle, as a filter (served by the class/lat/lon index)."""
    dlat = radius_m / M_PER_DEG_LAT
    dlon = radius_m / (111_320.0 * max(0.01, math.cos(math.radians(lat))))
    return Q(lat__gte=lat - dlat, lat__lte=lat + dlat, lon__gte=lon - dlon, lon__lte=lon + dlon)


def _box(qs, lon, lat, radius_m):
    """``qs`` narrowed to the bounding box of the circle."""
    return qs.filter(_box_q(lon, lat, radius_m))


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


MERGE_CANDIDATES = OPEN - {State.MERGED}
MERGE_FROM = (State.REPORTED, State.PENDING_FILING)  # the merge row's sources: the cases a page suggests for


def similar_open(catalog_class_id, lon, lat, at, exclude_pk=None, limit=10):
    """Open cases of the same class nearby, reported within the window: candidates to merge."""
    since = at - timedelta(days=settings.URBANGRID_DUPLICATE_DAYS)
    qs = Case.objects.filter(catalog_class_id=catalog_class_id, state__in=MERGE_CANDIDATES, created_at__gte=since)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return _nearby(qs, lon, lat, settings.URBANGRID_DUPLICATE_RADIUS_M)[:limit]


def similar_open_for_page(cases, limit=3):
    """并案 suggestions for a page of intake rows: what ``similar_open`` answers for each row that may be merged
    (the same rule: same class, nearby, open, within the window before it), for the whole page in one query:
    the rows' bounding boxes OR-ed. {case pk: [nearby cases with ``distance_m``]}."""
    rows = [c for c in cases if c.state in MERGE_FROM and c.lon is not None]
    if not rows:
        return {}
    radius, window = settings.URBANGRID_DUPLICATE_RADIUS_M, timedelta(days=settings.URBANGRID_DUPLICATE_DAYS)
    boxes = Q(pk__in=[])
    for c in rows:
        boxes |= Q(_box_q(c.lon, c.lat, radius), catalog_class_id=c.catalog_class_id)
    since = min(c.created_at for c in rows) - window
    found = list(Case.objects.filter(boxes, state__in=MERGE_CANDIDATES, created_at__gte=since)
                 .only("pk", "number", "state", "lon", "lat", "created_at", "catalog_class_id"))
    out = {}
    for c in rows:
        near = []
        for d in found:
            if d.pk == c.pk or d.catalog_class_id != c.catalog_class_id or d.created_at < c.created_at - window:
                continue
            dist = _distance(d.lon, d.lat, c.lon, c.lat)
            if dist <= radius:
                near.append((dist, d.pk, d))
        near.sort(key=lambda x: (x[0], x[1]))
        out[c.pk] = []
        for dist, _pk, d in near[:limit]:
            d.distance_m = round(dist, 1)
            out[c.pk].append(d)
    return out


# placeholders of the compiled look-up: values no real look-up holds
_CLASS, _LON, _LAT = -7_301_311_091, -731.311, -73.1311
_SINCE, _AT = datetime(1901, 1, 3, tzinfo=dt_timezone.utc), datetime(1901, 1, 4, tzinfo=dt_timezone.utc)


def previous_closed(catalog_class_id, lon, lat, at):
    """The latest case of the same class at the same place closed within the recurrence window, or None."""
    since = at - timedelta(days=settings.URBANGRID_RECURRENCE_DAYS)
    radius = settings.URBANGRID_RECURRENCE_RADIUS_M
    # Every report asks this, and a hot spot may have many closed cases: read three columns, latest
    # closure first, and load the one case that is within the radius.
    def recent(class_id, start, end, lon, lat):
        qs = Case.objects.filter(catalog_class_id=class_id, state=State.CLOSED, closed_at__gte=start, closed_at__lte=end)
        return _box(qs, lon, lat, radius).order_by("-closed_at", "-pk").values_list("number", "lon", "lat")

    # The first 20 nearly always decide it (the box's corners are the only misses): that statement is compiled
    # once per connection (core/prepared.py), the box's corners bound as values.
    values = {_CLASS: catalog_class_id, _SINCE: since, _AT: at}
    values.update(zip((v for _k, v in _box_q(_LON, _LAT, radius).children), (v for _k, v in _box_q(lon, lat, radius).children)))
    first = prepared.rows(("previous_closed", radius), lambda: recent(_CLASS, _SINCE, _AT, _LON, _LAT)[:20], values)
    for batch in (first, recent(catalog_class_id, since, at, lon, lat)[20:] if len(first) == 20 else ()):
        for number, case_lon, case_lat in batch:
            if _distance(case_lon, case_lat, lon, lat) <= radius:
                return load_case(number)  # the precompiled read of the transition path (fastload.py)
    return None
