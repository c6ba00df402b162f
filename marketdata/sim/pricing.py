"""Black-Scholes, vectorised over options, and the conventions that feed it.

    d1 = (ln(S / K) + (r + vol^2 / 2) T) / (vol sqrt T),   d2 = d1 - vol sqrt T
    call = S N(d1) - K e^(-rT) N(d2),   put = K e^(-rT) N(-d2) - S N(-d1)

At or past expiry (T <= 0) the price is the intrinsic value. The one model everything quotes
options with: the simulator, the reference prices of option rows (`option_model_price`)
and the expiries computed from calendar dates (`years_to_expiry`).
"""

from __future__ import annotations

import math

import numpy as np

CALENDAR_DAYS_PER_YEAR = 365.0

_erf = np.frompyfunc(math.erf, 1, 1)


def normal_cdf(x: np.ndarray) -> np.ndarray:
    # math.erf is exact to double precision and, for the handful of options a simulator
    # holds, cheaper than a numpy polynomial approximation.
    return 0.5 * (1.0 + np.asarray(_erf(np.asarray(x, dtype=float) / math.sqrt(2.0)), dtype=float))


def black_scholes(
    spot: np.ndarray,
    strike: np.ndarray,
    years: np.ndarray,
    vol: np.ndarray,
    is_call: np.ndarray,
    rate: float = 0.0,
) -> np.ndarray:
    spot, strike, years, vol = (np.asarray(a, dtype=float) for a in (spot, strike, years, vol))
    is_call = np.asarray(is_call, dtype=bool)
    intrinsic = np.where(is_call, np.maximum(spot - strike, 0.0), np.maximum(strike - spot, 0.0))
    live = (years > 0) & (vol > 0)
    safe_years = np.where(live, years, 1.0)
    safe_vol = np.where(live, vol, 1.0)
    root = safe_vol * np.sqrt(safe_years)
    d1 = (np.log(spot / strike) + (rate + 0.5 * safe_vol**2) * safe_years) / root
    d2 = d1 - root
    discounted_strike = strike * np.exp(-rate * safe_years)
    call = spot * normal_cdf(d1) - discounted_strike * normal_cdf(d2)
    put = discounted_strike * normal_cdf(-d2) - spot * normal_cdf(-d1)
    return np.where(live, np.where(is_call, call, put), intrinsic)


def years_to_expiry(days: int) -> float:
    """Calendar days to expiry as years; an option expiring today or earlier counts one day."""
    return max(days, 1) / CALENDAR_DAYS_PER_YEAR


def annual_vol(daily_vol: float, trading_days_per_year: int) -> float:
    """The annual volatility of a daily one (independent sessions)."""
    return daily_vol * math.sqrt(trading_days_per_year)


def option_model_price(
    spot: float,
    strike: float,
    days_to_expiry: int,
    underlying_daily_vol: float,
    is_call: bool,
    trading_days_per_year: int,
    rate: float = 0.0,
) -> float:
    """One option's model price as the simulator quotes it at session open."""
    years = years_to_expiry(days_to_expiry)
    vol = annual_vol(underlying_daily_vol, trading_days_per_year)
    return float(black_scholes(spot, strike, years, vol, is_call, rate))


def black_scholes_greeks(
    spot: np.ndarray,
    strike: np.ndarray,
    years: np.ndarray,
    vol: np.ndarray,
    is_call: np.ndarray,
    rate: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Delta (per unit of the underlying) and vega (per vol point, i.e. per 0.01 of annual
    vol) of the options `black_scholes` prices:

        delta = N(d1) for a call, N(d1) - 1 for a put;  vega = S phi(d1) sqrt(T) / 100

    At or past expiry delta is the intrinsic one (1, 0 or -1) and vega 0."""
    spot, strike, years, vol = (np.asarray(a, dtype=float) for a in (spot, strike, years, vol))
    is_call = np.asarray(is_call, dtype=bool)
    live = (years > 0) & (vol > 0)
    safe_years = np.where(live, years, 1.0)
    safe_vol = np.where(live, vol, 1.0)
    root = safe_vol * np.sqrt(safe_years)
    d1 = (np.log(spot / strike) + (rate + 0.5 * safe_vol**2) * safe_years) / root
    n_d1 = normal_cdf(d1)
    live_delta = np.where(is_call, n_d1, n_d1 - 1.0)
    itm = np.where(is_call, spot > strike, spot < strike)
    dead_delta = np.where(itm, np.where(is_call, 1.0, -1.0), 0.0)
    density = np.exp(-0.5 * d1**2) / math.sqrt(2.0 * math.pi)
    vega = np.where(live, spot * density * np.sqrt(safe_years) / 100.0, 0.0)
    return np.where(live, live_delta, dead_delta), vega


def option_model_value(
    spot: float,
    strike: float,
    days_to_expiry: int,
    underlying_daily_vol: float,
    is_call: bool,
    trading_days_per_year: int,
    rate: float = 0.0,
) -> tuple[float, float, float]:
    """One option's (price, delta, vega per vol point) on the simulator's conventions, the
    model value a simulated maker prices a package leg from."""
    years = years_to_expiry(days_to_expiry)
    vol = annual_vol(underlying_daily_vol, trading_days_per_year)
    price = float(black_scholes(spot, strike, years, vol, is_call, rate))
    delta, vega = black_scholes_greeks(spot, strike, years, vol, is_call, rate)
    return price, float(delta), float(vega)
