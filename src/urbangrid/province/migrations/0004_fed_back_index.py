from django.db import migrations, models


class Migration(migrations.Migration):
    """The evaluation of a past period counts the summaries still with the unit at its end: in a handling state
    or fed back after it. The (city, fed back) index serves the second arm beside the (city, state) one."""

    dependencies = [("province", "0003_dashboard")]

    operations = [
        migrations.AddIndex(
            model_name="provincecase",
            index=models.Index(fields=["city", "fed_back_at"], name="province_case_city_fed_back"),
        ),
    ]
