"""Seed the selection matrix with sor.domain.DEFAULT_RULES: a fresh database starts from the
defaults, and admins edit the rows from there."""
from django.db import migrations

RANGE_FIELDS = ("participation", "spread_bps", "depth_ratio", "time_left_seconds", "limit_distance_bps", "dark_venues")


def seed(apps, schema_editor):
    from sor.domain import DEFAULT_RULES

    Record = apps.get_model("sor", "SelectionRuleRecord")
    columns = {f.name for f in Record._meta.fields}
    for rule in DEFAULT_RULES:
        data = {k: v for k, v in rule.to_dict().items() if k in columns}
        Record.objects.update_or_create(name=data.pop("name"), defaults=data)


def unseed(apps, schema_editor):
    from sor.domain import DEFAULT_RULES

    apps.get_model("sor", "SelectionRuleRecord").objects.filter(name__in=[r.name for r in DEFAULT_RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("sor", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
