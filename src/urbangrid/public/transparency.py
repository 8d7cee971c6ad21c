"""City-wide figures for the public (公开): no names, no contacts, only counts, rates and places."""
from datetime import datetime, time, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from urbangrid.cases.models import Case
from urbangrid.cases.states import State
from urbangrid.worktime.clock import TZ


def _rate(on_time, total):
    return round(100.0 * on_time / total, 1) if total else None


def figures(today=None, recent_days=30):
    today = today or timezone.localdate()
    year_start = datetime.combine(today.replace(month=1, day=1), time.min, TZ)
    month_start = datetime.combine(today.replace(day=1), time.min, TZ)
    recent = datetime.combine(today, time.min, TZ) - timedelta(days=recent_days)
    year = Case.objects.filter(created_at__gte=year_start)
    closed_year = Case.objects.filter(closed_at__gte=year_start, state=State.CLOSED)
    on_time = Q(archive_type="normal")
    by_unit = (closed_year.exclude(current_unit=None).values("current_unit__name")
               .annotate(closed=Count("pk"), on_time=Count("pk", filter=on_time)).order_by("-closed")[:15])
    by_district = (closed_year.exclude(district=None).values("district__name")
                   .annotate(closed=Count("pk"), on_time=Count("pk", filter=on_time)).order_by("district__name"))
    top = (Case.objects.filter(created_at__gte=month_start).values("catalog_class__name")
           .annotate(n=Count("pk")).order_by("-n")[:10])
    fixed = list(Case.objects.filter(state=State.CLOSED, closed_at__gte=recent)
                 .order_by("-closed_at").values_list("lon", "lat", "catalog_class__name", "closed_at")[:500])
    return {
        "received_year": year.count(), "closed_year": closed_year.count(),
        "received_all": Case.objects.count(), "closed_all": Case.objects.filter(state=State.CLOSED).count(),
        "units": [{"name": r["current_unit__name"], "closed": r["closed"], "rate": _rate(r["on_time"], r["closed"])} for r in by_unit],
        "districts": [{"name": r["district__name"], "closed": r["closed"], "rate": _rate(r["on_time"], r["closed"])} for r in by_district],
        "top": [{"name": r["catalog_class__name"], "n": r["n"]} for r in top],
        "fixed": [[round(lon, 5), round(lat, 5), name, timezone.localtime(at).strftime("%m-%d")] for lon, lat, name, at in fixed],
        "year": today.year, "month": today.month,
    }
