"""Helpers shared by the review and member tests (no tests here): deductions written with the ORM and reading an
API review's section as {first column value: row}. Cases and their events come from ``eval_helpers.Log``,
through the case service."""
from datetime import datetime, timedelta
from decimal import Decimal


def deduction(target_type, at, points, **target):
    """A recorded 倒扣分 against a target (grid=, unit=, person=, party_organization=), straight with the ORM."""
    from urbangrid.assessment.models import Deduction, InspectionItem
    from urbangrid.grids.models import UnitGrid

    park_demo_deductions()
    item, _ = InspectionItem.objects.get_or_create(code="T-REV", defaults={"name": "测试项目", "default_points": Decimal("1"),
                                                                                "max_points": Decimal("10")})
    return Deduction.objects.create(item=item, points=Decimal(str(points)), target_type=target_type,
                                    unit_grid=UnitGrid.objects.order_by("pk").first(), lon=117.23, lat=31.87, occurred_at=at, recorded_at=at,
                                    appeal_deadline=at + timedelta(days=3), **target)


def park_demo_deductions():
    """Move the demo city's own deductions out of every test period, so a test counts only its own."""
    from urbangrid.assessment.models import Deduction
    from urbangrid.worktime.clock import TZ

    Deduction.objects.exclude(item__code="T-REV").update(occurred_at=datetime(2000, 1, 1, tzinfo=TZ))


def section(body, key):
    return next(s for s in body["sections"] if s["key"] == key)


def by_first(sec):
    first = sec["columns"][0]["key"]
    return {r["cells"][first]: r["cells"] for r in sec["rows"]}


def summary(body):
    return {s["key"]: s["value"] for s in body["summary"]}
