"""The ledgers: cash moves only by fills (oms.services.apply_fill) and by append-only cash
movements written here; positions move only by fills and by the holding transfers a
portfolio opens with. Reconciliation proves it from the history: every position is its
transfers plus its fills, cash is its movements plus its fills, and every order's filled
quantity is its applied fills."""

from collections import defaultdict
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone

from core.errors import Conflict
from core.locks import lock_one
from core.vocabulary import CashMovementKind, ReconciliationCheck
from oms.domain import ledger
from oms.models import (
    CashMovement,
    HoldingTransfer,
    Order,
    OrderFill,
    Portfolio,
    Position,
    ReconciliationBreak,
    ReconciliationRun,
)

NIGHTLY, CONSOLE = "NIGHTLY", "CONSOLE"


@transaction.atomic
def cash_movement_record(
    *,
    actor,
    portfolio_id: int,
    kind: str,
    amount: Decimal,
    reason: str,
    corrects_id: int | None = None,
) -> CashMovement:
    """Move a portfolio's cash by `amount` (signed: what it does to cash) and write the
    movement with the balance right after, under the portfolio's lock. A correction names
    the movement it corrects and leaves that movement as it was."""
    kind = CashMovementKind(kind)
    amount = Decimal(amount)
    reason = (reason or "").strip()
    if not reason:
        raise Conflict("a cash movement needs a reason")
    if not ledger.SIGN_RULES[kind](amount):
        raise Conflict(f"a {kind.value.lower().replace('_', ' ')} of {amount} has the wrong sign")
    portfolio = lock_one(Portfolio, portfolio_id, what="portfolio")
    corrects = None
    if kind == CashMovementKind.CORRECTION:
        if corrects_id is None:
            raise Conflict("a correction names the movement it corrects")
        corrects = CashMovement.objects.filter(pk=corrects_id, portfolio_id=portfolio.pk).first()
        if corrects is None:
            raise Conflict(f"cash movement {corrects_id} is not a movement of {portfolio}")
    elif corrects_id is not None:
        raise Conflict("only a correction corrects another movement")
    Portfolio.objects.filter(pk=portfolio.pk).update(cash=F("cash") + amount)
    balance = Portfolio.objects.values_list("cash", flat=True).get(pk=portfolio.pk)
    return CashMovement.objects.create(
        portfolio=portfolio,
        kind=kind,
        amount=amount,
        balance_after=balance,
        reason=reason[:500],
        corrects=corrects,
        actor=actor,
    )


def holding_transfer_record(
    *, portfolio: Portfolio, instrument, quantity: Decimal, cost: Decimal, reason: str, actor=None
):
    """The history of a holding that entered other than by a fill (opening holdings)."""
    return HoldingTransfer.objects.create(
        portfolio=portfolio, instrument=instrument, quantity=quantity, average_cost=cost, reason=reason, actor=actor
    )


def _expected_books():
    """From the history alone: {(portfolio, instrument): quantity}, {portfolio: cash},
    {order: filled}, plus the symbols of the instruments seen."""
    quantities: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    cash: dict[int, Decimal] = defaultdict(Decimal)
    filled: dict[int, Decimal] = defaultdict(Decimal)
    symbols: dict[int, str] = {}
    for row in HoldingTransfer.objects.values("portfolio_id", "instrument_id", "instrument__symbol").annotate(
        total=Sum("quantity")
    ):
        quantities[row["portfolio_id"], row["instrument_id"]] += row["total"]
        symbols[row["instrument_id"]] = row["instrument__symbol"]
    for row in CashMovement.objects.values("portfolio_id").annotate(total=Sum("amount")):
        cash[row["portfolio_id"]] += row["total"]
    fills = OrderFill.objects.filter(refused_reason="").values_list(
        "order_id",
        "order__portfolio_id",
        "order__instrument_id",
        "order__instrument__symbol",
        "order__instrument__multiplier",
        "order__side",
        "quantity",
        "price",
        "fee",
    )
    for order_id, portfolio_id, instrument_id, symbol, multiplier, side, quantity, price, fee in fills.iterator():
        symbols[instrument_id] = symbol
        filled[order_id] += quantity
        quantities[portfolio_id, instrument_id] += ledger.signed_quantity(side=side, quantity=quantity)
        cash[portfolio_id] += ledger.fill_cash_delta(
            side=side, quantity=quantity, price=price, multiplier=multiplier, fee=fee
        )
    return quantities, cash, filled, symbols


def _consistent_snapshot(*, outermost: bool) -> None:
    """Every query of the run sees the same committed state (fills land meanwhile). Only
    the outermost transaction can choose its isolation (a caller's, e.g. a test's, has)."""
    if outermost and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def reconciliation_run(*, trigger: str, actor=None) -> ReconciliationRun:
    """Reconcile every portfolio and store the run with its breaks (a clean run too).
    Read-only over the books; running it again on the same books finds the same breaks."""
    started = timezone.now()
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        _consistent_snapshot(outermost=outermost)
        quantities, cash, filled, symbols = _expected_books()
        breaks: list[ledger.Break] = []
        positions = Position.objects.values_list("portfolio_id", "instrument_id", "instrument__symbol", "quantity")
        seen = set()
        for portfolio_id, instrument_id, symbol, quantity in positions:
            seen.add((portfolio_id, instrument_id))
            breaks += ledger.compare(
                ReconciliationCheck.POSITION,
                portfolio_id,
                [(symbol, quantities.get((portfolio_id, instrument_id), Decimal(0)), quantity)],
            )
        for (portfolio_id, instrument_id), expected in quantities.items():
            if (portfolio_id, instrument_id) not in seen and expected != 0:
                breaks.append(
                    ledger.Break(
                        ReconciliationCheck.POSITION, portfolio_id, symbols[instrument_id], expected, Decimal(0)
                    )
                )
        portfolios = list(Portfolio.objects.values_list("pk", "cash"))
        for portfolio_id, book_cash in portfolios:
            breaks += ledger.compare(
                ReconciliationCheck.CASH, portfolio_id, [("cash", cash.get(portfolio_id, Decimal(0)), book_cash)]
            )
        orders = Order.objects.values_list("pk", "portfolio_id", "filled_quantity")
        orders_checked = 0
        for order_id, portfolio_id, book_filled in orders.iterator():
            orders_checked += 1
            breaks += ledger.compare(
                ReconciliationCheck.ORDER_FILLED,
                portfolio_id,
                [(f"order {order_id}", filled.get(order_id, Decimal(0)), book_filled)],
            )
        run = ReconciliationRun.objects.create(
            started_at=started,
            finished_at=timezone.now(),
            trigger=trigger,
            actor=actor,
            portfolios_checked=len(portfolios),
            positions_checked=len(seen),
            orders_checked=orders_checked,
            breaks_found=len(breaks),
        )
        ReconciliationBreak.objects.bulk_create(
            ReconciliationBreak(
                run=run,
                kind=b.kind,
                portfolio_id=b.portfolio_id,
                subject=b.subject[:80],
                expected=b.expected,
                actual=b.actual,
            )
            for b in breaks
        )
    return run


def reconciliation_latest() -> ReconciliationRun | None:
    return ReconciliationRun.objects.first()


def reconciliation_last_clean() -> ReconciliationRun | None:
    return ReconciliationRun.objects.filter(breaks_found=0).first()


def reconciliation_summary() -> dict:
    """For /healthz (admins): the latest run and when the books last reconciled."""
    latest, clean = reconciliation_latest(), reconciliation_last_clean()
    if latest is None:
        return {"status": "never run"}
    return {
        "status": "clean" if latest.clean else "breaks",
        "last_run": latest.finished_at.isoformat(),
        "breaks": latest.breaks_found,
        "last_clean_run": clean.finished_at.isoformat() if clean else None,
    }
