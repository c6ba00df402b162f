"""Position arithmetic on signed quantities (long > 0, short < 0), average-cost method."""

from dataclasses import dataclass
from decimal import Decimal

from core.vocabulary import Side


@dataclass(frozen=True, slots=True)
class PositionState:
    quantity: Decimal
    average_cost: Decimal
    realised_pnl: Decimal


def apply_trade(
    pos: PositionState, *, side: str, quantity: Decimal, price: Decimal, multiplier: Decimal
) -> PositionState:
    """The position after trading `quantity` at `price`. Closing trades realise P&L against the
    average cost; a trade through zero closes the old side and opens the rest at `price`."""
    signed = quantity if side == Side.BUY else -quantity
    held = pos.quantity
    if held == 0 or (held > 0) == (signed > 0):
        new_qty = held + signed
        avg = (abs(held) * pos.average_cost + quantity * price) / abs(new_qty)
        return PositionState(new_qty, avg, pos.realised_pnl)
    closed = min(abs(held), quantity)
    direction = 1 if held > 0 else -1
    realised = pos.realised_pnl + (price - pos.average_cost) * closed * direction * multiplier
    new_qty = held + signed
    if new_qty == 0:
        avg = Decimal(0)
    elif (new_qty > 0) == (held > 0):
        avg = pos.average_cost
    else:
        avg = price  # flipped: the remainder opened at this trade's price
    return PositionState(new_qty, avg, realised)


def average_price(filled: Decimal, avg: Decimal | None, quantity: Decimal, price: Decimal) -> Decimal:
    """Volume-weighted average fill price after adding one fill."""
    if filled == 0 or avg is None:
        return price
    return (filled * avg + quantity * price) / (filled + quantity)
