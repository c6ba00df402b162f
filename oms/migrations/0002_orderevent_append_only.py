"""The audit trail is append-only in the database too: UPDATE (and, on PostgreSQL, DELETE)
of order events fails whatever path it comes from (a queryset .update(), raw SQL, the shell).
SQLite, the embedded demo database, keeps DELETE open because it has no TRUNCATE: test
teardown and `flush` empty tables with DELETE."""

from django.db import migrations

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION oms_orderevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'order events are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER oms_orderevent_no_update BEFORE UPDATE OR DELETE ON oms_orderevent
    FOR EACH ROW EXECUTE FUNCTION oms_orderevent_append_only();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS oms_orderevent_no_update ON oms_orderevent;
DROP FUNCTION IF EXISTS oms_orderevent_append_only();
"""
SQLITE_UP = [
    "CREATE TRIGGER oms_orderevent_no_update BEFORE UPDATE ON oms_orderevent "
    "BEGIN SELECT RAISE(ABORT, 'order events are append-only'); END;",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS oms_orderevent_no_update;"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("oms", "0001_initial")]
    operations = [
        migrations.RunPython(
            _run({"postgresql": [POSTGRES_UP], "sqlite": SQLITE_UP}),
            _run({"postgresql": [POSTGRES_DOWN], "sqlite": SQLITE_DOWN}),
        ),
    ]
