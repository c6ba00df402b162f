"""The lit order books: per instrument and lit venue, `levels + reserve_levels` levels a
side, built around the mid (spread, level gaps, depth), with noisy sizes and the depth our
orders consumed coming back with the resilience half-life. Arrays are indexed
[instrument, venue, side, level]; prices in ticks, sizes in lots."""

from __future__ import annotations

import math

import numpy as np

from .specs import InstrumentSpec, SimParams, VenueSpec

BID, ASK = 0, 1


class LitBooks:
    def __init__(
        self,
        instruments: list[InstrumentSpec],
        venues: list[VenueSpec],
        params: SimParams,
        tick: np.ndarray,
        lot: np.ndarray,
        reference: np.ndarray,
    ) -> None:
        p = params
        n, v, k = len(instruments), len(venues), p.levels + p.reserve_levels
        self.shape = (n, v, 2, k)
        self.tick = tick
        classes = [spec.asset_class for spec in instruments]
        adv = np.array([spec.adv for spec in instruments])
        spread_mult = np.array([venue.spread_mult for venue in venues])
        depth_mult = np.array([venue.depth_mult for venue in venues])
        spread_frac = np.array([p.base_spread_bps[c] for c in classes]) / 2e4
        self.half_spread_frac = spread_frac[:, None] * spread_mult[None, :]
        gap = np.maximum(1.0, np.rint(reference * np.array([p.level_gap_bps[c] for c in classes]) / 1e4 / tick))
        self.signed_offsets = (
            np.array([-1.0, 1.0])[None, None, :, None] * gap[:, None, None, None] * np.arange(k)[None, None, None, :]
        )
        first_level = np.array([p.depth_per_level_adv[c] for c in classes]) * adv / lot
        slope = 1.0 + p.depth_slope * np.arange(k)
        base = np.maximum(1.0, np.rint(first_level[:, None, None] * depth_mult[None, :, None] * slope[None, None, :]))
        self.base_lots = np.ascontiguousarray(np.broadcast_to(base[:, :, None, :], self.shape))

        self.depth_noise = p.depth_noise
        self.refresh_prob = 1.0 - math.exp(-p.level_refresh_rate * p.step_seconds)
        self.decay = 0.5 ** (p.step_seconds / p.resilience_half_life_s)
        self.noise = np.ones(self.shape)
        self.depletion = np.zeros(self.shape)
        self.depleted = False
        self.prices = np.empty(self.shape)
        self.sizes = np.empty(self.shape)

    def build(self, mid: np.ndarray, rows: slice | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Level prices (in ticks) and sizes (in lots) for the given instrument rows."""
        mid = mid[rows][:, None]
        tick = self.tick[rows][:, None]
        half_spread = np.maximum(0.5 * tick, mid * self.half_spread_frac[rows])
        touch = np.empty(half_spread.shape + (2,))
        bid = np.rint((mid - half_spread) / tick, out=touch[..., BID])
        np.maximum(np.rint((mid + half_spread) / tick), bid + 1.0, out=touch[..., ASK])
        prices = touch[..., None] + self.signed_offsets[rows]
        sizes = np.rint(self.base_lots[rows] * self.noise[rows] * (1.0 - self.depletion[rows]))
        sizes *= prices > 0  # cheap options: no bids at or below zero
        return prices, sizes

    def reset(self, mid: np.ndarray) -> None:
        self.prices, self.sizes = self.build(mid, slice(None))

    def evolve(self, rng: np.random.Generator) -> None:
        """One step of resilience (consumed depth comes back) and of level-size noise."""
        if self.depleted:
            self.depletion *= self.decay
            if self.depletion.max() < 1e-9:
                self.depletion.fill(0.0)
                self.depleted = False
        if self.depth_noise > 0 and self.refresh_prob > 0:
            refresh = rng.random(self.shape) < self.refresh_prob
            count = int(np.count_nonzero(refresh))
            if count:
                sigma = self.depth_noise
                self.noise[refresh] = np.exp(sigma * rng.standard_normal(count) - 0.5 * sigma * sigma)

    def rebuild(self, mid: np.ndarray) -> tuple[int, np.ndarray]:
        """Every book rebuilt around the mid: (levels changed, per instrument whether any did)."""
        prices, sizes = self.build(mid, slice(None))
        changed = (prices != self.prices) | (sizes != self.sizes)
        level_events = int(np.count_nonzero(changed))
        symbol_changed = changed.reshape(len(mid), -1).any(axis=1)
        self.prices, self.sizes = prices, sizes
        return level_events, symbol_changed

    def reprice(self, mid: np.ndarray, rows: np.ndarray) -> tuple[int, np.ndarray]:
        """The books of `rows` rebuilt after their mid moved: (levels changed, per row whether any did)."""
        prices, sizes = self.build(mid, rows)
        changed = (prices != self.prices[rows]) | (sizes != self.sizes[rows])
        self.prices[rows] = prices
        self.sizes[rows] = sizes
        return int(np.count_nonzero(changed)), changed.reshape(len(rows), -1).any(axis=1)

    def best_prices(self) -> np.ndarray:
        """Price of the first non-empty level of every book side; the touch unless we emptied it."""
        prices, sizes = self.prices, self.sizes
        best = prices[..., 0].copy()
        empty = sizes[..., 0] == 0
        if empty.any():
            first = np.argmax(sizes > 0, axis=-1)
            best[empty] = np.take_along_axis(prices, first[..., None], axis=-1)[..., 0][empty]
        return best

    def consume(
        self, row: int, lit: int, sign: int, lots: int, limit_ticks: float | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Take up to `lots` from the touch outwards on the side a `sign` order hits, never
        beyond `limit_ticks`: (levels touched, lots taken per level, level prices)."""
        book_side = ASK if sign > 0 else BID
        prices = self.prices[row, lit, book_side]
        sizes = self.sizes[row, lit, book_side]
        available = sizes.copy()
        if limit_ticks is not None:
            available[sign * (prices - limit_ticks) > 0] = 0.0
        cumulative = np.cumsum(available)
        taken = np.clip(lots - (cumulative - available), 0.0, available)
        touched = np.flatnonzero(taken)
        if touched.size:
            remaining = sizes[touched] - taken[touched]
            full = self.base_lots[row, lit, book_side, touched] * self.noise[row, lit, book_side, touched]
            self.depletion[row, lit, book_side, touched] = 1.0 - remaining / full
            self.depleted = True
            sizes[touched] = remaining  # a view into self.sizes
        return touched, taken, prices

    def queue_at(self, row: int, lit: int, book_side: int, price_ticks: float) -> float:
        """Displayed lots at exactly `price_ticks` on one side of one venue's book."""
        at_price = (self.prices[row, lit, book_side] == price_ticks) & (self.sizes[row, lit, book_side] > 0)
        return float(self.sizes[row, lit, book_side][at_price].sum())

    def has_depth(self, row: int, lit: int, book_side: int) -> bool:
        return bool(self.sizes[row, lit, book_side].any())

    def nbbo_mid(self, row: int, price_decimals: int) -> float | None:
        """Midpoint of the best bid and ask over the lit venues, in price units."""
        sizes = self.sizes[row]
        prices = self.prices[row]
        bids = prices[:, BID][sizes[:, BID] > 0]
        asks = prices[:, ASK][sizes[:, ASK] > 0]
        if bids.size == 0 or asks.size == 0:
            return None
        # Half-tick prices need one more decimal.
        return round(float((bids.max() + asks.min()) * self.tick[row]) / 2.0, price_decimals + 1)
