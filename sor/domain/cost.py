"""Pre-trade cost model: half-spread, square-root market impact, fees and timing risk.

Impact follows the square-root law, scaled by how fast we trade (the I-Star structure of
Kissell & Glantz, "Optimal Trading Strategies", 2003):

    full_impact = Y * sigma * sqrt(Q / ADV)               (trading as fast as the market)
    impact      = full_impact * (b * rho**a + (1 - b))    (rho = participation rate <= 1)

With rho = 1 (an immediate sweep) the impact is the plain square-root law. A schedule at
participation rho < 1 pays less: the temporary share b decays with the trading rate while
the permanent share (1 - b) stays. At a fixed participation rate the impact is still exactly
proportional to sqrt(Q), so 4x the size costs 2x the impact in bps.

Slower is not free: timing risk, one standard deviation of the price move over the horizon,
is sigma * sqrt(horizon in trading days). This is the conservative bound (the whole
quantity exposed for the whole horizon); a linear schedule's exposure is sqrt(1/3) of it.
Together they make the cost/risk trade-off between strategies meaningful.

All inputs are floats: this is an estimate, not money; the edges keep Decimals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.vocabulary import EQUITY_SESSION_SECONDS

BPS = 1e4

# Square-root law coefficient Y. Empirical studies of metaorders (Torre 1997 / Barra,
# Almgren et al. 2005, Toth et al. 2011) find Y of order one, typically 0.5-1 for liquid
# equities; 0.7 sits in the middle. Override per instrument via impact_coef.
DEFAULT_IMPACT_COEF = 0.7
# Share of the impact that is temporary (decays with the trading rate), and the exponent of
# the participation rate applied to it. Kissell-Glantz calibrations put b near 0.9-0.95
# and a near 0.5-1; we pick the less optimistic a = 0.5 (slowing down helps less).
TEMPORARY_IMPACT_SHARE = 0.9
PARTICIPATION_EXPONENT = 0.5


@dataclass(frozen=True, slots=True)
class CostEstimate:
    """Expected cost (spread + impact + fees) and timing risk, in bps of notional and in
    the instrument's currency. Risk is one standard deviation, not an expected cost."""

    quantity: float
    notional: float  # quantity * price * multiplier
    participation: float  # quantity / ADV
    participation_rate: float  # share of market volume while we trade (<= 1)
    horizon_seconds: float
    spread_bps: float  # half-spread paid on the aggressive share
    impact_bps: float
    fees_bps: float
    timing_risk_bps: float

    @property
    def cost_bps(self) -> float:
        return self.spread_bps + self.impact_bps + self.fees_bps

    @property
    def cost(self) -> float:
        return self.notional * self.cost_bps / BPS

    @property
    def timing_risk(self) -> float:
        return self.notional * self.timing_risk_bps / BPS

    def to_dict(self) -> dict[str, float]:
        # Spelled out rather than dataclasses.asdict: this runs on every decision and
        # asdict deep-copies.
        return {
            "quantity": self.quantity,
            "notional": self.notional,
            "participation": self.participation,
            "participation_rate": self.participation_rate,
            "horizon_seconds": self.horizon_seconds,
            "spread_bps": self.spread_bps,
            "impact_bps": self.impact_bps,
            "fees_bps": self.fees_bps,
            "timing_risk_bps": self.timing_risk_bps,
            "cost_bps": self.cost_bps,
            "cost": self.cost,
            "timing_risk": self.timing_risk,
        }


def estimate_cost(
    *,
    quantity: float,
    price: float,
    adv: float,
    daily_vol: float,
    spread_bps: float,
    horizon_seconds: float = 0.0,
    fee_bps: float = 0.0,
    impact_coef: float = DEFAULT_IMPACT_COEF,
    multiplier: float = 1.0,
    participation_rate: float | None = None,
    aggressive_fraction: float = 1.0,
    trading_day_seconds: float = EQUITY_SESSION_SECONDS,
) -> CostEstimate:
    """Estimate the cost of trading `quantity` over `horizon_seconds`.

    `daily_vol` is a fraction (0.02 = 2% a day). `participation_rate` defaults to the rate
    the horizon implies, quantity / (ADV * horizon in days); horizon 0 means an immediate
    sweep (rate 1). `aggressive_fraction` is the share expected to take liquidity and so pay
    the half-spread and taker fees (a dark order at the mid pays neither).
    """
    quantity, price, adv = float(quantity), float(price), float(adv)
    if quantity < 0 or price <= 0 or adv <= 0:
        raise ValueError("quantity must be >= 0, price and adv > 0")
    if daily_vol < 0 or spread_bps < 0 or horizon_seconds < 0 or trading_day_seconds <= 0:
        raise ValueError("daily_vol, spread_bps and horizon_seconds must be >= 0")
    if not 0.0 <= aggressive_fraction <= 1.0:
        raise ValueError("aggressive_fraction must be within [0, 1]")

    participation = quantity / adv
    horizon_days = horizon_seconds / trading_day_seconds
    if participation_rate is None:
        participation_rate = participation / horizon_days if horizon_days > 0 else 1.0
    # Trading faster than the market cannot be cheaper than the immediate square-root cost.
    rate = min(max(float(participation_rate), 0.0), 1.0)

    full_impact = impact_coef * daily_vol * math.sqrt(participation)
    rate_factor = TEMPORARY_IMPACT_SHARE * rate**PARTICIPATION_EXPONENT + (1 - TEMPORARY_IMPACT_SHARE)
    return CostEstimate(
        quantity=quantity,
        notional=quantity * price * float(multiplier),
        participation=participation,
        participation_rate=rate,
        horizon_seconds=float(horizon_seconds),
        spread_bps=spread_bps / 2 * aggressive_fraction,
        impact_bps=full_impact * rate_factor * BPS,
        fees_bps=fee_bps * aggressive_fraction,
        timing_risk_bps=daily_vol * math.sqrt(horizon_days) * BPS,
    )
