# A component's history of cases is looked up by its identifier (places/components.py: cases_of).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0013_source_label_inspector'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('component_identifier', ''), _negated=True), fields=['component_identifier'], name='case_component'),
        ),
    ]
