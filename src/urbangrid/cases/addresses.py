"""Addresses for old cases: every case with a point but no address gets the gazetteer's words for its point
(路名 + 门牌/标志物 + 方位), in batches, each batch one short transaction. Idempotent: only cases whose address
is still empty are written (a case given an address meanwhile keeps it), so a second run changes nothing."""
from django.db import transaction

from urbangrid.gazetteer.geocoder import geocoder

from .models import Case


def backfill_addresses(batch=500, log=None):
    """Returns {"filled": n, "unaddressable": m} (m: far from every road and landmark, left empty)."""
    filled = unaddressable = 0
    last_pk = 0
    while True:
        rows = list(Case.objects.filter(address="", pk__gt=last_pk).order_by("pk").values_list("pk", "lon", "lat")[:batch])
        if not rows:
            break
        last_pk = rows[-1][0]
        words = {}
        for pk, lon, lat in rows:
            found = geocoder.reverse(float(lon), float(lat)) if lon is not None and lat is not None else None
            address = ((found or {}).get("address") or "")[:256]
            if address:
                words[pk] = address
            else:
                unaddressable += 1
        with transaction.atomic():
            for pk, address in words.items():
                filled += Case.objects.filter(pk=pk, address="").update(address=address)
        if log:
            log(f"… {filled} / {filled + unaddressable}")
    return {"filled": filled, "unaddressable": unaddressable}
