"""The 处置 (handle) stage gets a TimeLimitSetting row for its yellow share (its limit stays the responsibility
list's: no value, no unit)."""
import django.core.validators
from decimal import Decimal
from django.db import migrations, models


def handle_row(apps, schema_editor):
    TimeLimitSetting = apps.get_model("worktime", "TimeLimitSetting")
    # 0.2: the share engine.Limits had fixed in code until now.
    TimeLimitSetting.objects.get_or_create(stage="handle", defaults={"value": None, "unit": "", "yellow_share": Decimal("0.2")})


def no_handle_row(apps, schema_editor):
    apps.get_model("worktime", "TimeLimitSetting").objects.filter(stage="handle").delete()


class Migration(migrations.Migration):

    dependencies = [
        ('worktime', '0003_alter_timelimitsetting_stage'),
    ]

    operations = [
        migrations.AlterField(
            model_name='timelimitsetting',
            name='stage',
            field=models.CharField(choices=[('accept', '受理'), ('verify', '核实'), ('file', '立案'), ('dispatch', '派遣'), ('second_dispatch', '二级派遣'), ('handle', '处置'), ('send_check', '发核查'), ('check', '核查'), ('close', '结案')], max_length=20, unique=True, verbose_name='环节'),
        ),
        migrations.AlterField(
            model_name='timelimitsetting',
            name='unit',
            field=models.CharField(blank=True, choices=[('working_hours', '工作时'), ('working_days', '工作日'), ('calendar_hours', '自然时')], default='working_hours', max_length=20, verbose_name='单位'),
        ),
        migrations.AlterField(
            model_name='timelimitsetting',
            name='value',
            field=models.DecimalField(blank=True, decimal_places=2, help_text='处置环节的时限由责任清单规定，此处留空', max_digits=8, null=True, validators=[django.core.validators.MinValueValidator(Decimal('0'))], verbose_name='时限'),
        ),
        migrations.RunPython(handle_row, no_handle_row),
    ]
