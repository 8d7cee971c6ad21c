from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from urbangrid.catalog.models import ResponsibilityRule
from urbangrid.catalog.responsibility import NoResponsibleUnit, resolve
from urbangrid.grids.locator import OutsideManagedArea
from urbangrid.org.models import Unit


@pytest.fixture
def rule(small_catalog, units):
    def make(unit, cls=None, value="4", time_unit="working_hours", **kw):
        return ResponsibilityRule.objects.create(catalog_class=cls or small_catalog.building, unit=unit, time_limit_value=Decimal(value),
                                                 time_limit_unit=time_unit, **kw)
    return make


def test_area_rule_beats_city_wide(geo, units, rule):
    city = rule(units.city_bureau, closing_standard="拆除完毕")
    district = rule(units.law, region=geo.district, value="2", time_unit="working_days", urgency="urgent")
    r = resolve(district.catalog_class, *geo.p_qingbo)
    assert (r.rule, r.unit, r.fallback) == (district, units.law, False)
    assert (r.urgency, r.time_limit_value, r.time_limit_unit) == ("urgent", Decimal("2"), "working_days")
    assert "上城区执法中队" in r.explanation and "上城区" in r.explanation
    # A street rule for 清波街道 does not reach a point in 湖滨街道; the district rule does.
    rule(units.gardens, region=geo.qingbo_street)
    assert resolve(city.catalog_class, *geo.p_yuewang).rule == district
    assert resolve(city.catalog_class, *geo.p_qingbo).unit == units.gardens


def test_grid_beats_community_beats_street(geo, units, rule):
    rule(units.city_bureau)
    street = rule(units.law, region=geo.hubin)
    community = rule(units.water, region=geo.dongpo)
    grid = rule(units.gardens, responsibility_grid=geo.rg)
    assert resolve(grid.catalog_class, *geo.p_dongpo).rule == grid
    assert resolve(grid.catalog_class, *geo.p_yuewang).rule == street
    grid.active = False
    grid.save()
    assert resolve(grid.catalog_class, *geo.p_dongpo).rule == community


def test_city_wide_rule_applies_everywhere(geo, units, rule):
    city = rule(units.city_bureau, filing_standard="占用公共空间")
    for point in (geo.p_dongpo, geo.p_yuewang, geo.p_qingbo):
        r = resolve(city.catalog_class, *point)
        assert (r.rule, r.filing_standard, r.fallback) == (city, "占用公共空间", False)
    assert "全市" in r.explanation


def test_filing_condition_beats_none(geo, units, rule):
    plain = rule(units.city_bureau, value="4")
    demolish = rule(units.law, filing_condition="拆除", value="20", time_unit="working_days")
    assert resolve(plain.catalog_class, *geo.p_dongpo, filing_condition="拆除").rule == demolish
    assert resolve(plain.catalog_class, *geo.p_dongpo, filing_condition=" 拆除 ").rule == demolish
    assert resolve(plain.catalog_class, *geo.p_dongpo).rule == plain
    assert resolve(plain.catalog_class, *geo.p_dongpo, filing_condition="停工").rule == plain
    r = resolve(plain.catalog_class, *geo.p_dongpo, filing_condition="拆除")
    assert "拆除" in r.explanation


def test_fallback_to_nearest_territorial_unit(geo, units, small_catalog):
    r = resolve(small_catalog.garbage, *geo.p_dongpo)   # community has no unit → 湖滨街道办
    assert (r.fallback, r.rule, r.unit) == (True, None, units.hubin)
    assert r.explanation.startswith("按属地兜底") and "湖滨街道办" in r.explanation
    assert r.time_limit_value is None
    assert resolve(small_catalog.garbage, *geo.p_qingbo).unit == units.district   # street has none → district
    units.district.active = False
    units.district.save()
    assert resolve(small_catalog.garbage, *geo.p_qingbo).unit == units.city_bureau


def test_conditional_rules_only_fall_back_with_hint(geo, units, rule):
    rule(units.law, filing_condition="拆除")
    r = resolve(rule(units.law, filing_condition="停工").catalog_class, *geo.p_dongpo)
    assert r.fallback and "停工" in r.explanation and "拆除" in r.explanation


def test_no_territorial_unit_is_an_error(geo, small_catalog, db):
    Unit.objects.create(code="U-X", name="无关单位")
    with pytest.raises(NoResponsibleUnit, match="属地兜底"):
        resolve(small_catalog.garbage, *geo.p_dongpo)


def test_outside_and_bad_coordinates(geo, units, small_catalog):
    with pytest.raises(OutsideManagedArea):
        resolve(small_catalog.garbage, *geo.p_outside)
    with pytest.raises(ValueError):
        resolve(small_catalog.garbage, "east", 30.25)


def test_duplicate_city_wide_rule_refused_by_database(geo, units, rule):
    rule(units.city_bureau)
    with pytest.raises(IntegrityError), transaction.atomic():
        rule(units.law)
    rule(units.law, region=geo.district)
    with pytest.raises(IntegrityError), transaction.atomic():
        rule(units.water, region=geo.district)
    rule(units.law, filing_condition="拆除")   # another condition is another row


def test_duplicate_rule_message_and_grid_region_check(geo, units, rule, small_catalog):
    rule(units.city_bureau)
    dup = ResponsibilityRule(catalog_class=small_catalog.building, unit=units.law, time_limit_value=1)
    with pytest.raises(ValidationError, match="已有责任清单条目"):
        dup.full_clean()
    wrong = ResponsibilityRule(catalog_class=small_catalog.building, unit=units.law, time_limit_value=1,
                               region=geo.qingbo_street, responsibility_grid=geo.rg)
    with pytest.raises(ValidationError) as exc:
        wrong.full_clean()
    assert "responsibility_grid" in exc.value.message_dict
