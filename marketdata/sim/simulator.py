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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from .clock import Clock
from .events import Fill, Snapshot, Trade, VenueBook
from .pricing import black_scholes
from .profile import cumulative_volume_share, volume_profile
from .specs import InstrumentSpec, SimParams, VenueSpec

_BID, _ASK = 0, 1
_LOT_TOLERANCE = 1e-9  # quantities within this many lots of a whole lot count as whole


def _decimals(step: float) -> int:
    exponent = Decimal(repr(step)).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def _side_sign(side: str) -> int:
    if side == "BUY":
        return 1
    if side == "SELL":
        return -1
    raise ValueError(f"side must be BUY or SELL, not {side!r}")


@dataclass(slots=True)
class _RestingOrder:
    order_id: str
    row: int
    venue: int  # index into the lit or the dark venue list, by `dark`
    sign: int
    dark: bool
    remaining_lots: int
    price_ticks: float = 0.0  # lit only
    queue_ahead_lots: float = 0.0  # lit only
    min_exec_lots: int = 0  # dark only


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
        self.lit_venues = [venue for venue in enabled if venue.kind == "LIT"]
        self.dark_venues = [venue for venue in enabled if venue.kind == "DARK"]
        if not self.instruments or not self.lit_venues:
            raise ValueError("the simulator needs at least one instrument and one enabled lit venue")
        self._lit_index = {venue.name: n for n, venue in enumerate(self.lit_venues)}
        self._dark_index = {venue.name: n for n, venue in enumerate(self.dark_venues)}

        root = np.random.default_rng(seed)
        self._rng, self._fill_rng = root.spawn(2)

        n, v, k = len(self.instruments), len(self.lit_venues), p.levels + p.reserve_levels
        self._shape = (n, v, 2, k)
        specs = self.instruments
        classes = [spec.asset_class for spec in specs]
        self._tick = np.array([spec.tick_size for spec in specs])
        self._lot = np.array([spec.lot_size for spec in specs])
        self._adv = np.array([spec.adv for spec in specs])
        self._price_decimals = [_decimals(spec.tick_size) for spec in specs]
        self._size_decimals = [_decimals(spec.lot_size) for spec in specs]

        self._mid = np.array([spec.reference_price for spec in specs], dtype=float)
        is_option = np.array([c == "OPTION" for c in classes])
        vol = np.array([spec.daily_vol for spec in specs])
        self._sigma_step = np.where(is_option, 0.0, vol * math.sqrt(p.step_seconds / p.session_seconds))
        self._walk_drift = -0.5 * self._sigma_step**2
        self._setup_options(is_option)

        spread_mult = np.array([venue.spread_mult for venue in self.lit_venues])
        depth_mult = np.array([venue.depth_mult for venue in self.lit_venues])
        spread_frac = np.array([p.base_spread_bps[c] for c in classes]) / 2e4
        self._half_spread_frac = spread_frac[:, None] * spread_mult[None, :]
        gap = np.maximum(1.0, np.rint(self._mid * np.array([p.level_gap_bps[c] for c in classes]) / 1e4 / self._tick))
        self._signed_offsets = (np.array([-1.0, 1.0])[None, None, :, None] * gap[:, None, None, None]
                                * np.arange(k)[None, None, None, :])
        first_level = np.array([p.depth_per_level_adv[c] for c in classes]) * self._adv / self._lot
        slope = 1.0 + p.depth_slope * np.arange(k)
        base = np.maximum(1.0, np.rint(first_level[:, None, None] * depth_mult[None, :, None] * slope[None, None, :]))
        self._base_lots = np.ascontiguousarray(np.broadcast_to(base[:, :, None, :], self._shape))

        # Background trades: mean size m lots chosen so trades * m * lot == ADV exactly.
        adv_lots = self._adv / self._lot
        self._mean_trade_lots = np.maximum(1.0, adv_lots / np.array([p.trades_per_day[c] for c in classes]))
        trades_per_day = adv_lots / self._mean_trade_lots
        venue_share = depth_mult / depth_mult.sum()
        self._trade_rate = trades_per_day[:, None, None] * venue_share[None, :, None] * 0.5 * np.ones((1, 1, 2))
        # Geometric extra lots (failures before a success) with mean m - 1: p = 1 / m.
        self._extra_lots_p = np.broadcast_to((1.0 / self._mean_trade_lots)[:, None, None], (n, v, 2)).copy()

        self._refresh_prob = 1.0 - math.exp(-p.level_refresh_rate * p.step_seconds)
        self._decay = 0.5 ** (p.step_seconds / p.resilience_half_life_s)
        self._noise = np.ones(self._shape)
        self._depletion = np.zeros(self._shape)
        self._depleted = False

        self._step_index = 0
        self._target_time = 0.0
        self._session = 0
        self._volume_lots = np.zeros(n)
        self._seq = np.zeros(n, dtype=np.int64)
        self._last_price = np.zeros(n)  # in price units; rounded when published
        self._last_size_lots = np.zeros(n)
        self._last_venue = np.full(n, -1)
        self._last_sign = np.zeros(n, dtype=np.int64)
        self._last_ts = np.zeros(n)
        self._resting: dict[str, _RestingOrder] = {}
        self._fills: list[Fill] = []
        self.events_total = 0

        if self._options.size:
            self._price_options(0.0)
        self._prices, self._sizes = self._book(slice(None))

    # ------------------------------------------------------------------ set-up helpers

    def _setup_options(self, is_option: np.ndarray) -> None:
        p = self.params
        self._options = np.flatnonzero(is_option)
        underlyings, strikes, expiries, calls, vols = [], [], [], [], []
        for row in self._options:
            spec = self.instruments[row]
            under = self._row.get(spec.underlying)
            if under is None or self.instruments[under].asset_class == "OPTION":
                raise ValueError(f"{spec.symbol}: underlying {spec.underlying!r} must be a non-option "
                                 "instrument of this simulator")
            underlyings.append(under)
            strikes.append(spec.strike)
            expiries.append(spec.expiry_years)
            calls.append(spec.right == "C")
            under_vol = self.instruments[under].daily_vol * math.sqrt(p.trading_days_per_year)
            vols.append(p.option_implied_vol if p.option_implied_vol is not None else under_vol)
        self._option_underlying = np.array(underlyings, dtype=np.int64)
        self._option_strike = np.array(strikes, dtype=float)
        self._option_expiry = np.array(expiries, dtype=float)
        self._option_is_call = np.array(calls, dtype=bool)
        self._option_vol = np.array(vols, dtype=float)
        self._option_offset = np.zeros(len(self._options))

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

    # ------------------------------------------------------------------ the step

    def _run_step(self) -> int:
        p = self.params
        rng = self._rng
        t0 = self._step_index * p.step_seconds
        self._step_index += 1
        t1 = self._step_index * p.step_seconds

        self._mid *= np.exp(self._sigma_step * rng.standard_normal(len(self._mid)) + self._walk_drift)
        if self._options.size:
            self._price_options(t1)

        if self._depleted:
            self._depletion *= self._decay
            if self._depletion.max() < 1e-9:
                self._depletion.fill(0.0)
                self._depleted = False

        if p.depth_noise > 0 and self._refresh_prob > 0:
            refresh = rng.random(self._shape) < self._refresh_prob
            count = int(np.count_nonzero(refresh))
            if count:
                sigma = p.depth_noise
                self._noise[refresh] = np.exp(sigma * rng.standard_normal(count) - 0.5 * sigma * sigma)

        prices, sizes = self._book(slice(None))
        changed = (prices != self._prices) | (sizes != self._sizes)
        level_events = int(np.count_nonzero(changed))
        symbol_changed = changed.reshape(len(self._mid), -1).any(axis=1)
        self._prices, self._sizes = prices, sizes

        session = math.floor(t0 / p.session_seconds)
        if session != self._session:
            self._session = session
            self._volume_lots.fill(0.0)
        share = (cumulative_volume_share(t1, p.session_seconds, p.u_shape)
                 - cumulative_volume_share(t0, p.session_seconds, p.u_shape))
        counts = rng.poisson(self._trade_rate * share)
        trade_count = int(counts.sum())
        if trade_count == 0 and not self._resting:
            self._seq += symbol_changed
            return level_events

        traded = counts > 0
        trade_lots = np.zeros(counts.shape)
        if trade_count:
            trade_lots = counts + rng.negative_binomial(np.maximum(counts, 1), self._extra_lots_p) * traded
        best_prices = self._best_prices(prices, sizes)
        if trade_count:
            self._volume_lots += trade_lots.sum(axis=(1, 2))
            self._record_background_last_trades(counts, trade_lots, best_prices, t1)
            symbol_changed |= traded.reshape(len(self._mid), -1).any(axis=1)
        self._seq += symbol_changed

        if self._resting:
            trade_count += self._match_resting(trade_lots, best_prices, t1)
        return level_events + trade_count

    @staticmethod
    def _best_prices(prices: np.ndarray, sizes: np.ndarray) -> np.ndarray:
        """Price of the first non-empty level of every book side; the touch unless we emptied it."""
        best = prices[..., 0].copy()
        empty = sizes[..., 0] == 0
        if empty.any():
            first = np.argmax(sizes > 0, axis=-1)
            best[empty] = np.take_along_axis(prices, first[..., None], axis=-1)[..., 0][empty]
        return best

    def _book(self, rows: slice | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Level prices (in ticks) and sizes (in lots) for the given instrument rows."""
        mid = self._mid[rows][:, None]
        tick = self._tick[rows][:, None]
        half_spread = np.maximum(0.5 * tick, mid * self._half_spread_frac[rows])
        touch = np.empty(half_spread.shape + (2,))
        bid = np.rint((mid - half_spread) / tick, out=touch[..., _BID])
        np.maximum(np.rint((mid + half_spread) / tick), bid + 1.0, out=touch[..., _ASK])
        prices = touch[..., None] + self._signed_offsets[rows]
        sizes = np.rint(self._base_lots[rows] * self._noise[rows] * (1.0 - self._depletion[rows]))
        sizes *= prices > 0  # cheap options: no bids at or below zero
        return prices, sizes

    def _price_options(self, t: float) -> None:
        p = self.params
        years = self._option_expiry - t / (p.session_seconds * p.trading_days_per_year)
        spot = self._mid[self._option_underlying]
        theoretical = black_scholes(spot, self._option_strike, years, self._option_vol,
                                    self._option_is_call, p.risk_free_rate)
        self._mid[self._options] = np.maximum(theoretical + self._option_offset, self._tick[self._options])

    def _record_background_last_trades(self, counts: np.ndarray, trade_lots: np.ndarray,
                                       best_prices: np.ndarray, ts: float) -> None:
        n = len(self._mid)
        # A side with no price (a cheap option's empty bid at the floor) prints no trade.
        flat_counts = np.where(best_prices.reshape(n, -1) > 0, counts.reshape(n, -1), 0)
        cumulative = flat_counts.cumsum(axis=1)
        draw = self._rng.random(n) * cumulative[:, -1]
        group = np.minimum((cumulative <= draw[:, None]).sum(axis=1), flat_counts.shape[1] - 1)
        rows = np.flatnonzero(cumulative[:, -1] > 0)
        group = group[rows]
        picked_counts = flat_counts[rows, group]
        picked_lots = trade_lots.reshape(n, -1)[rows, group]
        picked_ticks = best_prices.reshape(n, -1)[rows, group]
        self._last_price[rows] = picked_ticks * self._tick[rows]
        self._last_size_lots[rows] = np.maximum(1.0, np.rint(picked_lots / picked_counts))
        self._last_venue[rows] = group // 2
        # group % 2 is the book side hit: bids are hit by sellers, asks lifted by buyers.
        self._last_sign[rows] = np.where(group % 2 == _ASK, 1, -1)
        self._last_ts[rows] = ts

    # ------------------------------------------------------------------ our orders

    def execute_market(self, symbol: str, venue: str, side: str, quantity: float,
                       limit_price: float | None = None, *, order_id: str | None = None) -> list[Fill]:
        """Take liquidity on one lit venue now; returns the fills, one per level touched."""
        self._sync()
        row, lit, sign = self._row_of(symbol), self._lit_of(venue), _side_sign(side)
        lots = self._lots_of(row, quantity, self.lit_venues[lit])
        limit_ticks = None if limit_price is None else self._limit_ticks(row, sign, limit_price)
        fills, _ = self._take(row, lit, sign, lots, limit_ticks, order_id)
        return fills

    def place_limit(self, order_id: str, symbol: str, venue: str, side: str, quantity: float, price: float) -> None:
        self._sync()
        self._check_new_order_id(order_id)
        row, lit, sign = self._row_of(symbol), self._lit_of(venue), _side_sign(side)
        lots = self._lots_of(row, quantity, self.lit_venues[lit])
        price_ticks = self._limit_ticks(row, sign, price)
        taken, taken_lots = self._take(row, lit, sign, lots, price_ticks, order_id)
        self._fills.extend(taken)
        remaining = lots - taken_lots
        if remaining <= 0:
            return
        same_side = _BID if sign > 0 else _ASK
        at_price = (self._prices[row, lit, same_side] == price_ticks) & (self._sizes[row, lit, same_side] > 0)
        queue_ahead = float(self._sizes[row, lit, same_side][at_price].sum())
        self._resting[order_id] = _RestingOrder(order_id, row, lit, sign, False, remaining,
                                                price_ticks=price_ticks, queue_ahead_lots=queue_ahead)
        self._seq[row] += 1

    def place_dark(self, order_id: str, symbol: str, venue: str, side: str, quantity: float,
                   min_quantity: float = 0) -> None:
        self._sync()
        self._check_new_order_id(order_id)
        row, sign = self._row_of(symbol), _side_sign(side)
        if venue not in self._dark_index:
            raise ValueError(f"{venue!r} is not an enabled dark venue")
        dark = self._dark_index[venue]
        spec = self.dark_venues[dark]
        lots = self._lots_of(row, quantity, spec)
        min_exec = math.ceil(max(min_quantity, spec.min_quantity) / self._lot[row] - _LOT_TOLERANCE)
        self._resting[order_id] = _RestingOrder(order_id, row, dark, sign, True, lots, min_exec_lots=max(0, min_exec))

    def cancel(self, order_id: str) -> float:
        """Remaining quantity cancelled; 0 when the order is unknown or already filled."""
        self._sync()
        order = self._resting.pop(order_id, None)
        if order is None:
            return 0.0
        if not order.dark:
            self._seq[order.row] += 1
        return self._units(order.row, order.remaining_lots)

    def drain_fills(self) -> list[Fill]:
        """Fills of resting and dark orders (and marketable limit orders) since the last call."""
        self._sync()
        fills, self._fills = self._fills, []
        return fills

    def open_quantity(self, order_id: str) -> float:
        order = self._resting.get(order_id)
        return 0.0 if order is None else self._units(order.row, order.remaining_lots)

    def _take(self, row: int, lit: int, sign: int, lots: int, limit_ticks: float | None,
              order_id: str | None) -> tuple[list[Fill], int]:
        """Walk one side of one venue's book; update depth, volume, last trade and the mid."""
        if lots <= 0:
            return [], 0
        book_side = _ASK if sign > 0 else _BID
        prices = self._prices[row, lit, book_side]
        sizes = self._sizes[row, lit, book_side]
        available = sizes.copy()
        if limit_ticks is not None:
            available[sign * (prices - limit_ticks) > 0] = 0.0
        cumulative = np.cumsum(available)
        taken = np.clip(lots - (cumulative - available), 0.0, available)
        touched = np.flatnonzero(taken)
        if touched.size == 0:
            return [], 0
        remaining = sizes[touched] - taken[touched]
        full = self._base_lots[row, lit, book_side, touched] * self._noise[row, lit, book_side, touched]
        self._depletion[row, lit, book_side, touched] = 1.0 - remaining / full
        self._depleted = True
        sizes[touched] = remaining  # a view into self._sizes

        venue = self.lit_venues[lit]
        ts = self.time + venue.latency_ms / 1000.0
        spec = self.instruments[row]
        side = "BUY" if sign > 0 else "SELL"
        fills = []
        for level in touched:
            price = self._price(row, prices[level])
            quantity = self._units(row, taken[level])
            fee = self._fee(price, quantity, spec.multiplier, venue.taker_fee_bps)
            fills.append(Fill(order_id, spec.symbol, venue.name, side, price, quantity, fee, "TAKER", ts))
        filled_lots = float(taken.sum())
        self._record_own_trade(row, lit, sign, prices[touched[-1]], taken[touched[-1]], filled_lots, ts)
        self.events_total += 2 * touched.size  # each level changed and printed a trade
        self._permanent_impact(row, sign, filled_lots)
        return fills, int(filled_lots)

    def _permanent_impact(self, row: int, sign: int, lots: float) -> None:
        spec = self.instruments[row]
        fraction = sign * self.params.permanent_impact * spec.impact_coef * lots * spec.lot_size / spec.adv
        if fraction == 0.0:
            return
        if spec.asset_class == "OPTION":
            position = int(np.flatnonzero(self._options == row)[0])
            self._option_offset[position] += fraction * self._mid[row]
        else:
            self._mid[row] *= math.exp(fraction)
        rows = [row]
        if self._options.size:
            self._price_options(self.time)
            rows += [int(r) for r in self._options[self._option_underlying == row]]
        self._reprice(np.array(rows))

    def _reprice(self, rows: np.ndarray) -> None:
        prices, sizes = self._book(rows)
        changed = (prices != self._prices[rows]) | (sizes != self._sizes[rows])
        self.events_total += int(np.count_nonzero(changed))
        self._prices[rows] = prices
        self._sizes[rows] = sizes
        self._seq[rows] += changed.reshape(len(rows), -1).any(axis=1)

    def _match_resting(self, trade_lots: np.ndarray, best_prices: np.ndarray, ts: float) -> int:
        """Fill resting lit and dark orders against this step's market; returns trades printed."""
        unused = trade_lots.astype(float)  # background volume our lit orders may still trade with
        background = trade_lots.sum(axis=(1, 2))
        printed = 0
        for order in list(self._resting.values()):
            if order.dark:
                self._match_dark(order, background[order.row], ts)
            else:
                printed += self._match_limit(order, unused, best_prices, ts)
        return printed

    def _match_limit(self, order: _RestingOrder, unused: np.ndarray, best_prices: np.ndarray, ts: float) -> int:
        row, lit, sign = order.row, order.venue, order.sign
        same_side, opposite = (_BID, _ASK) if sign > 0 else (_ASK, _BID)
        opposite_best = best_prices[row, lit, opposite]
        if self._sizes[row, lit, opposite].any() and sign * (order.price_ticks - opposite_best) >= 0:
            lots = order.remaining_lots  # the market came through our price
        else:
            # Aggressors hitting our side trade at the venue's best price on our side.
            volume = unused[row, lit, same_side]
            ahead = sign * (order.price_ticks - best_prices[row, lit, same_side])
            if ahead > 0 or not self._sizes[row, lit, same_side].any():
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
        price = self._price(row, order.price_ticks)
        quantity = self._units(row, lots)
        fee = self._fee(price, quantity, spec.multiplier, venue.maker_fee_bps)
        self._fills.append(Fill(order.order_id, spec.symbol, venue.name, "BUY" if sign > 0 else "SELL",
                                price, quantity, fee, "MAKER", ts))
        # The aggressor is the other side.
        self._record_own_trade(row, lit, -sign, order.price_ticks, lots, lots, ts)
        self._finish(order, lots)
        return 1

    def _match_dark(self, order: _RestingOrder, background_lots: float, ts: float) -> None:
        p = self.params
        row = order.row
        venue = self.dark_venues[order.venue]
        mean_trade = self._mean_trade_lots[row]
        rate = p.dark_contra_ratio * venue.depth_mult * background_lots / mean_trade * 0.5
        if rate <= 0:
            return
        arrivals = int(self._fill_rng.poisson(rate))
        if arrivals == 0:
            return
        midpoint = self._nbbo_mid(row)
        if midpoint is None:
            return
        spec = self.instruments[row]
        contra_p = 1.0 / max(1.0, p.dark_contra_size_multiple * mean_trade)
        for contra in self._fill_rng.geometric(contra_p, size=arrivals):
            lots = int(min(contra, order.remaining_lots))
            if lots < min(order.min_exec_lots, order.remaining_lots):
                continue
            quantity = self._units(row, lots)
            fee = self._fee(midpoint, quantity, spec.multiplier, venue.taker_fee_bps)
            self._fills.append(Fill(order.order_id, spec.symbol, venue.name, "BUY" if order.sign > 0 else "SELL",
                                    midpoint, quantity, fee, "DARK", ts))
            self._finish(order, lots)
            if order.remaining_lots == 0:
                return

    def _finish(self, order: _RestingOrder, lots: int) -> None:
        order.remaining_lots -= lots
        if order.remaining_lots <= 0:
            del self._resting[order.order_id]

    def _record_own_trade(self, row: int, lit: int, aggressor_sign: int, price_ticks: float,
                          last_lots: float, total_lots: float, ts: float) -> None:
        self._volume_lots[row] += total_lots
        self._last_price[row] = price_ticks * self._tick[row]
        self._last_size_lots[row] = last_lots
        self._last_venue[row] = lit
        self._last_sign[row] = aggressor_sign
        self._last_ts[row] = ts
        self._seq[row] += 1

    # ------------------------------------------------------------------ reads

    def snapshot(self, symbol: str) -> Snapshot:
        """Books of the lit venues (dark pools never appear) with our resting lit orders merged in."""
        self._sync()
        row = self._row_of(symbol)
        spec = self.instruments[row]
        levels = self.params.levels
        prices = np.round(self._prices[row] * spec.tick_size, self._price_decimals[row]).tolist()
        sizes = np.round(self._sizes[row] * spec.lot_size, self._size_decimals[row]).tolist()
        own = [order for order in self._resting.values() if order.row == row and not order.dark]
        books = {}
        for lit, venue in enumerate(self.lit_venues):
            sides = []
            for book_side in (_BID, _ASK):
                ladder = [(price, size)
                          for price, size in zip(prices[lit][book_side], sizes[lit][book_side]) if size > 0]
                for order in own:
                    if order.venue == lit and (order.sign > 0) == (book_side == _BID):
                        ladder = self._merge_level(ladder, self._price(row, order.price_ticks),
                                                   self._units(row, order.remaining_lots), book_side == _BID, row)
                sides.append(ladder[:levels])
            books[venue.name] = VenueBook(venue.name, sides[0], sides[1])
        last_trade = None
        if self._last_venue[row] >= 0:
            last_trade = Trade(round(float(self._last_price[row]), self._price_decimals[row]),
                               self._units(row, self._last_size_lots[row]),
                               self.lit_venues[int(self._last_venue[row])].name, float(self._last_ts[row]),
                               "BUY" if self._last_sign[row] > 0 else "SELL")
        midpoint = self._nbbo_mid(row)
        return Snapshot(spec.symbol, self.time, int(self._seq[row]),
                        midpoint if midpoint is not None else self.fair_value(symbol),
                        books, last_trade, self._units(row, self._volume_lots[row]))

    def _merge_level(self, ladder: list[tuple[float, float]], price: float, size: float,
                     descending: bool, row: int) -> list[tuple[float, float]]:
        for position, (level_price, level_size) in enumerate(ladder):
            if level_price == price:
                total = round(level_size + size, self._size_decimals[row])
                return ladder[:position] + [(price, total)] + ladder[position + 1:]
            if (level_price < price) if descending else (level_price > price):
                return ladder[:position] + [(price, size)] + ladder[position:]
        return ladder + [(price, size)]

    def sequence(self, symbol: str) -> int:
        """Grows whenever `snapshot(symbol)` would change, without building it."""
        return int(self._seq[self._row_of(symbol)])

    def fair_value(self, symbol: str) -> float:
        """The latent mid the books are built around (not on the tick grid)."""
        return float(self._mid[self._row_of(symbol)])

    def volume_profile(self, symbol: str | None = None, buckets: int = 13) -> np.ndarray:
        """Share of the session's background volume per equal time bucket; same shape for all symbols."""
        if symbol is not None:
            self._row_of(symbol)
        return volume_profile(buckets, self.params.u_shape)

    def expected_volume(self, symbol: str) -> float:
        """Expected background volume over one session: ADV times the profile's total."""
        spec = self.instruments[self._row_of(symbol)]
        return spec.adv * float(self.volume_profile(symbol, buckets=1).sum())

    # ------------------------------------------------------------------ small conversions

    def _nbbo_mid(self, row: int) -> float | None:
        sizes = self._sizes[row]
        prices = self._prices[row]
        bids = prices[:, _BID][sizes[:, _BID] > 0]
        asks = prices[:, _ASK][sizes[:, _ASK] > 0]
        if bids.size == 0 or asks.size == 0:
            return None
        # Half-tick prices need one more decimal.
        return round(float((bids.max() + asks.min()) * self._tick[row]) / 2.0, self._price_decimals[row] + 1)

    def _row_of(self, symbol: str) -> int:
        try:
            return self._row[symbol]
        except KeyError:
            raise KeyError(f"unknown symbol {symbol!r}") from None

    def _lit_of(self, venue: str) -> int:
        if venue not in self._lit_index:
            raise ValueError(f"{venue!r} is not an enabled lit venue")
        return self._lit_index[venue]

    def _check_new_order_id(self, order_id: str) -> None:
        if order_id in self._resting:
            raise ValueError(f"order id {order_id!r} is already resting")

    def _lots_of(self, row: int, quantity: float, venue: VenueSpec) -> int:
        """Quantity in whole lots, rounded down; refuses non-positive and below-minimum orders."""
        if not quantity > 0:
            raise ValueError("quantity must be positive")
        if quantity < venue.min_quantity:
            raise ValueError(f"quantity {quantity} is below {venue.name}'s minimum {venue.min_quantity}")
        return math.floor(quantity / self._lot[row] + _LOT_TOLERANCE)

    def _limit_ticks(self, row: int, sign: int, price: float) -> float:
        if not price > 0:
            raise ValueError("limit price must be positive")
        # Off-grid limits round to the less aggressive tick.
        ticks = price / self._tick[row]
        return float(math.floor(ticks + 1e-9) if sign > 0 else math.ceil(ticks - 1e-9))

    def _price(self, row: int, ticks: float) -> float:
        return round(float(ticks * self._tick[row]), self._price_decimals[row])

    def _units(self, row: int, lots: float) -> float:
        return round(float(lots * self._lot[row]), self._size_decimals[row])

    @staticmethod
    def _fee(price: float, quantity: float, multiplier: float, bps: float) -> float:
        return round(price * quantity * multiplier * bps / 1e4, 8)
