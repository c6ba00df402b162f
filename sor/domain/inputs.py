"""What the selector knows about an order and its market, and the figures derived from it
that rules test and rationale templates quote."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from core.vocabulary import TRADING_DAY_SECONDS, AssetClass, Side, Urgency, parse_enum
from sor.domain.cost import DEFAULT_IMPACT_COEF
from sor.domain.types import Number, VolatilityRegime

# Daily volatility thresholds (fractions) splitting LOW | NORMAL | HIGH, per asset class.
# Equities: a large cap moves ~1-2% a day, so below 1.2% is quiet and above 3% is stressed.
# Crypto majors routinely move 2-5% a day. Option premia move several times their
# underlying (leverage), so their daily volatility is judged against a much wider band.
VOLATILITY_THRESHOLDS: dict[AssetClass, tuple[float, float]] = {
    AssetClass.EQUITY: (0.012, 0.03),
    AssetClass.CRYPTO: (0.025, 0.06),
    AssetClass.OPTION: (0.03, 0.08),
}
DEFAULT_TAKER_FEE_BPS = 0.3


@dataclass(frozen=True, slots=True)
class SelectionInputs:
    """What the selector knows about an order and its market. Quantities are in the
    instrument's units (shares, contracts, coins); price is the mid; daily_vol a fraction."""

    side: Side
    quantity: Number
    price: Number
    adv: Number
    daily_vol: float
    spread_bps: float
    displayed_depth: Number  # our side of the book (asks for a buy), all lit venues
    urgency: Urgency
    asset_class: AssetClass
    time_left_seconds: float  # until the order must be done
    limit_price: Number | None = None
    lot_size: Number = Decimal(1)
    multiplier: Number = 1
    impact_coef: float = DEFAULT_IMPACT_COEF
    venue_count_dark: int = 0
    fee_bps: float = DEFAULT_TAKER_FEE_BPS

    def __post_init__(self) -> None:
        object.__setattr__(self, "side", parse_enum(Side, self.side, "side"))
        object.__setattr__(self, "urgency", parse_enum(Urgency, self.urgency, "urgency"))
        object.__setattr__(self, "asset_class", parse_enum(AssetClass, self.asset_class, "asset_class"))
        if not (self.quantity > 0 and self.price > 0 and self.adv > 0 and self.lot_size > 0):
            raise ValueError("quantity, price, adv and lot_size must be > 0")
        if not (self.daily_vol >= 0 and self.spread_bps >= 0 and self.displayed_depth >= 0):
            raise ValueError("daily_vol, spread_bps and displayed_depth must be >= 0")
        if not (self.time_left_seconds >= 0 and self.venue_count_dark >= 0 and self.fee_bps >= 0):
            raise ValueError("time_left_seconds, venue_count_dark and fee_bps must be >= 0")
        if self.limit_price is not None and not self.limit_price > 0:
            raise ValueError("limit_price must be > 0")

    @property
    def participation(self) -> float:
        return float(self.quantity) / float(self.adv)

    @property
    def depth_ratio(self) -> float:
        return float(self.displayed_depth) / float(self.quantity)

    @property
    def volatility_regime(self) -> VolatilityRegime:
        low, high = VOLATILITY_THRESHOLDS[self.asset_class]
        if self.daily_vol < low:
            return VolatilityRegime.LOW
        if self.daily_vol > high:
            return VolatilityRegime.HIGH
        return VolatilityRegime.NORMAL

    @property
    def limit_distance_bps(self) -> float | None:
        """How far the limit lets us pay through the mid: positive = marketable room,
        negative = the limit sits behind the mid on the passive side. None without limit."""
        if self.limit_price is None:
            return None
        mid = float(self.price)
        distance = (float(self.limit_price) - mid) / mid * 1e4
        return distance if self.side is Side.BUY else -distance

    @property
    def trading_day_seconds(self) -> float:
        return TRADING_DAY_SECONDS[self.asset_class]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values; decimals as strings, as everywhere at our edges."""
        return {name: _plain(getattr(self, name)) for name in _INPUT_FIELDS}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str):  # our StrEnums become their bare value
        return str.__str__(value)
    return value


_INPUT_FIELDS = tuple(f.name for f in fields(SelectionInputs))


def selection_features(inputs: SelectionInputs) -> dict[str, Any]:
    """Everything rules test and rationale templates may quote, computed once."""
    participation = inputs.participation
    limit_distance = inputs.limit_distance_bps
    return {
        "participation": participation,
        "participation_pct": participation * 100,
        "spread_bps": float(inputs.spread_bps),
        "depth_ratio": inputs.depth_ratio,
        "volatility_regime": inputs.volatility_regime,
        "daily_vol_pct": inputs.daily_vol * 100,
        "urgency": inputs.urgency,
        "asset_class": inputs.asset_class,
        "time_left_seconds": float(inputs.time_left_seconds),
        "time_left_minutes": inputs.time_left_seconds / 60,
        # No limit = nothing stops us paying through the mid: as far as +infinity.
        "limit_distance_bps": math.inf if limit_distance is None else limit_distance,
        "venue_count_dark": inputs.venue_count_dark,
        "quantity": inputs.quantity,
        "displayed_depth": inputs.displayed_depth,
        "lots_shown": float(inputs.displayed_depth) / float(inputs.lot_size),
        "side": inputs.side,
    }


# A complete example of the features: a rule checks its rationale template against it when
# it is built, so a typo in the admin fails on save rather than on the next order.
SAMPLE_FEATURES: dict[str, Any] = selection_features(
    SelectionInputs(
        side=Side.BUY,
        quantity=1000,
        price=100,
        adv=1e6,
        daily_vol=0.02,
        spread_bps=5,
        displayed_depth=5000,
        urgency=Urgency.MEDIUM,
        asset_class=AssetClass.EQUITY,
        time_left_seconds=3600,
        limit_price=101,
    )
)
