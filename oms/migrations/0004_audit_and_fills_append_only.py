"""Order events and fills are append-only in the database, whatever the path (a queryset,
raw SQL, the shell):
- PostgreSQL: UPDATE and DELETE of a fill fail in a trigger, as they already did for
  events. TRUNCATE and DISABLE TRIGGER are kept from the application by its role, which
  owns nothing and holds no UPDATE/DELETE/TRUNCATE on these tables (`manage.py
  db_app_role`, run after each migrate by the owner).
- SQLite: UPDATE of a fill and DELETE of an event or a fill fail in triggers. The one way
  to empty them is `manage.py flush` (test teardown, resetting a demo), whose connection
  answers `st_audit_erasable()` with 1 (accounts.database); any other connection, the
  sqlite3 shell included, has no such function or gets 0, and the DELETE fails."""

from django.db import migrations

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION oms_orderfill_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'fills are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER oms_orderfill_no_update BEFORE UPDATE OR DELETE ON oms_orderfill
    FOR EACH ROW EXECUTE FUNCTION oms_orderfill_append_only();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS oms_orderfill_no_update ON oms_orderfill;
DROP FUNCTION IF EXISTS oms_orderfill_append_only();
"""
SQLITE_UP = [
    "CREATE TRIGGER oms_orderfill_no_update BEFORE UPDATE ON oms_orderfill "
    "BEGIN SELECT RAISE(ABORT, 'fills are append-only'); END;",
    "CREATE TRIGGER oms_orderfill_no_delete BEFORE DELETE ON oms_orderfill WHEN NOT st_audit_erasable() "
    "BEGIN SELECT RAISE(ABORT, 'fills are append-only'); END;",
    "CREATE TRIGGER oms_orderevent_no_delete BEFORE DELETE ON oms_orderevent WHEN NOT st_audit_erasable() "
    "BEGIN SELECT RAISE(ABORT, 'order events are append-only'); END;",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS oms_orderfill_no_update;",
    "DROP TRIGGER IF EXISTS oms_orderfill_no_delete;",
    "DROP TRIGGER IF EXISTS oms_orderevent_no_delete;",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("oms", "0003_order_previous_status_event_choices")]
    operations = [
        migrations.RunPython(
            _run({"postgresql": [POSTGRES_UP], "sqlite": SQLITE_UP}),
            _run({"postgresql": [POSTGRES_DOWN], "sqlite": SQLITE_DOWN}),
        ),
    ]
