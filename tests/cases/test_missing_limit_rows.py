"""A stage whose time-limit row is missing (an emptied table, a partly loaded backup) runs on the documented
default, the same one ``TimeLimitSetting.for_stage`` shows, not on the engine's flat working hour."""
from decimal import Decimal

import pytest

from urbangrid.cases.services import load_limits
from urbangrid.worktime.models import DEFAULT_LIMITS, Stage, TimeLimitSetting

pytestmark = pytest.mark.django_db


def test_a_missing_row_takes_the_documented_default():
    TimeLimitSetting.objects.filter(stage__in=[Stage.VERIFY, Stage.CHECK]).delete()
    TimeLimitSetting.objects.filter(stage=Stage.CLOSE).update(value=Decimal("3"), yellow_share=Decimal("0.5"))
    limits = load_limits()
    for stage in (Stage.VERIFY, Stage.CHECK):
        shown = TimeLimitSetting.for_stage(stage)
        assert limits.of(stage) == (shown.value, shown.unit, shown.yellow_share) == (*DEFAULT_LIMITS[stage], Decimal("0.2"))
        assert limits.of(stage)[0] == Decimal("0.5")  # 核实, 核查: 30 minutes, not the engine's hour
    assert limits.of(Stage.CLOSE) == (Decimal("3"), "working_hours", Decimal("0.5"))  # a row still wins


def test_an_empty_table_still_has_every_stage():
    TimeLimitSetting.objects.all().delete()
    limits = load_limits()
    assert {stage: limits.of(stage)[:2] for stage in DEFAULT_LIMITS} == DEFAULT_LIMITS
