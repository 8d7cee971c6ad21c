"""Index the handling clocks' deadlines: the evaluation's overdue-clock candidates of a period are then read
by deadline (rows ∝ the period), instead of filtering every event of the lookback window."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0006_case_chain_hash_caseevent_hash_caseevent_prev_hash"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="caseevent",
            index=models.Index(condition=models.Q(("stage", "handle")), fields=["deadline"], name="caseevent_handle_deadline"),
        ),
    ]
