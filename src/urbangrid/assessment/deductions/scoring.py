"""Target scores from deductions (倒扣分): each target starts a period at 100 and loses upheld points.

Interface shared with the reviews: ``target_scores(start, end, target_type=None)`` returns one dict per
target with deductions occurring in [start, end): ``{"target_type", "target_id", "name", "deductions",
"points", "earned_back", "score"}`` plus ``"pending"`` (appeals not yet reviewed).

What counts: deductions not appealed (recorded) and appeals upheld; a pending appeal counts only once
upheld, a cancelled one never. Earn-back (整改返还): when the linked case was closed on time (正常结案) and
the item allows it, the deduction's earn-back points come back. The score is base − points + earned
back, kept within [0, base]. One aggregate query per call, plus one name query per target type.
"""
from decimal import Decimal

from django.db.models import Count, Q, Sum

from ..models import Deduction, DeductionPolicy, TargetType
from .rules import _target_model, target_label

TARGET_COLUMNS = {"grid": "grid_id", "segment": "road_segment_id", "unit": "unit_id", "party": "party_organization_id",
                  "person": "person_id"}
COUNTED = Q(state__in=[Deduction.State.RECORDED, Deduction.State.UPHELD])
EARNED = COUNTED & Q(item__earn_back=True, case__closed_at__isnull=False, case__archive_type="normal")


def _names(target_type, ids):
    model, _key = _target_model(target_type)
    return {obj.pk: target_label(target_type, obj) for obj in model.objects.filter(pk__in=ids)}


def target_scores(start, end, target_type=None, base=None):
    if target_type is not None and target_type not in TargetType.values:
        raise ValueError(f"unknown target type {target_type!r}")
    base = Decimal(base if base is not None else DeductionPolicy.current().base_score)
    qs = Deduction.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
    if target_type:
        qs = qs.filter(target_type=target_type)
    rows = (qs.values("target_type", *TARGET_COLUMNS.values())
            .annotate(n=Count("pk", filter=COUNTED), pts=Sum("points", filter=COUNTED),
                      back=Sum("earn_back_points", filter=EARNED),
                      pending=Count("pk", filter=Q(state=Deduction.State.APPEALED)))
            .order_by())
    grouped = {}
    for r in rows:
        tid = r[TARGET_COLUMNS[r["target_type"]]]
        grouped[(r["target_type"], tid)] = r
    names = {}
    for tt in {k[0] for k in grouped}:
        names[tt] = _names(tt, [k[1] for k in grouped if k[0] == tt])
    out = []
    for (tt, tid), r in grouped.items():
        points = r["pts"] or Decimal("0")
        back = r["back"] or Decimal("0")
        score = min(base, max(Decimal("0"), base - points + back))
        out.append({"target_type": tt, "target_id": tid, "name": names[tt].get(tid, ""), "deductions": r["n"],
                    "points": float(points), "earned_back": float(back), "score": float(score), "pending": r["pending"]})
    out.sort(key=lambda d: (d["target_type"], d["score"], d["name"]))
    return out
