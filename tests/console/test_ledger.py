"""Ledgers that cannot be edited: positions move only by fills; cash only by fills and
append-only cash movements, a correction being a new movement."""

import ast
import pathlib
from decimal import Decimal as D

import pytest
from django.db import DatabaseError, connection, transaction

from core.errors import Conflict
from oms import ledger
from oms.models import CashMovement, Portfolio, Position

pytestmark = pytest.mark.django_db
ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_a_correction_is_a_new_movement_and_leaves_the_original_untouched(books, admin_user):
    portfolio, _ = books
    original = CashMovement.objects.get(kind="DEPOSIT")
    before = (original.amount, original.balance_after, original.reason, original.at)
    correction = ledger.cash_movement_record(
        actor=admin_user,
        portfolio_id=portfolio.pk,
        kind="CORRECTION",
        amount=D("-0.5"),
        reason="the deposit was 2500, not 2500.5",
        corrects_id=original.pk,
    )
    original.refresh_from_db()
    assert (original.amount, original.balance_after, original.reason, original.at) == before
    assert correction.corrects_id == original.pk and correction.actor == admin_user
    assert correction.balance_after == portfolio.cash - D("0.5")
    assert Portfolio.objects.get(pk=portfolio.pk).cash == correction.balance_after
    assert CashMovement.objects.filter(portfolio=portfolio).count() == 3  # opening, deposit, correction


@pytest.mark.parametrize(
    ("kind", "amount", "corrects", "message"),
    [
        ("DEPOSIT", "-1", False, "wrong sign"),
        ("WITHDRAWAL", "1", False, "wrong sign"),
        ("CORRECTION", "1", False, "names the movement"),
        ("FEE_ADJUSTMENT", "1", True, "only a correction"),
        ("DEPOSIT", "1", False, "needs a reason"),
    ],
)
def test_a_bad_movement_is_refused_and_changes_nothing(books, kind, amount, corrects, message):
    portfolio, _ = books
    count, cash = CashMovement.objects.count(), portfolio.cash
    with pytest.raises(Conflict, match=message):
        ledger.cash_movement_record(
            actor=None,
            portfolio_id=portfolio.pk,
            kind=kind,
            amount=D(amount),
            reason="" if message == "needs a reason" else "why",
            corrects_id=CashMovement.objects.first().pk if corrects else None,
        )
    assert CashMovement.objects.count() == count
    assert Portfolio.objects.get(pk=portfolio.pk).cash == cash


@pytest.mark.parametrize("statement", ["UPDATE oms_cashmovement SET amount = 1", "DELETE FROM oms_cashmovement"])
def test_the_database_refuses_to_rewrite_a_movement(books, statement):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert CashMovement.objects.filter(kind="DEPOSIT", amount=D("2500.5")).exists()


def test_the_movement_model_refuses_changes(books):
    movement = CashMovement.objects.first()
    movement.amount = D(1)
    with pytest.raises(Exception, match="append-only"):
        movement.save()


# --- positions: only a fill moves them -------------------------------------------------


def test_the_console_cannot_add_change_or_delete_a_position(console, books):
    portfolio, _ = books
    position = Position.objects.get(portfolio=portfolio)
    assert console.get("/admin/oms/position/").status_code == 200
    assert console.get("/admin/oms/position/add/").status_code == 403
    r = console.post(f"/admin/oms/position/{position.pk}/change/", {"quantity": "1", "instrument": "1"})
    assert r.status_code == 403
    assert console.post(f"/admin/oms/position/{position.pk}/delete/", {"post": "yes"}).status_code == 403
    r = console.post("/admin/oms/position/", {"action": "delete_selected", "_selected_action": [position.pk]})
    position.refresh_from_db()
    assert position.quantity == D(600)


def test_the_console_cannot_edit_cash(console, books):
    portfolio, _ = books
    data = {"name": portfolio.name, "owner": portfolio.owner_id, "base_currency": "USD", "cash": "1"}
    assert console.post(f"/admin/oms/portfolio/{portfolio.pk}/change/", data).status_code == 302
    assert Portfolio.objects.get(pk=portfolio.pk).cash == portfolio.cash


def test_the_console_records_a_withdrawal_with_who_when_why_and_balance(console, books, admin_user):
    portfolio, _ = books
    r = console.post(
        "/admin/oms/cashmovement/add/",
        {"portfolio": portfolio.pk, "kind": "WITHDRAWAL", "amount": "1000", "reason": "redemption"},
    )
    assert r.status_code == 302, r.content.decode()[-3000:]
    m = CashMovement.objects.get(kind="WITHDRAWAL")
    assert (m.amount, m.balance_after, m.actor, m.reason) == (D(-1000), portfolio.cash - 1000, admin_user, "redemption")
    assert console.get(f"/admin/oms/cashmovement/{m.pk}/delete/").status_code == 403
    r = console.post(f"/admin/oms/cashmovement/{m.pk}/change/", {"amount": "5", "reason": "x", "kind": "DEPOSIT"})
    m.refresh_from_db()
    assert m.amount == D(-1000)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_api_cannot_write_a_position(api_client, admin_user, trader, books, method):
    portfolio, _ = books
    position = Position.objects.get(portfolio=portfolio)
    api = api_client(trader)
    url = "/api/positions/" if method == "post" else f"/api/positions/{position.pk}/"
    r = getattr(api, method)(url, {"quantity": "1"}, format="json")
    assert r.status_code == 405
    position.refresh_from_db()
    assert position.quantity == D(600)


def _position_writers() -> set[str]:
    """Every function in the product's code that writes Position rows."""
    writers = set()
    for path in ROOT.glob("*/**/*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in ("tests", ".venv", "bench") or "migrations" in rel.parts:
            continue
        tree = ast.parse(path.read_text())
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef):
                continue
            source = ast.unparse(func)
            if any(
                needle in source
                for needle in (
                    "Position.objects.create",
                    "Position.objects.update",
                    "Position.objects.bulk_create",
                    "Position.objects.get_or_create",
                    "Position.objects.update_or_create",
                    "Position.objects.filter(",
                )
            ) and any(w in source for w in ("create", ".update(", ".delete(", "pos.save(")):
                writers.add(f"{rel}:{func.name}")
    return writers


def test_only_a_fill_or_the_opening_holdings_write_positions():
    """The shell's services: a fill, through apply_fill (_position_apply) or a batch of them
    (oms.services.FillBatch: `prepare` creates the positions it will move), and the seed's
    opening holdings are the only writers of positions in the whole product."""
    assert _position_writers() == {
        "oms/services.py:_position_apply",
        "oms/services.py:prepare",
        "oms/services.py:portfolio_seed",
    }
