"""Indicator readings (docs/standards.md, Evaluation indicators): overdue handling counted in every period it
lasts (spans on the clock facts), 自行处置 cases apart in the region tallies, and the scheme's choice for them.

Data: a scheme still on the look-back shipped with 0002 (90 days) moves to the new default (365 days), and
every tallied day is marked for re-tallying (the worker rebuilds them: the region rows and clock facts changed
shape)."""
from django.db import migrations, models

SHIPPED_LOOKBACK, NEW_LOOKBACK = 90, 365


def forwards(apps, schema_editor):
    apps.get_model("assessment", "EvaluationScheme").objects.filter(
        deadline_lookback_days=SHIPPED_LOOKBACK).update(deadline_lookback_days=NEW_LOOKBACK)
    apps.get_model("assessment", "TallyDay").objects.update(dirty=True)


def backwards(apps, schema_editor):
    apps.get_model("assessment", "EvaluationScheme").objects.filter(
        deadline_lookback_days=NEW_LOOKBACK).update(deadline_lookback_days=SHIPPED_LOOKBACK)
    apps.get_model("assessment", "TallyDay").objects.update(dirty=True)


class Migration(migrations.Migration):

    dependencies = [
        ('assessment', '0005_daily_tallies'),
    ]

    operations = [
        migrations.AddField(
            model_name='casefact',
            name='until_at',
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name='evaluationscheme',
            name='self_handled_in_regions',
            field=models.BooleanField(default=False, help_text='不勾选（默认）：自行处置的案件不计入区域评价的立案数、结案数、应结案数和按期结案数，另列自行处置结案数；勾选：其受理计为立案，其结案计为结案', verbose_name='自行处置计入区域立案与结案'),
        ),
        migrations.AddField(
            model_name='regionday',
            name='self_handled',
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name='evaluationscheme',
            name='deadline_lookback_days',
            field=models.PositiveIntegerField(default=365, help_text='超期未处置的案件在其超期的每个统计期都计入；只在期初前这么多天内派遣或调整时限的处置时限中查找（限定统计的查询量；更早设定时限、至今仍超期的案件不再计入）', verbose_name='超期未处置回溯天数'),
        ),
        migrations.RunPython(forwards, backwards),
    ]
