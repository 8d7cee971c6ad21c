"""Demo deductions (倒扣分) over the demo history: the residents' council assessors walk their grids a few
times a month, find problems under the default standard and deduct points from the grid, its segments, its
party group, its people or their units; about one in eight is appealed and most appeals are decided.

Where the history has a case of the item's class in the same grid around the same time, the deduction is
linked to it, so the earn-back of cases closed on time shows in the scores. Deterministic for a seed;
runs once (skips when demo deductions exist).
"""
import random
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from shapely.geometry import Point, shape

from urbangrid.assessment.deductions.rules import TARGET_FIELD, link_default_classes
from urbangrid.assessment.models import Deduction, DeductionEvent, DeductionPolicy, InspectionItem
from urbangrid.cases.models import Case
from urbangrid.grids.locator import locator
from urbangrid.grids.models import ResponsibilityGrid
from urbangrid.org.models import PartyOrganization, Person, RoleAssignment
from urbangrid.org.roles import Role
from urbangrid.worktime.clock import TZ

DEMO_PREFIX = "demo:"
# Visits per assessor and month, and problems found per visit.
VISITS_PER_MONTH = (2, 5)
FINDINGS_PER_VISIT = (0, 3)
APPEAL_SHARE = 0.12
UPHOLD_SHARE = 0.6


def _random_point(rng, geometry):
    g = shape(geometry)
    minx, miny, maxx, maxy = g.bounds
    for _try in range(20):
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if g.contains(p):
            return p.x, p.y
    p = g.representative_point()
    return p.x, p.y


def build_deductions(seed=2024, log=print, start=None, end=None):
    """Generate the demo deductions once; returns counts."""

    if Deduction.objects.filter(idempotency_key__startswith=DEMO_PREFIX).exists():
        return {"skipped": True, "deductions": Deduction.objects.count()}
    link_default_classes()
    rng = random.Random(f"deductions-{seed}")
    now = timezone.now()
    if start is None or end is None:
        first = Case.objects.order_by("created_at").values_list("created_at", flat=True).first()
        end = end or now - timedelta(hours=1)
        start = start or (first if first else end - timedelta(days=90))
    policy = DeductionPolicy.current()
    items = list(InspectionItem.objects.filter(active=True).order_by("code"))
    if not items:
        return {"skipped": True, "deductions": 0}
    # Street problems are found far more often than patrol or party-work failures.
    weights = [6 if it.catalog_class_id else 1 for it in items]
    assessors = {}
    for ra in RoleAssignment.objects.filter(role=Role.ASSESSOR, grid__isnull=False).order_by("person_id", "grid_id"):
        assessors.setdefault(ra.person_id, []).append(ra.grid_id)
    grids = {g.pk: g for g in ResponsibilityGrid.objects.filter(pk__in={g for gs in assessors.values() for g in gs})}
    unit_grids = {}
    for g in grids.values():
        unit_grids[g.pk] = list(g.unit_grids.order_by("code").values_list("geometry", flat=True))
    people_in = {}
    for ra in RoleAssignment.objects.filter(grid_id__in=grids, role__in=[Role.GRID_OFFICER, Role.INSPECTOR,
                                                                         Role.SUB_GRID_LEADER]).order_by("pk"):
        people_in.setdefault(ra.grid_id, []).append(ra.person_id)
    person_unit = dict(Person.objects.filter(pk__in={p for ps in people_in.values() for p in ps}).values_list("pk", "unit_id"))
    group_of = {}
    for org in PartyOrganization.objects.filter(grids__in=grids).values("pk", "grids"):
        group_of.setdefault(org["grids"], org["pk"])
    # Cases of a class in a grid, by time, to link deductions to (earn-back when closed on time).
    class_ids = {it.catalog_class_id for it in items if it.catalog_class_id}
    cases = {}
    for pk, grid_id, cls, created in (Case.objects.filter(responsibility_grid_id__in=grids, catalog_class_id__in=class_ids,
                                                          created_at__gte=start, created_at__lt=end)
                                      .values_list("pk", "responsibility_grid_id", "catalog_class_id", "created_at")
                                      .order_by("created_at")):
        cases.setdefault((grid_id, cls), []).append((created, pk))
    used_cases = set()

    rows, events = [], []
    month = start
    while month < end:
        month_end = min(end, month + timedelta(days=30))
        for person_id, grid_ids in sorted(assessors.items()):
            for _visit in range(rng.randint(*VISITS_PER_MONTH)):
                grid_id = rng.choice(grid_ids)
                day = month + timedelta(seconds=rng.uniform(0, (month_end - month).total_seconds()))
                day = day.astimezone(TZ).replace(hour=rng.randint(8, 17), minute=rng.randint(0, 59))  # working hours
                if day >= end or day < start:
                    continue
                for _f in range(rng.randint(*FINDINGS_PER_VISIT)):
                    if not unit_grids.get(grid_id):
                        continue
                    lon, lat = _random_point(rng, rng.choice(unit_grids[grid_id]))
                    try:
                        loc = locator.locate(lon, lat)
                    except Exception:
                        continue
                    item = rng.choices(items, weights)[0]
                    target_type, target_id = _target(rng, item, loc, people_in, person_unit, group_of)
                    if target_type is None:
                        continue
                    points = Decimal(item.default_points)
                    if rng.random() < 0.15:  # a bigger problem: up to the item's maximum
                        points = min(Decimal(item.max_points), points * 2)
                    at = day + timedelta(minutes=rng.randint(0, 120))
                    case_id = None
                    if item.catalog_class_id:
                        for created, pk in cases.get((loc.responsibility_grid_id, item.catalog_class_id), ()):
                            if abs((created - at).total_seconds()) < 3 * 86400 and pk not in used_cases:
                                case_id = pk
                                used_cases.add(pk)
                                break
                    d = Deduction(
                        item=item, points=points, earn_back_points=item.earn_back_for(points), target_type=target_type,
                        **{f"{TARGET_FIELD[target_type]}_id": target_id}, lon=lon, lat=lat, unit_grid_id=loc.unit_grid_id,
                        place_grid_id=loc.responsibility_grid_id, place_segment_id=loc.road_segment_id,
                        note=item.standard.split("，")[0], occurred_at=at, recorded_at=at + timedelta(minutes=5),
                        assessor_id=person_id, case_id=case_id, idempotency_key=f"{DEMO_PREFIX}{seed}:{len(rows)}",
                        appeal_deadline=at + timedelta(minutes=5, days=policy.appeal_days), state=Deduction.State.RECORDED)
                    rows.append(d)
        month = month_end
    answerers = _answerers(rows)
    reviewers = list(RoleAssignment.objects.filter(role=Role.LEADER).order_by("person_id").values_list("person_id", flat=True))
    with transaction.atomic():
        Deduction.objects.bulk_create(rows, batch_size=2000)
        for d in rows:
            events.append(DeductionEvent(deduction=d, action="record", to_state="recorded", person_id=d.assessor_id,
                                         role=Role.ASSESSOR.value, note=d.note, at=d.recorded_at))
            who = answerers.get((d.target_type, d.target_id))
            if who is None or rng.random() >= APPEAL_SHARE:
                continue
            appealed_at = min(d.recorded_at + timedelta(hours=rng.randint(2, 60)), d.appeal_deadline)
            if appealed_at >= now:
                continue
            d.state = Deduction.State.APPEALED
            d.appealed_at = appealed_at
            d.appealed_by_id = who
            d.appeal_reason = rng.choice(["问题发生在相邻网格范围内", "已于当日整改完毕，附整改照片", "该处为经审批的临时占道",
                                          "责任主体为沿街商户，已督促整改"])
            events.append(DeductionEvent(deduction=d, action="appeal", from_state="recorded", to_state="appealed",
                                         person_id=who, note=d.appeal_reason, at=d.appealed_at))
            reviewed_at = d.appealed_at + timedelta(days=rng.randint(1, 3))
            if reviewed_at > now - timedelta(days=3):
                continue  # recent appeals wait for review
            upheld = rng.random() < UPHOLD_SHARE
            d.state = Deduction.State.UPHELD if upheld else Deduction.State.CANCELLED
            d.reviewed_at = reviewed_at
            d.review_note = "经复核，扣分事实清楚，维持扣分" if upheld else "经复核，申诉理由成立，撤销扣分"
            reviewer = next((p for p in reviewers if p != who), None)  # nobody reviews his own appeal
            events.append(DeductionEvent(deduction=d, action="uphold" if upheld else "cancel", from_state="appealed",
                                         to_state=d.state, note=d.review_note, role=Role.LEADER.value, at=d.reviewed_at,
                                         person_id=reviewer))
        Deduction.objects.bulk_update([d for d in rows if d.state != "recorded"],
                                      ["state", "appealed_at", "appealed_by", "appeal_reason", "reviewed_at", "review_note"],
                                      batch_size=1000)
        DeductionEvent.objects.bulk_create(events, batch_size=5000)
    by_state = {s: sum(1 for d in rows if d.state == s) for s in Deduction.State.values}
    log(f"  倒扣分 {len(rows)} 条（申诉中 {by_state['appealed']}，维持 {by_state['upheld']}，撤销 {by_state['cancelled']}）")
    return {"deductions": len(rows), **by_state, "linked_cases": sum(1 for d in rows if d.case_id)}


def _target(rng, item, loc, people_in, person_unit, group_of):
    """A target the item allows that answers for the place (the grid most often)."""
    options = []
    for tt in item.target_types:
        if tt == "grid" and loc.responsibility_grid_id:
            options += [("grid", loc.responsibility_grid_id)] * 6
        elif tt == "segment" and loc.road_segment_id and (loc.road_distance_m or 0) < 30:
            options += [("segment", loc.road_segment_id)] * 2
        elif tt == "party" and loc.responsibility_grid_id in group_of:
            options.append(("party", group_of[loc.responsibility_grid_id]))
        elif tt == "person" and people_in.get(loc.responsibility_grid_id):
            options.append(("person", rng.choice(people_in[loc.responsibility_grid_id])))
        elif tt == "unit" and people_in.get(loc.responsibility_grid_id):
            unit = person_unit.get(rng.choice(people_in[loc.responsibility_grid_id]))
            if unit:
                options.append(("unit", unit))
    return rng.choice(options) if options else (None, None)


def _answerers(rows):
    """One person who answers for each target (the one who files the demo appeals)."""

    out = {}
    for grid_id, person_id in (RoleAssignment.objects.filter(role=Role.GRID_LEADER, grid__isnull=False)
                               .order_by("pk").values_list("grid_id", "person_id")):
        out.setdefault(("grid", grid_id), person_id)
    for seg_id, person_id in (RoleAssignment.objects.filter(road_segment__isnull=False).exclude(role=Role.ASSESSOR)
                              .order_by("pk").values_list("road_segment_id", "person_id")):
        out.setdefault(("segment", seg_id), person_id)
    for unit_id, person_id in Person.objects.filter(unit__isnull=False).order_by("employee_no").values_list("unit_id", "pk"):
        out.setdefault(("unit", unit_id), person_id)
    for org_id, person_id in (PartyOrganization.objects.filter(grids__role_assignments__role=Role.GRID_LEADER)
                              .order_by("pk").values_list("pk", "grids__role_assignments__person_id")):
        out.setdefault(("party", org_id), person_id)
    for d in rows:
        if d.target_type == "person":
            out[("person", d.person_id)] = d.person_id
    return out
