"""Vocabulary shared by the SOR core: sides, urgencies, asset classes, strategies.

StrEnum members are plain strings, so they compare equal to "BUY", serialise to JSON as
their value and can come straight from a database column.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class Urgency(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


class AssetClass(StrEnum):
    EQUITY = "EQUITY"
    OPTION = "OPTION"
    CRYPTO = "CRYPTO"


class VolatilityRegime(StrEnum):
    LOW = "LOW"
    NORMAL = "NORMAL"
    HIGH = "HIGH"


class Strategy(StrEnum):
    DIRECT = "DIRECT"  # sweep the lit venues now
    DARK = "DARK"  # rest at the mid in dark pools, sweep the residual
    TWAP = "TWAP"
    VWAP = "VWAP"
    POV = "POV"
    IS = "IS"  # implementation shortfall, Almgren-Chriss schedule
    ICEBERG = "ICEBERG"
    RFQ = "RFQ"


class VenueKind(StrEnum):
    LIT = "LIT"
    DARK = "DARK"


STRATEGIES: tuple[Strategy, ...] = tuple(Strategy)

# Strategies that trade along a schedule over a horizon (as opposed to one shot).
SCHEDULED_STRATEGIES: frozenset[Strategy] = frozenset(
    {Strategy.TWAP, Strategy.VWAP, Strategy.POV, Strategy.IS, Strategy.ICEBERG, Strategy.DARK}
)

# Seconds in one trading day: daily volatility and ADV are measured per trading day, so a
# horizon is converted to a fraction of *this* day, not of 24 hours (except for crypto).
TRADING_DAY_SECONDS: dict[AssetClass, float] = {
    AssetClass.EQUITY: 6.5 * 3600,
    AssetClass.OPTION: 6.5 * 3600,
    AssetClass.CRYPTO: 24 * 3600,
}


E = TypeVar("E", bound=StrEnum)


def parse_enum(enum_type: type[E], value: object, field_name: str) -> E:
    """Turn a string (or member) into a member, with an error that names the field."""
    try:
        return enum_type(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_type)
        raise ValueError(f"{field_name}={value!r} is not one of: {allowed}") from None
