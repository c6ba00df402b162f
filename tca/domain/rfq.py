"""An RFQ's best-execution record: every quote with its time, the chosen one and why, price
improvement against the mid and the second-best quote, and information leakage per
provider: how far the lit mid moved against us between the request and the provider's
first quote (and our execution), minus how far it moved over a window of the same length
just before the request, when nobody had been asked (the control)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tca.domain.path import PricePath, bps, side_sign


@dataclass(frozen=True, slots=True)
class QuoteSeen:
    quote_id: int
    provider: str
    price: Decimal | None  # the side the client trades on
    received_at: float
    status: str


def price_improvement_bps(side: str, price: Decimal, reference: Decimal | None) -> Decimal | None:
    """Positive = better than the reference (bought below it, sold above it)."""
    if reference is None or not reference:
        return None
    return bps(side_sign(side) * (reference - price), reference)


def second_best(side: str, quotes: list[QuoteSeen], chosen_id: int) -> Decimal | None:
    """The best price among the other providers' quotes (a provider's own replaced quotes do
    not count as competition)."""
    chosen = next((q for q in quotes if q.quote_id == chosen_id), None)
    others = [q.price for q in quotes if q.price is not None and (chosen is None or q.provider != chosen.provider)]
    if not others:
        return None
    return min(others) if side_sign(side) > 0 else max(others)


def _move_bps(side: str, path: PricePath, start: float, end: float) -> Decimal | None:
    before, after = path.mid_at(start, extend=False), path.mid_at(end, extend=False)
    if before is None or after is None:
        return None
    return bps(side_sign(side) * (after - before), before)


def leakage(side: str, path: PricePath, *, requested_at: float, quotes: list[QuoteSeen], executed_at: float | None):
    """Per provider: the mid's adverse move (positive = against us) from the request to its
    first quote, the control move over the same length before the request, and their
    difference (the leakage); the same for the window up to our execution."""
    first: dict[str, float] = {}
    for q in sorted(quotes, key=lambda q: q.received_at):
        first.setdefault(q.provider, q.received_at)
    rows = []
    for provider, at in sorted(first.items()):
        span = max(at - requested_at, 0.0)
        move = _move_bps(side, path, requested_at, at)
        control = _move_bps(side, path, requested_at - span, requested_at)
        rows.append(
            {
                "provider": provider,
                "window_seconds": round(span, 3),
                "move_bps": _s(move),
                "control_bps": _s(control),
                "leakage_bps": _s(None if move is None or control is None else move - control),
            }
        )
    execution = None
    if executed_at is not None:
        span = max(executed_at - requested_at, 0.0)
        move = _move_bps(side, path, requested_at, executed_at)
        control = _move_bps(side, path, requested_at - span, requested_at)
        execution = {
            "window_seconds": round(span, 3),
            "move_bps": _s(move),
            "control_bps": _s(control),
            "leakage_bps": _s(None if move is None or control is None else move - control),
        }
    return {"providers": rows, "execution": execution}


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
