"""Implementation shortfall, split as Perold (1988) does, against a paper portfolio that
bought (or sold) the whole order at the decision price:

    total       = s * (sum q_i p_i - X Pd) * m + fees + s * (Q - X) * (Pe - Pd) * m
    delay       = s * X * (Pa - Pd) * m            decision to arrival, on what was filled
    spread      = s * sum q_i * clip(p_i - M_i, +-h_i) * m
                                                   the touch: up to the quoted half-spread h_i
                                                   at the fill (negative when a passive or
                                                   dark fill earned it)
    impact      = s * sum q_i (p_i - M_i) * m - spread
                                                   beyond the touch: depth consumed
    timing      = s * sum q_i (M_i - Pa) * m       the mid's move from arrival to each fill:
                                                   the market and our own permanent impact,
                                                   which the prints alone cannot tell apart
    fees        = sum fee_i
    opportunity = s * (Q - X) * (Pe - Pd) * m      what was not filled, at the end price

with s = +1 buy / -1 sell, Q ordered, X filled, Pd the decision price, Pa the arrival price,
M_i the mid at fill i, Pe the end price, m the contract multiplier. Positive is a cost. The
parts add up to the total exactly in Decimal; rounded to the cent with the largest-remainder
rule, so the rounded parts still add up to the rounded total."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from tca.domain.path import bps, side_sign

CENT = Decimal("0.01")
PARTS = ("delay", "spread", "impact", "timing", "fees", "opportunity")


@dataclass(frozen=True, slots=True)
class Fill:
    quantity: Decimal
    price: Decimal
    at: float  # epoch seconds
    fee: Decimal = Decimal(0)
    venue: str = ""
    counterparty: str = ""  # an RFQ fill's provider; blank on a venue


@dataclass(frozen=True, slots=True)
class Shortfall:
    parts: dict[str, Decimal]  # currency, rounded to the cent, in PARTS order
    total: Decimal  # currency, = sum(parts) to the cent
    paper_notional: Decimal  # Q * Pd * m
    parts_bps: dict[str, Decimal | None]
    total_bps: Decimal | None
    filled_quantity: Decimal
    average_price: Decimal | None

    @property
    def trading_cost(self) -> Decimal:
        return self.parts["spread"] + self.parts["impact"]

    def to_dict(self) -> dict:
        return {
            "parts": {k: str(v) for k, v in self.parts.items()},
            "parts_bps": {k: None if v is None else str(v) for k, v in self.parts_bps.items()},
            "trading_cost": str(self.trading_cost),
            "total": str(self.total),
            "total_bps": None if self.total_bps is None else str(self.total_bps),
            "paper_notional": str(self.paper_notional),
            "filled_quantity": str(self.filled_quantity),
            "average_price": None if self.average_price is None else str(self.average_price),
        }


def round_to_total(exact: dict[str, Decimal], quantum: Decimal = CENT) -> dict[str, Decimal]:
    """Round each value to `quantum` so that the rounded values sum to the rounded exact
    total: floor everything, then hand the missing quanta to the largest remainders."""
    total = sum(exact.values(), Decimal(0)).quantize(quantum)
    floors = {k: v.quantize(quantum, rounding=ROUND_FLOOR) for k, v in exact.items()}
    missing = int(((total - sum(floors.values(), Decimal(0))) / quantum).to_integral_value())
    by_remainder = sorted(exact, key=lambda k: (exact[k] - floors[k], k), reverse=True)
    for key in by_remainder[:missing]:
        floors[key] += quantum
    return floors


def implementation_shortfall(
    *,
    side: str,
    ordered_quantity: Decimal,
    decision_price: Decimal,
    arrival_price: Decimal,
    end_price: Decimal,
    fills: list[Fill],
    mids_at_fills: list[Decimal],
    half_spreads_at_fills: list[Decimal | None] | None = None,
    multiplier: Decimal = Decimal(1),
) -> Shortfall:
    s = side_sign(side)
    if len(mids_at_fills) != len(fills):
        raise ValueError("one mid per fill")
    half_spreads = half_spreads_at_fills or [None] * len(fills)
    filled = sum((f.quantity for f in fills), Decimal(0))
    if filled > ordered_quantity:
        raise ValueError("filled more than ordered")
    spread = impact = timing = Decimal(0)
    for fill, mid, half in zip(fills, mids_at_fills, half_spreads, strict=True):
        paid = s * (fill.price - mid)
        touch = paid if half is None else max(-half, min(half, paid))
        spread += fill.quantity * touch
        impact += fill.quantity * (paid - touch)
        timing += fill.quantity * s * (mid - arrival_price)
    exact = {
        "delay": s * filled * (arrival_price - decision_price) * multiplier,
        "spread": spread * multiplier,
        "impact": impact * multiplier,
        "timing": timing * multiplier,
        "fees": sum((f.fee for f in fills), Decimal(0)),
        "opportunity": s * (ordered_quantity - filled) * (end_price - decision_price) * multiplier,
    }
    parts = round_to_total(exact)
    total = sum(parts.values(), Decimal(0))
    notional = ordered_quantity * decision_price * multiplier
    average = sum((f.quantity * f.price for f in fills), Decimal(0)) / filled if filled else None
    return Shortfall(
        parts=parts,
        total=total,
        paper_notional=notional,
        parts_bps={k: bps(v, notional) for k, v in parts.items()},
        total_bps=bps(total, notional),
        filled_quantity=filled,
        average_price=average,
    )


def shortfall_direct(
    *, side: str, ordered_quantity: Decimal, decision_price: Decimal, end_price: Decimal, fills: list[Fill], multiplier
) -> Decimal:
    """The total from its definition alone (no split): what the parts must add up to."""
    s = side_sign(side)
    filled = sum((f.quantity for f in fills), Decimal(0))
    paid = sum((f.quantity * f.price for f in fills), Decimal(0))
    return (
        s * (paid - filled * decision_price) * multiplier
        + sum((f.fee for f in fills), Decimal(0))
        + s * (ordered_quantity - filled) * (end_price - decision_price) * multiplier
    )
