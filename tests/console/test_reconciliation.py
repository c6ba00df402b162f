"""Reconciliation: clean books give a clean run (stored too); a break planted behind the
product's back with raw SQL is found, stored, shown and flagged on /healthz for admins."""

from decimal import Decimal as D

import pytest
from django.conf import settings
from django.db import connection

from core.models import ConsoleChange
from oms import ledger
from oms.models import ReconciliationBreak, ReconciliationRun
from oms.tasks import reconciliation_nightly

pytestmark = pytest.mark.django_db


def _sql(statement, params):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_clean_books_reconcile_and_the_clean_run_is_stored(books):
    run = ledger.reconciliation_run(trigger=ledger.NIGHTLY)
    assert run.breaks_found == 0 and run.clean
    assert (run.portfolios_checked, run.positions_checked, run.orders_checked) == (1, 1, 1)
    assert list(ReconciliationBreak.objects.all()) == []
    assert ledger.reconciliation_last_clean() == run


def test_the_demo_seed_reconciles(db):
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    run = ledger.reconciliation_run(trigger=ledger.NIGHTLY)
    assert run.portfolios_checked > 0 and run.positions_checked > 0
    assert list(run.breaks.values_list("kind", "subject")) == []


@pytest.mark.parametrize(
    ("statement", "kind", "subject", "expected", "actual"),
    [
        ("UPDATE oms_position SET quantity = quantity + 7 WHERE portfolio_id = %s", "POSITION", "AAPL", "600", "607"),
        ("UPDATE oms_portfolio SET cash = cash - 0.01 WHERE id = %s", "CASH", "cash", None, None),
        (
            "UPDATE oms_order SET filled_quantity = 90 WHERE portfolio_id = %s",
            "ORDER_FILLED",
            "order",
            "100",
            "90",
        ),
    ],
)
def test_a_break_planted_with_raw_sql_is_found(books, statement, kind, subject, expected, actual):
    portfolio, order = books
    _sql(statement, [portfolio.pk])
    run = ledger.reconciliation_run(trigger=ledger.NIGHTLY)
    assert run.breaks_found == 1
    b = run.breaks.get()
    assert (b.kind, b.portfolio_id) == (kind, portfolio.pk)
    assert b.subject == (f"order {order.pk}" if subject == "order" else subject)
    if kind == "CASH":
        assert b.expected == portfolio.cash and b.actual == portfolio.cash - D("0.01")
    else:
        assert (b.expected, b.actual) == (D(expected), D(actual))


def test_a_position_without_its_fills_is_a_break(books):
    portfolio, _ = books
    _sql("DELETE FROM oms_position WHERE portfolio_id = %s", [portfolio.pk])
    run = ledger.reconciliation_run(trigger=ledger.NIGHTLY)
    assert list(run.breaks.values_list("kind", "subject", "expected", "actual")) == [("POSITION", "AAPL", D(600), D(0))]


def test_the_nightly_task_is_scheduled_and_stores_a_run(books):
    entry = settings.CELERY_BEAT_SCHEDULE["oms-reconciliation-nightly"]
    assert entry["task"] == reconciliation_nightly.name
    assert entry["schedule"].hour == {2} and entry["schedule"].minute == {0}
    run_id = reconciliation_nightly()  # the task body, as the worker runs it
    run = ReconciliationRun.objects.get(pk=run_id)
    assert (run.trigger, run.actor, run.breaks_found) == ("NIGHTLY", None, 0)


def test_an_admin_runs_it_from_the_console_and_sees_the_breaks(console, books, admin_user):
    portfolio, _ = books
    r = console.get("/admin/reconciliation/")
    assert r.status_code == 200 and "No reconciliation has run yet." in r.content.decode()
    assert console.post("/admin/reconciliation/run/").status_code == 302
    page = console.get("/admin/reconciliation/").content.decode()
    assert '<span class="status-clean" id="reconciliation-status">clean</span>' in page
    _sql("UPDATE oms_position SET quantity = 1 WHERE portfolio_id = %s", [portfolio.pk])
    console.post("/admin/reconciliation/run/")
    page = console.get("/admin/reconciliation/").content.decode()
    assert "1 breaks" in page and "AAPL" in page and "Books last reconciled" in page
    runs = list(ReconciliationRun.objects.order_by("id").values_list("trigger", "actor", "breaks_found"))
    assert runs == [("CONSOLE", admin_user.pk, 0), ("CONSOLE", admin_user.pk, 1)]
    assert ConsoleChange.objects.filter(action="RECONCILE", actor=admin_user).count() == 2


def test_healthz_flags_breaks_for_admins_only(client, console, books, pm):
    portfolio, _ = books
    _sql("UPDATE oms_portfolio SET cash = 0 WHERE id = %s", [portfolio.pk])
    ledger.reconciliation_run(trigger=ledger.NIGHTLY)
    body = console.get("/healthz").json()
    assert body["reconciliation"]["status"] == "breaks" and body["reconciliation"]["breaks"] == 1
    assert body["reconciliation"]["last_clean_run"] is None
    client.logout()
    assert "reconciliation" not in client.get("/healthz").json()
    client.force_login(pm)
    assert "reconciliation" not in client.get("/healthz").json()
