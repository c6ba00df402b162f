"""core.locks on PostgreSQL: a lock takes its own rows and nothing its query joins."""

import psycopg
import pytest
from django.db import connection, transaction

from core.locks import lock_all, lock_one
from oms.models import Position
from tests.conftest import postgres_only

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


def other_session():
    """A second database session, as another process would have."""
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=True,
    )


def locked(session, table: str, pk: int) -> bool:
    """Whether another transaction holds a lock on the row that blocks a foreign-key check
    (FOR KEY SHARE conflicts only with FOR UPDATE and key changes)."""
    try:
        session.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR KEY SHARE NOWAIT", [pk])
    except psycopg.errors.LockNotAvailable:
        return True
    return False


@pytest.mark.parametrize("lock", ["one", "all"])
def test_a_position_lock_leaves_the_instrument_its_ordering_joins_unlocked(lock, portfolio, aapl):
    """Position's default ordering joins the instrument. Locking that join too would take the
    instrument (last in LOCK_ORDER) before the portfolio a fill updates next, and hold it
    against every order on the instrument (whose deferred foreign-key check takes KEY SHARE
    at commit) until the fill commits: order_submit (portfolio, then that check) and
    apply_fill deadlocked that way in the EMS process test."""
    position = Position.objects.create(portfolio=portfolio, instrument=aapl)
    with other_session() as session, transaction.atomic():
        if lock == "one":
            lock_one(Position, position.pk)
        else:
            lock_all(Position.objects.filter(pk=position.pk))
        assert locked(session, "oms_position", position.pk)
        assert not locked(session, "marketdata_instrument", aapl.pk)
