from django.db import migrations, models


class Migration(migrations.Migration):
    """(city, fed back): a past period's overdue count reads the summaries fed back after its end beside the
    handling ones (city, state); (city, district): the drill-down's district choices, code by code."""

    dependencies = [("province", "0003_dashboard")]

    operations = [
        migrations.AddIndex(
            model_name="provincecase",
            index=models.Index(fields=["city", "fed_back_at"], name="province_case_city_fed_back"),
        ),
        migrations.AddIndex(
            model_name="provincecase",
            index=models.Index(fields=["city", "district"], name="province_case_city_district"),
        ),
    ]
