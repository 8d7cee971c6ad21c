# The maps' component layer asks for the components in a bounding box (catalog/components.py: in_bbox).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0001_initial'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='component',
            index=models.Index(fields=['lat', 'lon'], name='component_place'),
        ),
    ]
