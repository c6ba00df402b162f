"""A seeded, vectorised market simulator: lit order books, background trades, dark pools.

Everything below is plain numpy; nothing here knows about Django. Time is in seconds
since the first session open and moves in fixed steps of `SimParams.step_seconds`
(dt below). Symbols: i instrument, v lit venue, k level (0 = touch), S session length.

Mid price
    Equities and crypto follow a driftless geometric random walk, one draw per step:
        mid *= exp(sigma_i z - sigma_i^2 / 2),   sigma_i = daily_vol_i * sqrt(dt / S),  z ~ N(0, 1)
    Options have no walk of their own: mid = max(BS(underlying mid, strike, T, vol) + offset, tick)
    with T = expiry_years - t / (S * trading_days_per_year), vol = option_implied_vol or the
    underlying's daily_vol * sqrt(trading_days_per_year), and `offset` the option's own
    accumulated permanent impact (see `pricing.black_scholes`).

Lit books (per instrument and lit venue, `levels + reserve_levels` levels a side)
    half_spread = max(tick / 2, mid * base_spread_bps[class] * spread_mult_v / 2e4)
    best bid = round((mid - half_spread) / tick) ticks, best ask = round((mid + half_spread) / tick)
    ticks, at least one tick above the bid. Level k sits k * gap ticks behind the touch,
    gap = max(1, round(reference_price * level_gap_bps[class] / 1e4 / tick)).
    Size in lots:  round(base_ik * noise_ivsk * (1 - depletion_ivsk)), where
        base_ik = max(1, round(adv * depth_per_level_adv[class] * depth_mult_v * (1 + depth_slope k) / lot))
        noise   = exp(depth_noise z - depth_noise^2 / 2), redrawn for each level with
                  probability 1 - exp(-level_refresh_rate dt) per step
        depletion in [0, 1] is the fraction of the level our orders consumed; it decays
                  as depletion *= 0.5 ** (dt / resilience_half_life_s) every step, so half
                  the consumed depth is back after one half-life.
    Bid levels at or below zero are empty. The shape is kept relative to the touch, so
    when the mid moves the whole book (and its depleted levels) moves with it.

Background volume (U-shaped, sums to ADV over a session)
    Session share traded in [t0, t1]: G(t1) - G(t0), with G = whole sessions + F(x) of
    `profile` (density (1 + u (2x - 1)^2) / (1 + u / 3)). Per step, instrument, lit venue
    and aggressor side the number of trades is Poisson with mean
        trades_per_day_i * (G(t1) - G(t0)) * share_v / 2,   share_v = depth_mult_v / sum(depth_mult)
    and each trade is a geometric number of lots (>= 1) with mean m_i = max(1, adv / lot / trades_per_day[class])
    (trades_per_day_i = adv / lot / m_i), so the expected session volume is exactly ADV.
    Buyer-initiated trades print at the venue's best displayed ask, seller-initiated at
    the best bid. They do not deplete the book: displayed depth is the steady state of
    background liquidity. The last trade is the group chosen with probability
    proportional to its trade count, at that group's mean trade size.

Our orders
    execute_market: walks one venue's book level by level from the touch, taking at
        most the displayed size of each level and never a level beyond `limit_price`
        (temporary impact: a larger order pays more per unit). Unfilled quantity is
        dropped (immediate-or-cancel). Taken depth raises the level's depletion. Then
        permanent impact:  ln(mid) += side * permanent_impact * impact_coef * qty / adv
        (options: offset += the same fraction of the mid). Taker fee = price * qty *
        multiplier * taker_fee_bps / 1e4. Fills are stamped now + latency_ms / 1000;
        the book they hit is the current one, since latency is below one step.
    place_limit: the marketable part (a buy at or above the venue's best ask) executes
        at once as taker (its fills go to `drain_fills`); the rest rests, shown in
        snapshots. Queue ahead at placement = displayed size at that price on that
        venue (0 if the price is inside the spread or between levels). Each step:
        if the venue's opposite best price reaches the limit the order fills entirely at
        its limit; if the order is better than the venue's best on its side it fills
        from that step's opposite-side background volume; if it is at the best it first
        drains its queue with that volume, then fills; if it is behind the best nothing
        happens. Background volume used by our orders is not reused in the same step.
        Maker fee = maker_fee_bps. Our own market orders never match our resting orders
        (self-trade prevention).
    place_dark: never shown anywhere. Per step, contra orders on the opposite side
        arrive as Poisson with mean
            dark_contra_ratio * depth_mult_d * (background lots of the step / m_i) / 2
        each a geometric number of lots (>= 1) with mean dark_contra_size_multiple * m_i; a contra
        fills min(contra, remaining) at the lit NBBO midpoint when that is at least
        min(max(min_quantity, venue min_quantity), remaining). Dark fills pay the dark
        venue's taker fee and stay out of snapshots (volume, last trade). Every order
        sees its own contra stream.

Determinism
    `np.random.default_rng(seed)` is split into a market stream (walk, books, background
    trades) and a fill stream (dark contras), so our orders never change the random
    path of the market, only the market itself through impact. The same seed and the
    same call sequence give identical snapshots and fills.

Book event (the unit of the throughput goal)
    A change of price or size of one level position of one side of one venue's book,
    or one trade (background or ours). A step counts the level positions whose (price,
    size) differ from the previous step, plus its trades.

Modules
    fair_value (mid walk, option pricing, permanent impact), book (lit books, depth,
    resilience), flow (background trades), tape (volume, last trade, sequence numbers),
    matching (market orders, resting lit and dark orders), snapshots, grid (ticks, lots,
    fees). `MarketSimulator` below runs the step and is the interface callers use.
"""

from __future__ import annotations

import math

import numpy as np

from core.vocabulary import VenueKind

from .book import ASK, BID, LitBooks
from .clock import Clock
from .events import Fill, Snapshot
from .fair_value import FairValues
from .flow import BackgroundFlow
from .grid import Grid, side_sign
from .matching import DarkOrder, LitOrder, Matcher
from .profile import volume_profile
from .snapshots import build_snapshot
from .specs import InstrumentSpec, SimParams, VenueSpec
from .tape import Tape


class MarketSimulator:
    def __init__(
        self,
        instruments: list[InstrumentSpec],
        venues: list[VenueSpec],
        seed: int,
        clock: Clock | None = None,
        params: SimParams | None = None,
    ) -> None:
        self.params = params or SimParams()
        p = self.params
        self.instruments = list(instruments)
        self._clock = clock
        self._row = {spec.symbol: row for row, spec in enumerate(self.instruments)}
        if len(self._row) != len(self.instruments):
            raise ValueError("duplicate instrument symbols")
        enabled = [venue for venue in venues if venue.enabled]
        self.lit_venues = [venue for venue in enabled if venue.kind == VenueKind.LIT]
        self.dark_venues = [venue for venue in enabled if venue.kind == VenueKind.DARK]
        if not self.instruments or not self.lit_venues:
            raise ValueError("the simulator needs at least one instrument and one enabled lit venue")
        self._lit_index = {venue.name: n for n, venue in enumerate(self.lit_venues)}
        self._dark_index = {venue.name: n for n, venue in enumerate(self.dark_venues)}

        # Two streams: our orders (dark contras) never change the random path of the market.
        self._rng, fill_rng = np.random.default_rng(seed).spawn(2)
        self._grid = Grid(self.instruments)
        self._fair = FairValues(self.instruments, self._row, p, self._grid.tick)
        self._books = LitBooks(self.instruments, self.lit_venues, p, self._grid.tick, self._grid.lot, self._fair.mid)
        self._flow = BackgroundFlow(self.instruments, self.lit_venues, p, self._grid.lot)
        self._tape = Tape(self._grid.tick)
        self._matcher = Matcher(
            self.instruments,
            self.lit_venues,
            self.dark_venues,
            p,
            self._grid,
            self._books,
            self._tape,
            self._flow.mean_trade_lots,
            fill_rng,
        )
        self._step_index = 0
        self._target_time = 0.0
        self.events_total = 0

        self._fair.price_options(0.0)
        self._books.reset(self._fair.mid)

    # ------------------------------------------------------------------ time

    @property
    def time(self) -> float:
        """Time of the last completed step."""
        return self._step_index * self.params.step_seconds

    @property
    def symbols(self) -> list[str]:
        return [spec.symbol for spec in self.instruments]

    def advance_to(self, t: float) -> int:
        """Run whole steps up to time t; returns the book events generated. Never goes back."""
        self._target_time = max(self._target_time, float(t))
        dt = self.params.step_seconds
        # The tolerance keeps 0.1 + 0.2 style sums from losing a step.
        last_step = math.floor(self._target_time / dt + 1e-9)
        events = 0
        while self._step_index < last_step:
            events += self._run_step()
        self.events_total += events
        return events

    def step(self, dt: float) -> int:
        if dt < 0:
            raise ValueError("dt must be >= 0")
        return self.advance_to(self._target_time + dt)

    def _sync(self) -> None:
        if self._clock is not None:
            self.advance_to(self._clock.now())

    def _run_step(self) -> int:
        """One step; the order of the random draws is fixed, it is what makes a seed a run."""
        p = self.params
        rng = self._rng
        t0 = self._step_index * p.step_seconds
        self._step_index += 1
        t1 = self._step_index * p.step_seconds

        self._fair.walk(rng, t1)
        self._books.evolve(rng)
        level_events, symbol_changed = self._books.rebuild(self._fair.mid)

        self._tape.open_session(math.floor(t0 / p.session_seconds))
        counts = self._flow.counts(rng, t0, t1)
        trade_count = int(counts.sum())
        resting = bool(self._matcher.resting)
        if trade_count == 0 and not resting:
            self._tape.seq += symbol_changed
            return level_events

        trade_lots = np.zeros(counts.shape)
        if trade_count:
            trade_lots = self._flow.lots(rng, counts)
        best_prices = self._books.best_prices()
        if trade_count:
            last = self._flow.last_trades(rng, counts, trade_lots, best_prices)
            self._tape.record_background(trade_lots, last, t1)
            symbol_changed |= (counts > 0).reshape(len(self.instruments), -1).any(axis=1)
        self._tape.seq += symbol_changed

        if resting:
            trade_count += self._matcher.match(trade_lots, best_prices, t1)
        return level_events + trade_count

    # ------------------------------------------------------------------ our orders

    def execute_market(
        self,
        symbol: str,
        venue: str,
        side: str,
        quantity: float,
        limit_price: float | None = None,
        *,
        order_id: str | None = None,
    ) -> list[Fill]:
        """Take liquidity on one lit venue now; returns the fills, one per level touched."""
        self._sync()
        row, lit, sign = self._row_of(symbol), self._lit_of(venue), side_sign(side)
        lots = self._grid.lots_of(row, quantity, self.lit_venues[lit])
        limit_ticks = None if limit_price is None else self._grid.limit_ticks(row, sign, limit_price)
        fills, _ = self._take(row, lit, sign, lots, limit_ticks, order_id)
        return fills

    def place_limit(self, order_id: str, symbol: str, venue: str, side: str, quantity: float, price: float) -> None:
        """Rest a limit order on a lit venue; a marketable part first takes as a taker (its
        fills go to `drain_fills`)."""
        self._sync()
        self._matcher.check_new(order_id)
        row, lit, sign = self._row_of(symbol), self._lit_of(venue), side_sign(side)
        lots = self._grid.lots_of(row, quantity, self.lit_venues[lit])
        price_ticks = self._grid.limit_ticks(row, sign, price)
        taken, taken_lots = self._take(row, lit, sign, lots, price_ticks, order_id)
        self._matcher.fills.extend(taken)
        remaining = lots - int(taken_lots)
        if remaining <= 0:
            return
        queue_ahead = self._books.queue_at(row, lit, BID if sign > 0 else ASK, price_ticks)
        self._matcher.rest(LitOrder(order_id, row, lit, sign, remaining, price_ticks, queue_ahead))
        self._tape.seq[row] += 1

    def place_dark(
        self, order_id: str, symbol: str, venue: str, side: str, quantity: float, min_quantity: float = 0
    ) -> None:
        """Rest an order in a dark pool; it executes at the lit midpoint and is never shown."""
        self._sync()
        self._matcher.check_new(order_id)
        row, sign = self._row_of(symbol), side_sign(side)
        if venue not in self._dark_index:
            raise ValueError(f"{venue!r} is not an enabled dark venue")
        dark = self._dark_index[venue]
        spec = self.dark_venues[dark]
        lots = self._grid.lots_of(row, quantity, spec)
        min_exec = self._grid.min_lots(row, max(min_quantity, spec.min_quantity))
        self._matcher.rest(DarkOrder(order_id, row, dark, sign, lots, min_exec))

    def cancel(self, order_id: str) -> float:
        """Remaining quantity cancelled; 0 when the order is unknown or already filled."""
        self._sync()
        order = self._matcher.cancel(order_id)
        if order is None:
            return 0.0
        if isinstance(order, LitOrder):
            self._tape.seq[order.row] += 1  # it leaves the displayed book
        return self._grid.units(order.row, order.remaining_lots)

    def drain_fills(self) -> list[Fill]:
        """Fills of resting and dark orders (and marketable limit orders) since the last call."""
        self._sync()
        return self._matcher.drain()

    def open_quantity(self, order_id: str) -> float:
        order = self._matcher.resting.get(order_id)
        return 0.0 if order is None else self._grid.units(order.row, order.remaining_lots)

    def _take(
        self, row: int, lit: int, sign: int, lots: int, limit_ticks: float | None, order_id: str | None
    ) -> tuple[list[Fill], float]:
        fills, filled_lots = self._matcher.take(row, lit, sign, lots, limit_ticks, order_id, self.time)
        if fills:
            self.events_total += 2 * len(fills)  # each level changed and printed a trade
            self._permanent_impact(row, sign, filled_lots)
        return fills, filled_lots

    def _permanent_impact(self, row: int, sign: int, lots: float) -> None:
        moved = self._fair.impact(row, sign, lots, self.time)
        if moved is None:
            return
        rows = np.array(moved)
        events, changed = self._books.reprice(self._fair.mid, rows)
        self.events_total += events
        self._tape.seq[rows] += changed

    # ------------------------------------------------------------------ reads

    def snapshot(self, symbol: str) -> Snapshot:
        """Books of the lit venues (dark pools never appear) with our resting lit orders merged in."""
        self._sync()
        row = self._row_of(symbol)
        return build_snapshot(
            row,
            self.instruments[row],
            self.time,
            self.params.levels,
            self.lit_venues,
            self._books,
            self._tape,
            self._grid,
            self._matcher.lit_orders(row),
            float(self._fair.mid[row]),
        )

    def sequence(self, symbol: str) -> int:
        """Grows whenever `snapshot(symbol)` would change, without building it."""
        return int(self._tape.seq[self._row_of(symbol)])

    def fair_value(self, symbol: str) -> float:
        """The latent mid the books are built around (not on the tick grid)."""
        return float(self._fair.mid[self._row_of(symbol)])

    def volume_profile(self, symbol: str | None = None, buckets: int = 13) -> np.ndarray:
        """Share of the session's background volume per equal time bucket; same shape for all symbols."""
        if symbol is not None:
            self._row_of(symbol)
        return volume_profile(buckets, self.params.u_shape)

    def expected_volume(self, symbol: str) -> float:
        """Expected background volume over one session: ADV times the profile's total."""
        spec = self.instruments[self._row_of(symbol)]
        return spec.adv * float(self.volume_profile(symbol, buckets=1).sum())

    # ------------------------------------------------------------------ lookups

    def _row_of(self, symbol: str) -> int:
        try:
            return self._row[symbol]
        except KeyError:
            raise KeyError(f"unknown symbol {symbol!r}") from None

    def _lit_of(self, venue: str) -> int:
        if venue not in self._lit_index:
            raise ValueError(f"{venue!r} is not an enabled lit venue")
        return self._lit_index[venue]
