"""What the books should say, from their history alone: the arithmetic of reconciliation.
Pure: plain numbers in, breaks out."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from core.decimals import MONEY_QUANTUM
from core.vocabulary import CashMovementKind, ReconciliationCheck, Side

# The sign a movement of each kind must have: deposits add, withdrawals take away; a fee
# adjustment or a correction may go either way; an opening balance may be zero or more.
SIGN_RULES = {
    CashMovementKind.DEPOSIT: lambda a: a > 0,
    CashMovementKind.WITHDRAWAL: lambda a: a < 0,
    CashMovementKind.FEE_ADJUSTMENT: lambda a: a != 0,
    CashMovementKind.CORRECTION: lambda a: a != 0,
    CashMovementKind.OPENING: lambda a: a >= 0,
}


def fill_cash_delta(*, side: str, quantity: Decimal, price: Decimal, multiplier: Decimal, fee: Decimal) -> Decimal:
    """What one applied fill does to cash, rounded as oms.services.apply_fill books it."""
    notional = quantity * price * multiplier
    delta = -(notional + fee) if side == Side.BUY else notional - fee
    return Decimal(delta).quantize(MONEY_QUANTUM, rounding=ROUND_HALF_EVEN)


def signed_quantity(*, side: str, quantity: Decimal) -> Decimal:
    return quantity if side == Side.BUY else -quantity


@dataclass(frozen=True, slots=True)
class Break:
    kind: ReconciliationCheck
    portfolio_id: int
    subject: str
    expected: Decimal
    actual: Decimal


def compare(kind: ReconciliationCheck, portfolio_id: int, pairs: Iterable[tuple[str, Decimal, Decimal]]) -> list[Break]:
    """A break for every (subject, expected, actual) that disagree."""
    return [Break(kind, portfolio_id, s, e, a) for s, e, a in pairs if Decimal(e) != Decimal(a)]
