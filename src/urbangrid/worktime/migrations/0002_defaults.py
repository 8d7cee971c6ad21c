"""Default working periods (08:30–12:00, 14:00–17:30) and stage time limits (docs/standards.md, Stage time limits)."""
from datetime import time
from decimal import Decimal

from django.db import migrations

PERIODS = [(time(8, 30), time(12, 0)), (time(14, 0), time(17, 30))]
# Frozen copy of models.DEFAULT_LIMITS: stage -> (value, unit); yellow share 0.2 throughout.
LIMITS = [
    ("accept", "1", "working_hours"),
    ("verify", "0.5", "working_hours"),
    ("file", "1", "working_hours"),
    ("dispatch", "1", "working_hours"),
    ("second_dispatch", "1", "working_hours"),
    ("send_check", "1", "working_hours"),
    ("check", "0.5", "working_hours"),
    ("close", "1", "working_hours"),
]


def seed(apps, schema_editor):
    WorkingPeriod = apps.get_model("worktime", "WorkingPeriod")
    TimeLimitSetting = apps.get_model("worktime", "TimeLimitSetting")
    if not WorkingPeriod.objects.exists():
        for order, (start, end) in enumerate(PERIODS, 1):
            WorkingPeriod.objects.create(start=start, end=end, order=order)
    for stage, value, unit in LIMITS:
        TimeLimitSetting.objects.get_or_create(
            stage=stage, defaults={"value": Decimal(value), "unit": unit, "yellow_share": Decimal("0.2")}
        )


class Migration(migrations.Migration):
    dependencies = [("worktime", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
