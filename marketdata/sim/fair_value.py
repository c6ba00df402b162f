"""The latent mid of every instrument: a geometric random walk for equities and crypto,
Black-Scholes from the underlying for options, and our permanent impact on both."""

from __future__ import annotations

import math

import numpy as np

from core.vocabulary import AssetClass, OptionRight

from .pricing import annual_vol, black_scholes
from .specs import InstrumentSpec, SimParams


class FairValues:
    def __init__(
        self, instruments: list[InstrumentSpec], rows: dict[str, int], params: SimParams, tick: np.ndarray
    ) -> None:
        self.params = params
        self.instruments = instruments
        self.tick = tick
        self.mid = np.array([spec.reference_price for spec in instruments], dtype=float)
        is_option = np.array([spec.asset_class == AssetClass.OPTION for spec in instruments])
        vol = np.array([spec.daily_vol for spec in instruments])
        self.sigma_step = np.where(is_option, 0.0, vol * math.sqrt(params.step_seconds / params.session_seconds))
        self.walk_drift = -0.5 * self.sigma_step**2

        self.options = np.flatnonzero(is_option)
        underlyings, strikes, expiries, calls, vols = [], [], [], [], []
        for row in self.options:
            spec = instruments[row]
            under = rows.get(spec.underlying)
            if under is None or instruments[under].asset_class == AssetClass.OPTION:
                raise ValueError(
                    f"{spec.symbol}: underlying {spec.underlying!r} must be a non-option instrument of this simulator"
                )
            underlyings.append(under)
            strikes.append(spec.strike)
            expiries.append(spec.expiry_years)
            calls.append(spec.right == OptionRight.CALL)
            under_vol = annual_vol(instruments[under].daily_vol, params.trading_days_per_year)
            vols.append(params.option_implied_vol if params.option_implied_vol is not None else under_vol)
        self.option_underlying = np.array(underlyings, dtype=np.int64)
        self.option_strike = np.array(strikes, dtype=float)
        self.option_expiry = np.array(expiries, dtype=float)
        self.option_is_call = np.array(calls, dtype=bool)
        self.option_vol = np.array(vols, dtype=float)
        self.option_offset = np.zeros(len(self.options))

    def walk(self, rng: np.random.Generator, t: float) -> None:
        """One step of the random walk, then the options repriced at time t."""
        self.mid *= np.exp(self.sigma_step * rng.standard_normal(len(self.mid)) + self.walk_drift)
        if self.options.size:
            self.price_options(t)

    def price_options(self, t: float) -> None:
        if not self.options.size:
            return
        p = self.params
        years = self.option_expiry - t / (p.session_seconds * p.trading_days_per_year)
        spot = self.mid[self.option_underlying]
        theoretical = black_scholes(
            spot, self.option_strike, years, self.option_vol, self.option_is_call, p.risk_free_rate
        )
        self.mid[self.options] = np.maximum(theoretical + self.option_offset, self.tick[self.options])

    def impact(self, row: int, sign: int, lots: float, t: float) -> list[int] | None:
        """Permanent impact of trading `lots` of row; the rows whose mid moved, None if none did."""
        spec = self.instruments[row]
        fraction = sign * self.params.permanent_impact * spec.impact_coef * lots * spec.lot_size / spec.adv
        if fraction == 0.0:
            return None
        if spec.asset_class == AssetClass.OPTION:
            position = int(np.flatnonzero(self.options == row)[0])
            self.option_offset[position] += fraction * self.mid[row]
        else:
            self.mid[row] *= math.exp(fraction)
        rows = [row]
        if self.options.size:
            self.price_options(t)
            rows += [int(r) for r in self.options[self.option_underlying == row]]
        return rows
