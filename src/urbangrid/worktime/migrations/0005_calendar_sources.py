"""Calendar days may come from an imported notice or from the statutory holidays (the `holidays` package)."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('worktime', '0004_handle_stage_yellow_share'),
    ]

    operations = [
        migrations.AlterField(
            model_name='workcalendarday',
            name='source',
            field=models.CharField(choices=[('chinese-calendar', 'chinese-calendar 法定节假日数据'), ('notice', '导入的国务院放假通知'), ('holidays', '按法定节假日推算（待确认）'), ('weekday-fallback', '按周一至周五推定'), ('manual', '手工维护')], default='manual', max_length=20, verbose_name='来源'),
        ),
    ]
