"""The tick and lot grids of the simulator's instruments: internal prices are in ticks and
sizes in lots (floats holding whole numbers); what leaves the simulator is rounded to the
instrument's decimals so it compares exactly and prints cleanly."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np

from core.decimals import decimal_places
from core.vocabulary import Side, parse_enum

from .specs import InstrumentSpec, VenueSpec

LOT_TOLERANCE = 1e-9  # quantities within this many lots of a whole lot count as whole


def side_sign(side: str) -> int:
    """+1 for a buy, -1 for a sell; anything else is refused."""
    return 1 if parse_enum(Side, side, "side") == Side.BUY else -1


def side_of(sign: int | float) -> str:
    return Side.BUY.value if sign > 0 else Side.SELL.value


def fee(price: float, quantity: float, multiplier: float, bps: float) -> float:
    return round(price * quantity * multiplier * bps / 1e4, 8)


class Grid:
    def __init__(self, instruments: list[InstrumentSpec]) -> None:
        self.tick = np.array([spec.tick_size for spec in instruments])
        self.lot = np.array([spec.lot_size for spec in instruments])
        self.price_decimals = [decimal_places(Decimal(repr(spec.tick_size))) for spec in instruments]
        self.size_decimals = [decimal_places(Decimal(repr(spec.lot_size))) for spec in instruments]

    def price(self, row: int, ticks: float) -> float:
        return round(float(ticks * self.tick[row]), self.price_decimals[row])

    def units(self, row: int, lots: float) -> float:
        return round(float(lots * self.lot[row]), self.size_decimals[row])

    def lots_of(self, row: int, quantity: float, venue: VenueSpec) -> int:
        """Quantity in whole lots, rounded down; refuses non-positive and below-minimum orders."""
        if not quantity > 0:
            raise ValueError("quantity must be positive")
        if quantity < venue.min_quantity:
            raise ValueError(f"quantity {quantity} is below {venue.name}'s minimum {venue.min_quantity}")
        return math.floor(quantity / self.lot[row] + LOT_TOLERANCE)

    def min_lots(self, row: int, quantity: float) -> int:
        """The smallest whole number of lots that is at least `quantity`."""
        return max(0, math.ceil(quantity / self.lot[row] - LOT_TOLERANCE))

    def limit_ticks(self, row: int, sign: int, price: float) -> float:
        if not price > 0:
            raise ValueError("limit price must be positive")
        # Off-grid limits round to the less aggressive tick.
        ticks = price / self.tick[row]
        return float(math.floor(ticks + 1e-9) if sign > 0 else math.ceil(ticks - 1e-9))
