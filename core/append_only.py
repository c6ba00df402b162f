"""Migration helpers that make a table append-only in the database, whatever the path (a
queryset, raw SQL, the shell): PostgreSQL refuses UPDATE and DELETE in a row trigger (TRUNCATE
and DISABLE TRIGGER are kept from the application by its role: accounts.database); SQLite
refuses UPDATE, and DELETE except on `manage.py flush`'s connection (st_audit_erasable())."""


def _postgres(table: str) -> tuple[str, str]:
    up = f"""
CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{table} is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {table}_no_update BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_append_only();
"""
    down = f"DROP TRIGGER IF EXISTS {table}_no_update ON {table}; DROP FUNCTION IF EXISTS {table}_append_only();"
    return up, down


def _sqlite(table: str) -> tuple[list[str], list[str]]:
    up = [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} WHEN NOT st_audit_erasable() "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;",
    ]
    down = [f"DROP TRIGGER IF EXISTS {table}_no_update;", f"DROP TRIGGER IF EXISTS {table}_no_delete;"]
    return up, down


def append_only(tables, *, up: bool):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for table in tables:
            if vendor == "postgresql":
                schema_editor.execute(_postgres(table)[0 if up else 1])
            elif vendor == "sqlite":
                for sql in _sqlite(table)[0 if up else 1]:
                    schema_editor.execute(sql)

    return run
