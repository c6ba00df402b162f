"""The audit trail (order events) and fills cannot be erased or rewritten by the application:
on PostgreSQL by its role's privileges and triggers, on SQLite by triggers. Each refusal is
tried for real; an INSERT is the positive control."""

import sqlite3
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from oms.models import OrderEvent, OrderFill
from oms.services import apply_fill, order_submit, order_work
from tests.conftest import postgres_only
from tests.factories import PortfolioFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def filled(pm, aapl):
    order = order_submit(actor=pm, portfolio=PortfolioFactory(owner=pm), instrument=aapl, side="BUY", quantity=D(10))
    order_work(order_id=order.pk)
    apply_fill(order_id=order.pk, fill_id="F-1", quantity=D(4), price=D(100), executed_at=timezone.now())
    return order


def _refused(sql, params=()):
    with pytest.raises((DatabaseError, IntegrityError)) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(caught.value)


@postgres_only
def test_app_role_cannot_erase_or_rewrite_the_trail(filled):
    APP_ROLE = f"{connection.settings_dict['NAME']}_app"[:60]  # noqa: N806 - roles are per cluster: one per test DB
    call_command("db_app_role", role=APP_ROLE)
    with connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{APP_ROLE}"')
    for table in ("oms_orderevent", "oms_orderfill"):
        assert "permission denied" in _refused(f"TRUNCATE {table}")
        assert "must be owner" in _refused(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
        assert "permission denied" in _refused(f"DELETE FROM {table}")
        assert "permission denied" in _refused(f"UPDATE {table} SET id = id")
    assert "must be owner" in _refused("DROP TABLE oms_orderfill")
    assert "permission denied" in _refused("CREATE TABLE public.oms_sneaky (id int)")
    # ...while the application's own work goes on: a new order, its events, a fill.
    order_work(order_id=order_submit(actor=filled.created_by, portfolio=filled.portfolio, instrument=filled.instrument,
                                     side="BUY", quantity=D(1)).pk)  # fmt: skip
    apply_fill(order_id=filled.pk, fill_id="F-2", quantity=D(1), price=D(101))
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, count(*) FROM oms_orderfill GROUP BY 1")
        assert cursor.fetchone() == (APP_ROLE, 2)
        cursor.execute("RESET ROLE")


@postgres_only
def test_owner_triggers_refuse_update_and_delete_of_fills(filled):
    assert "fills are append-only" in _refused("UPDATE oms_orderfill SET quantity = 1")
    assert "fills are append-only" in _refused("DELETE FROM oms_orderfill")
    assert "order events are append-only" in _refused("DELETE FROM oms_orderevent")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite triggers")
def test_sqlite_triggers_refuse_update_and_delete(filled):
    assert "fills are append-only" in _refused("UPDATE oms_orderfill SET quantity = 1")
    assert "fills are append-only" in _refused("DELETE FROM oms_orderfill")
    assert "order events are append-only" in _refused("DELETE FROM oms_orderevent")
    assert "order events are append-only" in _refused("UPDATE oms_orderevent SET reason = 'x'")
    assert (OrderFill.objects.count(), OrderEvent.objects.filter(order=filled).count()) == (1, 4)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite triggers")
def test_sqlite_shell_cannot_delete_either(filled):
    # Another client on the same file (the sqlite3 shell) has no st_audit_erasable(): refused.
    other = sqlite3.connect(connection.settings_dict["NAME"], timeout=5)
    try:
        with pytest.raises(sqlite3.OperationalError, match="st_audit_erasable|append-only"):
            other.execute("DELETE FROM oms_orderevent")
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite triggers")
def test_flush_still_empties_the_database(pm, aapl):
    order = order_submit(actor=pm, portfolio=PortfolioFactory(owner=pm), instrument=aapl, side="BUY", quantity=D(3))
    order_work(order_id=order.pk)
    apply_fill(order_id=order.pk, fill_id="F-9", quantity=D(3), price=D(100))
    call_command("flush", interactive=False, verbosity=0)
    assert (OrderEvent.objects.count(), OrderFill.objects.count()) == (0, 0)
