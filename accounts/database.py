"""Who may do what in the database itself.

PostgreSQL: the application connects as a role that owns nothing (`db_app_role`). It may
read and write the tables, but not the audit trail's history: no UPDATE, DELETE or
TRUNCATE on order events and fills, and, not being the owner, no ALTER TABLE ... DISABLE
TRIGGER. Migrations run as the owner.

SQLite has no roles: triggers refuse the same writes (oms migration 0004), and only
`manage.py flush` may empty the audit tables (`st_audit_erasable()` answers 1 on its
connection only while it runs)."""

import threading

from django.db import connection as default_connection
from psycopg import sql

APPEND_ONLY_TABLES = (
    "oms_orderevent",
    "oms_orderfill",
    "oms_cashmovement",
    "oms_holdingtransfer",
    "oms_reconciliationrun",
    "oms_reconciliationbreak",
    "core_consolechange",
)

_flushing = threading.local()


class audit_erasable:  # noqa: N801 - reads as a context manager
    """While active, this thread's SQLite connections may empty the audit tables (flush)."""

    def __enter__(self):
        _flushing.active = True

    def __exit__(self, *exc):
        _flushing.active = False


def _erasable() -> int:
    return 1 if getattr(_flushing, "active", False) else 0


def sqlite_register_functions(sender, connection, **kwargs) -> None:
    """connection_created: the function the SQLite audit triggers ask."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("st_audit_erasable", 0, _erasable)


def app_role_grant(*, role: str, password: str | None = None, connection=default_connection) -> None:
    """Create (once) the application's login role and give it exactly the rights it needs on
    every table the migrations made; run by the owner after each migrate (idempotent)."""
    ident = sql.Identifier(role)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            create = "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS"
            cursor.execute(sql.SQL(create).format(ident))
        if password:
            cursor.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(ident, sql.Literal(password)))
        cursor.execute("SELECT current_database()")
        database = sql.Identifier(cursor.fetchone()[0])
        for statement in (
            "GRANT CONNECT ON DATABASE {db} TO {role}",
            "GRANT USAGE ON SCHEMA public TO {role}",
            "REVOKE CREATE ON SCHEMA public FROM {role}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
            "REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {role}",
            "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        ):
            cursor.execute(sql.SQL(statement).format(db=database, role=ident))
        for table in APPEND_ONLY_TABLES:
            cursor.execute(
                sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(sql.Identifier(table), ident)
            )
        owned = "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = %s"
        cursor.execute(owned, [role])
        if cursor.fetchone()[0]:
            raise RuntimeError(f"role {role} owns tables: the application role must own nothing")


def forget_inherited_connections() -> None:
    """After fork (Celery's prefork pool, multiprocessing): the child must not use the
    parent's sockets or its connection pool, whose worker threads did not survive the fork.
    Drop them; the child opens its own pool on first use."""
    from django.db import connections
    from django.db.backends.postgresql.base import DatabaseWrapper

    DatabaseWrapper._connection_pools.clear()
    for conn in connections.all(initialized_only=True):
        conn.connection = None
