"""省级驾驶舱 (the province dashboard)'s figures besides the evaluation: each city's sync lag (同步延迟) and its
reports and closures per day. Grouped queries over the province's own tables, a fixed number per request."""
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from .evaluation import TZ, in_period
from .models import ProvinceBatch, ProvinceCase, ProvinceCity


def lag_threshold():
    """How old a city's last batch may be before the dashboard shows it in red (``URBANGRID_PROVINCE_SYNC_LAG_MINUTES``)."""
    return timedelta(minutes=float(settings.URBANGRID_PROVINCE_SYNC_LAG_MINUTES))


def sync_status(now=None):
    """{city id: {...}}: code, name, position, last batch (sequence, built_at, received_at), the lag now − last
    received and whether it is late (over the threshold, or nothing received yet). One query."""
    now = now or timezone.now()
    limit = lag_threshold()
    last_built = (ProvinceBatch.objects.filter(city=OuterRef("pk")).order_by("-sequence").values("built_at")[:1])
    out = {}
    for c in (ProvinceCity.objects.order_by("code").annotate(last_built_at=Subquery(last_built))
              .values("pk", "code", "name", "lon", "lat", "last_sequence", "last_received_at", "last_built_at",
                      "events_received")):
        lag = now - c["last_received_at"] if c["last_received_at"] else None
        c["lag_seconds"] = int(lag.total_seconds()) if lag is not None else None
        c["build_lag_seconds"] = (int((now - c["last_built_at"]).total_seconds())
                                  if c["last_built_at"] else None)
        c["late"] = lag is None or lag > limit
        out[c["pk"]] = c
    return out


def lag_text(seconds):
    """A lag as the page shows it: 5 分钟, 3 小时 20 分钟, 2 天 4 小时; "—" when nothing was received."""
    if seconds is None:
        return "—"
    minutes = max(0, seconds) // 60
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)d 天 %(h)d 小时") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d 小时 %(m)d 分钟") % {"h": hours, "m": mins}
    return _("%(m)d 分钟") % {"m": mins}


def trend(period, now=None):
    """Reports and closures per city and day of the period up to today: {"days": [iso], "cities": {city id:
    {"reported": [n per day], "closed": [n per day]}}}. Two grouped queries."""
    now = now or timezone.now()
    today = timezone.localtime(now, TZ).date()
    days = [d for d in period.days() if d <= today]
    index = {d: i for i, d in enumerate(days)}
    cities = {}

    def series(city_id):
        return cities.setdefault(city_id, {"reported": [0] * len(days), "closed": [0] * len(days)})

    for key, field, extra in (("reported", "reported_at", {}), ("closed", "closed_at", {"state": "closed"})):
        rows = (ProvinceCase.objects.filter(in_period(field, period.start, period.end), **extra)
                .annotate(day=TruncDate(field, tzinfo=TZ)).values("city_id", "day").annotate(n=Count("pk"))
                .order_by())
        for r in rows:
            if r["day"] in index:
                series(r["city_id"])[key][index[r["day"]]] = r["n"]
    return {"days": [d.isoformat() for d in days], "cities": cities}
