"""The archive (config.archive) may delete order events and fills it has exported and
checked, and nothing else may: on PostgreSQL the append-only triggers let a DELETE through
only in a transaction that set `smart_trading.archive` to 'on' (SET LOCAL), which the
archive does after writing and verifying its file; UPDATE stays refused. The application
role holds no DELETE on these tables anyway (accounts.database), so only the owner, who
runs the archive, reaches the trigger. SQLite already lets `st_audit_erasable()` decide."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('smart_trading.archive', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '{what} are append-only';
END;
$$ LANGUAGE plpgsql;
"""
PLAIN = """
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{what} are append-only';
END;
$$ LANGUAGE plpgsql;
"""
TRIGGERS = (("oms_orderevent_append_only", "order events"), ("oms_orderfill_append_only", "fills"))


def _functions(template):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for name, what in TRIGGERS:
                schema_editor.execute(template.format(name=name, what=what))

    return run


class Migration(migrations.Migration):
    dependencies = [("oms", "0009_order_history_indexes")]
    operations = [migrations.RunPython(_functions(FUNCTION), _functions(PLAIN))]
