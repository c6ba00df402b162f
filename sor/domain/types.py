"""The router's own vocabulary. Sides, urgencies, asset classes, venue kinds, strategies,
parse_enum and the trading day come from core.vocabulary; only what the router alone
means lives here."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from core.vocabulary import Strategy

# Quantities and prices arrive as Decimals from the Django side, floats or ints from tests
# and benchmarks; the selector accepts all three.
Number = Decimal | float | int


class VolatilityRegime(StrEnum):
    LOW = "LOW"
    NORMAL = "NORMAL"
    HIGH = "HIGH"


# Strategies that trade along a schedule over a horizon (as opposed to one shot).
SCHEDULED_STRATEGIES: frozenset[Strategy] = frozenset(
    {Strategy.TWAP, Strategy.VWAP, Strategy.POV, Strategy.IS, Strategy.ICEBERG, Strategy.DARK}
)
