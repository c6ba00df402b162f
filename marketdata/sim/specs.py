"""Plain inputs of the simulator: instruments, venues and the tunables of the model.

Every field of `SimParams` is used by `marketdata.sim.simulator`; the formulas that use
them are written out in that module's docstring.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.vocabulary import EQUITY_SESSION_SECONDS, AssetClass, OptionRight, VenueKind, parse_enum


@dataclass(frozen=True, slots=True)
class InstrumentSpec:
    """Reference data the simulator needs for one instrument.

    `adv` is in units (shares, contracts, coins) per session; `daily_vol` is the standard
    deviation of the log return over one session. Options also need `underlying` (the
    symbol of another instrument in the same simulator), `strike`, `expiry_years` (time to
    expiry at session open) and `right` ("C" or "P"); their `daily_vol` is informational,
    the simulator prices them from the underlying. `multiplier` scales notional and fees.
    `impact_coef` is the permanent impact: the fractional mid move for trading one ADV.
    """

    symbol: str
    asset_class: str
    reference_price: float
    tick_size: float
    lot_size: float
    adv: float
    daily_vol: float
    underlying: str | None = None
    strike: float | None = None
    expiry_years: float | None = None
    right: str | None = None
    multiplier: float = 1.0
    impact_coef: float = 0.1

    def __post_init__(self) -> None:
        parse_enum(AssetClass, self.asset_class, f"{self.symbol}: asset_class")
        for name in ("reference_price", "tick_size", "lot_size", "adv", "multiplier"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{self.symbol}: {name} must be positive")
        if self.daily_vol < 0 or self.impact_coef < 0:
            raise ValueError(f"{self.symbol}: daily_vol and impact_coef must be >= 0")
        if self.asset_class == AssetClass.OPTION:
            if self.underlying is None or self.strike is None or self.expiry_years is None:
                raise ValueError(f"{self.symbol}: an option needs underlying, strike and expiry_years")
            parse_enum(OptionRight, self.right, f"{self.symbol}: right")
            if not (self.strike > 0 and self.expiry_years > 0):
                raise ValueError(f"{self.symbol}: strike and expiry_years must be positive")


@dataclass(frozen=True, slots=True)
class VenueSpec:
    """A venue as the simulator sees it.

    LIT venues get an order book per instrument; DARK venues match resting orders at the
    midpoint and publish nothing; RFQ venues are ignored here (the RFQ app simulates its
    liquidity providers). Fees are in basis points of notional, positive = we pay;
    a negative maker fee is a rebate. `min_quantity` is the smallest order the venue
    accepts and, in a dark pool, also the smallest execution.
    """

    name: str
    kind: str
    maker_fee_bps: float
    taker_fee_bps: float
    latency_ms: float
    min_quantity: float = 0.0
    spread_mult: float = 1.0
    depth_mult: float = 1.0
    enabled: bool = True

    def __post_init__(self) -> None:
        parse_enum(VenueKind, self.kind, f"{self.name}: kind")
        if self.spread_mult <= 0 or self.depth_mult <= 0:
            raise ValueError(f"{self.name}: spread_mult and depth_mult must be positive")
        if self.latency_ms < 0 or self.min_quantity < 0:
            raise ValueError(f"{self.name}: latency_ms and min_quantity must be >= 0")


def _per_class(equity: float, option: float, crypto: float) -> dict[str, float]:
    return {AssetClass.EQUITY: equity, AssetClass.OPTION: option, AssetClass.CRYPTO: crypto}


@dataclass(frozen=True, slots=True)
class SimParams:
    """All tunables of the simulator, with the defaults used by the demo.

    Book shape
      levels: price levels per side shown in a snapshot.
      reserve_levels: extra levels kept behind the shown ones, so a sweep that empties
          the first levels still leaves `levels` non-empty levels to show.
      base_spread_bps: quoted spread (ask - bid) per asset class, in bps of the mid,
          before the venue's `spread_mult`; never less than one tick.
      level_gap_bps: distance between adjacent levels per asset class, in bps of the
          reference price, rounded to a whole number of ticks (at least one).
      depth_per_level_adv: displayed size of the first level as a fraction of ADV per
          asset class, before the venue's `depth_mult`; at least one lot.
      depth_slope: level k holds (1 + depth_slope * k) times the first level's size.
      depth_noise: sigma of the mean-one lognormal factor that scales each level's size.
      level_refresh_rate: per level and second, how often that factor is redrawn.

    Dynamics
      step_seconds: fixed simulation step; `advance_to` only runs whole steps.
      session_seconds: length of the trading session (6.5 h, crypto too); sessions run
          back to back, the day's volume restarts at each session open.
      resilience_half_life_s: consumed depth refills with this half-life.
      permanent_impact: global multiplier on `InstrumentSpec.impact_coef`.
      u_shape: curvature of the intraday volume profile; the rate at the open and at the
          close is (1 + u_shape) / (1 + u_shape / 3) times the session average.
      trades_per_day: background trades per session per asset class (fewer when ADV
          is too small for trades of one lot).

    Dark pools
      dark_contra_ratio: contra orders arriving in a dark pool per background lit trade
          (times the pool's `depth_mult`), half of them on each side.
      dark_contra_size_multiple: mean contra size in mean background trade sizes.

    Options
      option_implied_vol: annual implied vol for Black-Scholes; None = the underlying's
          daily_vol * sqrt(trading_days_per_year).
      risk_free_rate: continuously compounded annual rate.
      trading_days_per_year: converts sessions to years for option expiry.
    """

    levels: int = 10
    reserve_levels: int = 10
    base_spread_bps: dict[str, float] = field(default_factory=lambda: _per_class(2.0, 300.0, 1.0))
    level_gap_bps: dict[str, float] = field(default_factory=lambda: _per_class(1.0, 50.0, 0.5))
    depth_per_level_adv: dict[str, float] = field(default_factory=lambda: _per_class(0.0005, 0.002, 0.0005))
    depth_slope: float = 0.15
    depth_noise: float = 0.25
    level_refresh_rate: float = 0.5
    step_seconds: float = 1.0
    session_seconds: float = EQUITY_SESSION_SECONDS
    resilience_half_life_s: float = 60.0
    permanent_impact: float = 1.0
    u_shape: float = 3.0
    trades_per_day: dict[str, float] = field(default_factory=lambda: _per_class(10000.0, 400.0, 40000.0))
    dark_contra_ratio: float = 0.03
    dark_contra_size_multiple: float = 5.0
    option_implied_vol: float | None = None
    risk_free_rate: float = 0.0
    trading_days_per_year: int = 252

    def __post_init__(self) -> None:
        if self.levels < 1 or self.reserve_levels < 0:
            raise ValueError("levels must be >= 1 and reserve_levels >= 0")
        for name in ("step_seconds", "session_seconds", "resilience_half_life_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
        for name in ("base_spread_bps", "level_gap_bps", "depth_per_level_adv", "trades_per_day"):
            missing = set(AssetClass) - set(getattr(self, name))
            if missing:
                raise ValueError(f"{name} lacks {sorted(map(str, missing))}")
        if self.depth_noise < 0 or self.level_refresh_rate < 0 or self.u_shape < 0:
            raise ValueError("depth_noise, level_refresh_rate and u_shape must be >= 0")
