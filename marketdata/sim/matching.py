"""Our orders against the simulated market: market orders walking a lit book, resting lit
limit orders filling from the step's background volume in queue order, and dark orders
filling against contra orders at the lit midpoint. Fills of resting orders collect until
drained."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .book import ASK, BID, LitBooks
from .events import Fill
from .grid import Grid, fee, side_of
from .specs import InstrumentSpec, SimParams, VenueSpec
from .tape import Tape


@dataclass(slots=True)
class LitOrder:
    """A limit order resting on a lit venue, shown in its book."""

    order_id: str
    row: int
    venue: int  # index into the lit venues
    sign: int
    remaining_lots: int
    price_ticks: float
    queue_ahead_lots: float


@dataclass(slots=True)
class DarkOrder:
    """An order resting in a dark pool, never shown."""

    order_id: str
    row: int
    venue: int  # index into the dark venues
    sign: int
    remaining_lots: int
    min_exec_lots: int


class Matcher:
    def __init__(
        self,
        instruments: list[InstrumentSpec],
        lit_venues: list[VenueSpec],
        dark_venues: list[VenueSpec],
        params: SimParams,
        grid: Grid,
        books: LitBooks,
        tape: Tape,
        mean_trade_lots: np.ndarray,
        fill_rng: np.random.Generator,
    ) -> None:
        self.instruments = instruments
        self.lit_venues = lit_venues
        self.dark_venues = dark_venues
        self.params = params
        self.grid = grid
        self.books = books
        self.tape = tape
        self.mean_trade_lots = mean_trade_lots
        self.fill_rng = fill_rng
        # One book of resting orders, lit and dark, in arrival order: matching walks it in
        # that order, so the order of the fills is part of the seeded run.
        self.resting: dict[str, LitOrder | DarkOrder] = {}
        self.fills: list[Fill] = []

    # ------------------------------------------------------------------ taking liquidity

    def take(
        self, row: int, lit: int, sign: int, lots: int, limit_ticks: float | None, order_id: str | None, now: float
    ) -> tuple[list[Fill], float]:
        """Walk one side of one venue's book: the fills, one per level, and the lots filled."""
        if lots <= 0:
            return [], 0.0
        touched, taken, prices = self.books.consume(row, lit, sign, lots, limit_ticks)
        if touched.size == 0:
            return [], 0.0
        venue = self.lit_venues[lit]
        ts = now + venue.latency_ms / 1000.0
        spec = self.instruments[row]
        side = side_of(sign)
        fills = []
        for level in touched:
            price = self.grid.price(row, prices[level])
            quantity = self.grid.units(row, taken[level])
            fills.append(
                Fill(
                    order_id,
                    spec.symbol,
                    venue.name,
                    side,
                    price,
                    quantity,
                    fee(price, quantity, spec.multiplier, venue.taker_fee_bps),
                    "TAKER",
                    ts,
                )
            )
        filled_lots = float(taken.sum())
        self.tape.record(row, lit, sign, prices[touched[-1]], taken[touched[-1]], filled_lots, ts)
        return fills, filled_lots

    # ------------------------------------------------------------------ resting orders

    def rest(self, order: LitOrder | DarkOrder) -> None:
        self.resting[order.order_id] = order

    def check_new(self, order_id: str) -> None:
        if order_id in self.resting:
            raise ValueError(f"order id {order_id!r} is already resting")

    def cancel(self, order_id: str) -> LitOrder | DarkOrder | None:
        return self.resting.pop(order_id, None)

    def lit_orders(self, row: int) -> list[LitOrder]:
        return [order for order in self.resting.values() if order.row == row and isinstance(order, LitOrder)]

    def drain(self) -> list[Fill]:
        fills, self.fills = self.fills, []
        return fills

    def match(self, trade_lots: np.ndarray, best_prices: np.ndarray, ts: float) -> int:
        """Fill resting lit and dark orders against this step's market; returns trades printed."""
        unused = trade_lots.astype(float)  # background volume our lit orders may still trade with
        background = trade_lots.sum(axis=(1, 2))
        printed = 0
        for order in list(self.resting.values()):
            if isinstance(order, DarkOrder):
                self._match_dark(order, background[order.row], ts)
            else:
                printed += self._match_lit(order, unused, best_prices, ts)
        return printed

    def _match_lit(self, order: LitOrder, unused: np.ndarray, best_prices: np.ndarray, ts: float) -> int:
        row, lit, sign = order.row, order.venue, order.sign
        same_side, opposite = (BID, ASK) if sign > 0 else (ASK, BID)
        opposite_best = best_prices[row, lit, opposite]
        if self.books.has_depth(row, lit, opposite) and sign * (order.price_ticks - opposite_best) >= 0:
            lots = order.remaining_lots  # the market came through our price
        else:
            # Aggressors hitting our side trade at the venue's best price on our side.
            volume = unused[row, lit, same_side]
            ahead = sign * (order.price_ticks - best_prices[row, lit, same_side])
            if ahead > 0 or not self.books.has_depth(row, lit, same_side):
                eligible = volume
            elif ahead == 0:
                drained = min(order.queue_ahead_lots, volume)
                order.queue_ahead_lots -= drained
                eligible = volume - drained
            else:
                return 0
            lots = int(min(order.remaining_lots, eligible))
            if lots <= 0:
                return 0
            unused[row, lit, same_side] -= lots
        venue = self.lit_venues[lit]
        spec = self.instruments[row]
        price = self.grid.price(row, order.price_ticks)
        quantity = self.grid.units(row, lots)
        self.fills.append(
            Fill(
                order.order_id,
                spec.symbol,
                venue.name,
                side_of(sign),
                price,
                quantity,
                fee(price, quantity, spec.multiplier, venue.maker_fee_bps),
                "MAKER",
                ts,
            )
        )
        # The aggressor is the other side.
        self.tape.record(row, lit, -sign, order.price_ticks, lots, lots, ts)
        self._finish(order, lots)
        return 1

    def _match_dark(self, order: DarkOrder, background_lots: float, ts: float) -> None:
        p = self.params
        row = order.row
        venue = self.dark_venues[order.venue]
        mean_trade = self.mean_trade_lots[row]
        rate = p.dark_contra_ratio * venue.depth_mult * background_lots / mean_trade * 0.5
        if rate <= 0:
            return
        arrivals = int(self.fill_rng.poisson(rate))
        if arrivals == 0:
            return
        midpoint = self.books.nbbo_mid(row, self.grid.price_decimals[row])
        if midpoint is None:
            return
        spec = self.instruments[row]
        contra_p = 1.0 / max(1.0, p.dark_contra_size_multiple * mean_trade)
        for contra in self.fill_rng.geometric(contra_p, size=arrivals):
            lots = int(min(contra, order.remaining_lots))
            if lots < min(order.min_exec_lots, order.remaining_lots):
                continue
            quantity = self.grid.units(row, lots)
            self.fills.append(
                Fill(
                    order.order_id,
                    spec.symbol,
                    venue.name,
                    side_of(order.sign),
                    midpoint,
                    quantity,
                    fee(midpoint, quantity, spec.multiplier, venue.taker_fee_bps),
                    "DARK",
                    ts,
                )
            )
            self._finish(order, lots)
            if order.remaining_lots == 0:
                return

    def _finish(self, order: LitOrder | DarkOrder, lots: int) -> None:
        order.remaining_lots -= lots
        if order.remaining_lots <= 0:
            del self.resting[order.order_id]
