"""Seed the standard scheme (the defaults of docs/standards.md, Evaluation indicators)."""
from django.db import migrations


def seed(apps, schema_editor):
    from urbangrid.assessment import models as m

    Scheme = apps.get_model("assessment", "EvaluationScheme")
    if not Scheme.objects.exists():
        Scheme.objects.create(
            name="标准综合评价（CJ/T 292 / GB/T 30428.4）", active=True,
            grade_bands=m.default_grade_bands(), unit_weights=m.default_unit_weights(),
            unit_filed_bands=m.default_unit_filed_bands(), accept_bands=m.default_count_bands(),
            dispatch_bands=m.default_count_bands(), position_weights=m.default_position_weights(),
            region_weights=m.default_region_weights(), region_class_bands=m.default_region_class_bands(),
            class_two_regions=[], zero_denominator_score=100, ontime_grace_minutes=0, deadline_lookback_days=90,
        )


class Migration(migrations.Migration):
    dependencies = [("assessment", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
