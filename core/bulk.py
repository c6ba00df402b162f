"""Writes of many rows at once, for the services that batch (the EMS's ticks and venue
reports, the OMS's fills of a batch of reports)."""

from django.db import connection


def save_rows(rows: list, fields: list[str]) -> None:
    """Save `fields` of many rows of one model: one UPDATE by primary key per row, sent with
    executemany (psycopg pipelines them in one round trip). Django's bulk_update writes one
    CASE per field and row instead, which cost more than the ticks themselves. Call with the
    rows locked; `auto_now` fields are not touched, so set `updated_at` yourself."""
    if not rows:
        return
    meta = type(rows[0])._meta
    quote = connection.ops.quote_name
    columns = [meta.get_field(name) for name in fields]
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {', '.join(f'{quote(c.column)} = %s' for c in columns)} "
        f"WHERE {quote(meta.pk.column)} = %s"
    )
    params = [[c.get_db_prep_save(getattr(row, c.attname), connection) for c in columns] + [row.pk] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
