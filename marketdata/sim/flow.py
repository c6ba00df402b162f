"""Background flow: the market's own trades, drawn per step, instrument, lit venue and
aggressor side so that a session trades ADV along the U-shaped profile."""

from __future__ import annotations

import numpy as np

from .book import ASK
from .profile import cumulative_volume_share
from .specs import InstrumentSpec, SimParams, VenueSpec


class BackgroundFlow:
    def __init__(
        self, instruments: list[InstrumentSpec], venues: list[VenueSpec], params: SimParams, lot: np.ndarray
    ) -> None:
        self.params = params
        n, v = len(instruments), len(venues)
        classes = [spec.asset_class for spec in instruments]
        adv_lots = np.array([spec.adv for spec in instruments]) / lot
        depth_mult = np.array([venue.depth_mult for venue in venues])
        # Mean size m lots chosen so trades * m * lot == ADV exactly.
        self.mean_trade_lots = np.maximum(1.0, adv_lots / np.array([params.trades_per_day[c] for c in classes]))
        trades_per_day = adv_lots / self.mean_trade_lots
        venue_share = depth_mult / depth_mult.sum()
        self.trade_rate = trades_per_day[:, None, None] * venue_share[None, :, None] * 0.5 * np.ones((1, 1, 2))
        # Geometric extra lots (failures before a success) with mean m - 1: p = 1 / m.
        self.extra_lots_p = np.broadcast_to((1.0 / self.mean_trade_lots)[:, None, None], (n, v, 2)).copy()

    def counts(self, rng: np.random.Generator, t0: float, t1: float) -> np.ndarray:
        """Trades in [t0, t1] per instrument, venue and book side hit."""
        p = self.params
        share = cumulative_volume_share(t1, p.session_seconds, p.u_shape) - cumulative_volume_share(
            t0, p.session_seconds, p.u_shape
        )
        return rng.poisson(self.trade_rate * share)

    def lots(self, rng: np.random.Generator, counts: np.ndarray) -> np.ndarray:
        """Total lots of each group of `counts` trades: every trade one lot plus geometric extras."""
        traded = counts > 0
        return counts + rng.negative_binomial(np.maximum(counts, 1), self.extra_lots_p) * traded

    @staticmethod
    def last_trades(
        rng: np.random.Generator, counts: np.ndarray, trade_lots: np.ndarray, best_prices: np.ndarray
    ) -> tuple[np.ndarray, ...]:
        """Per instrument that traded, the group that printed last, chosen with probability
        proportional to its trade count: (rows, price ticks, size lots, venue, aggressor sign)."""
        n = counts.shape[0]
        # A side with no price (a cheap option's empty bid at the floor) prints no trade.
        flat_counts = np.where(best_prices.reshape(n, -1) > 0, counts.reshape(n, -1), 0)
        cumulative = flat_counts.cumsum(axis=1)
        draw = rng.random(n) * cumulative[:, -1]
        group = np.minimum((cumulative <= draw[:, None]).sum(axis=1), flat_counts.shape[1] - 1)
        rows = np.flatnonzero(cumulative[:, -1] > 0)
        group = group[rows]
        picked_counts = flat_counts[rows, group]
        picked_lots = trade_lots.reshape(n, -1)[rows, group]
        picked_ticks = best_prices.reshape(n, -1)[rows, group]
        size_lots = np.maximum(1.0, np.rint(picked_lots / picked_counts))
        # group % 2 is the book side hit: bids are hit by sellers, asks lifted by buyers.
        signs = np.where(group % 2 == ASK, 1, -1)
        return rows, picked_ticks, size_lots, group // 2, signs
