"""Console changes are append-only in the database, like the other audit tables
(oms 0004, 0008): no UPDATE, no DELETE outside `manage.py flush`."""

from django.db import migrations

from core.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [
        migrations.RunPython(
            append_only(("core_consolechange",), up=True),
            append_only(("core_consolechange",), up=False),
        )
    ]
