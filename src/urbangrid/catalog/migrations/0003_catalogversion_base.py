"""Local lists name the national version they extend (the demo's local event list extends CJ/T 214-2007)."""
import django.db.models.deletion
from django.db import migrations, models


def link_demo_list(apps, schema_editor):
    Version = apps.get_model("catalog", "CatalogVersion")
    base = Version.objects.filter(code="cjt214-2007").first()
    if base is not None:
        Version.objects.filter(code="local-demo", base=None).update(base=base)


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0002_component_place_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='catalogversion',
            name='base',
            field=models.ForeignKey(blank=True, help_text='地方扩展清单所依据的国家标准版本；国家标准版本留空', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='extensions', to='catalog.catalogversion', verbose_name='所依据的版本'),
        ),
        migrations.RunPython(link_demo_list, migrations.RunPython.noop),
    ]
