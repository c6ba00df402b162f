"""One parent order worked by the production algorithm code against the market simulator,
in virtual time, with no database: the same `ems.algos.run_tick` the Celery tick calls.

Each tick (every `tick_seconds` of virtual time): the simulator runs up to now, its fills
are applied to the children (once each, by execution id), the algorithm sees the execution
state and the market built from the simulator's snapshot, and its actions go to the
simulator: MARKET -> execute_market, LIMIT -> place_limit, DARK -> place_dark, cancel ->
cancel. Same inputs and seed, same result.

TCA's counterfactuals are one call each: `single_market_order(order)`,
`one_venue_twap(order, venue)` and `order.with_strategy(second_choice, parameters)`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from core.vocabulary import AssetClass, Side, Strategy, Urgency, VenueKind
from ems.algos import (
    CancelChild,
    ChildType,
    Done,
    ExecutionState,
    MarketView,
    NewChild,
    OpenChild,
    Remember,
    ReplaceChild,
    VenueTop,
    run_tick,
)
from ems.algos.tick import expected_progress
from marketdata.sim import InstrumentSpec, MarketSimulator, SimParams, VenueSpec, VirtualClock
from sor.domain import Decision, SelectionInputs

_ZERO = Decimal(0)
DEFAULT_DARK_FILL_RATE = 0.3


def _dec(value: float) -> Decimal:
    return Decimal(repr(float(value)))


@dataclass(frozen=True, slots=True)
class BacktestOrder:
    symbol: str
    side: Side
    quantity: Decimal
    strategy: Strategy
    start: float
    end: float
    parameters: Mapping[str, Any] = field(default_factory=dict)
    limit_price: Decimal | None = None
    urgency: Urgency = Urgency.MEDIUM
    venues: tuple[str, ...] | None = None  # only these venues (None: every enabled venue)
    reevaluate: bool = False  # let the router's re-evaluation switch strategy while it works
    order_id: str = "bt"

    def with_strategy(self, strategy: Strategy, parameters: Mapping[str, Any] | None = None) -> BacktestOrder:
        """The same order worked another way (e.g. the router's second choice)."""
        return replace(self, strategy=Strategy(strategy), parameters=dict(parameters or {}))


def single_market_order(order: BacktestOrder, venue: str | None = None) -> BacktestOrder:
    """The whole order as one market order on one venue (the first lit venue by default)."""
    parameters = {"single_order": True, **({"venue": venue} if venue else {})}
    return replace(order, strategy=Strategy.DIRECT, parameters=parameters, reevaluate=False)


def one_venue_twap(order: BacktestOrder, venue: str, horizon_seconds: float | None = None) -> BacktestOrder:
    """A plain TWAP on one lit venue, no dark pools, no re-evaluation."""
    horizon = horizon_seconds or order.parameters.get("horizon_seconds") or (order.end - order.start)
    parameters = {"horizon_seconds": horizon, "dark_fraction": 0}
    return replace(order, strategy=Strategy.TWAP, parameters=parameters, venues=(venue,), reevaluate=False)


@dataclass(frozen=True, slots=True)
class BacktestFill:
    execution_id: str
    client_order_id: str
    venue: str
    price: Decimal
    quantity: Decimal
    fee: Decimal
    liquidity: str  # TAKER | MAKER | DARK
    ts: float
    applied_at: float = 0.0  # virtual time of the tick that applied it
    # The market's own latent mid (the simulator's walk, our permanent impact taken out) at
    # the step the fill happened in; 0: not recorded (the tick's value is used instead).
    walk: float = 0.0


@dataclass(slots=True)
class ChildRecord:
    client_order_id: str
    venue: str
    child_type: ChildType
    quantity: Decimal
    limit_price: Decimal | None
    sent_at: float
    filled: Decimal = _ZERO
    status: str = "OPEN"  # OPEN | CANCEL_PENDING | CLOSED | REJECTED
    reason: str = ""


class Ledger:
    """Children and their fills. A report is applied once (by execution id); a fill never
    takes a child beyond its quantity nor the parent beyond its own; a fill arriving after
    the cancel (a late fill) still counts, as in the OMS table."""

    def __init__(self, parent_quantity: Decimal) -> None:
        self.parent_quantity = parent_quantity
        self.children: dict[str, ChildRecord] = {}
        self.fills: list[BacktestFill] = []
        self.refused: list[str] = []
        self._seen: set[str] = set()

    @property
    def filled(self) -> Decimal:
        return sum((f.quantity for f in self.fills), _ZERO)

    def add(self, child: ChildRecord) -> None:
        if child.client_order_id in self.children:
            raise ValueError(f"client order id {child.client_order_id!r} already used")
        self.children[child.client_order_id] = child

    def apply_fill(self, fill: BacktestFill) -> bool:
        """True when applied; False for a duplicate or a fill that would overfill."""
        if fill.execution_id in self._seen:
            return False
        child = self.children.get(fill.client_order_id)
        if (
            child is None
            or fill.quantity <= 0
            or child.filled + fill.quantity > child.quantity
            or self.filled + fill.quantity > self.parent_quantity
        ):
            self.refused.append(fill.execution_id)
            return False
        self._seen.add(fill.execution_id)
        child.filled += fill.quantity
        if child.filled == child.quantity:
            child.status = "CLOSED"
        self.fills.append(fill)
        return True

    def cancel_requested(self, client_order_id: str) -> None:
        child = self.children.get(client_order_id)
        if child is not None and child.status == "OPEN":
            child.status = "CANCEL_PENDING"

    def close(self, client_order_id: str, status: str = "CLOSED") -> None:
        child = self.children.get(client_order_id)
        if child is not None and child.status in ("OPEN", "CANCEL_PENDING"):
            child.status = status

    def open_children(self) -> tuple[OpenChild, ...]:
        return tuple(
            OpenChild(
                c.client_order_id,
                c.venue,
                c.child_type,
                c.quantity,
                c.filled,
                c.limit_price,
                c.sent_at,
                c.status == "CANCEL_PENDING",
            )
            for c in self.children.values()
            if c.status in ("OPEN", "CANCEL_PENDING")
        )

    def shown_quantity(self) -> Decimal:
        """Open quantity on lit books (what an iceberg shows)."""
        return sum(
            (
                c.quantity - c.filled
                for c in self.children.values()
                if c.status in ("OPEN", "CANCEL_PENDING") and c.child_type is ChildType.LIMIT
            ),
            _ZERO,
        )


@dataclass(frozen=True, slots=True)
class TickRecord:
    t: float
    strategy: Strategy
    target: Decimal  # cumulative quantity the schedule expected by t
    filled: Decimal  # actual cumulative quantity at t (after the tick's immediate fills)
    market_volume: float  # since the start, ours included
    shown: Decimal  # open lit quantity after the tick
    mid: float
    # The simulator's latent mid before the tick's own orders, and our permanent impact so
    # far (log of the mid): together they give the market's own move (see `costs`).
    fair_value: float = 0.0
    own_impact: float = 0.0


@dataclass(frozen=True, slots=True)
class BacktestResult:
    order: BacktestOrder
    fills: list[BacktestFill]
    children: list[ChildRecord]
    ticks: list[TickRecord]
    done_reason: str
    switches: list[tuple[float, Strategy, Strategy, str]]
    arrival_mid: float
    end_mid: float
    # Log-mid move per unit we take (the simulator's permanent impact), the instrument's
    # multiplier, and the time `end_mid` was read (the order's end with `run_to_end`).
    impact_per_unit: float = 0.0
    multiplier: float = 1.0
    end_time: float = 0.0
    own_impact: float = 0.0  # our permanent impact on the log mid at the end

    @property
    def filled(self) -> Decimal:
        return sum((f.quantity for f in self.fills), _ZERO)

    @property
    def average_price(self) -> Decimal | None:
        filled = self.filled
        return None if filled == 0 else sum((f.price * f.quantity for f in self.fills), _ZERO) / filled

    @property
    def fees(self) -> Decimal:
        return sum((f.fee for f in self.fills), _ZERO)

    @property
    def schedule(self) -> list[tuple[float, Decimal]]:
        """Target cumulative quantity over time."""
        return [(r.t, r.target) for r in self.ticks]

    @property
    def actual(self) -> list[tuple[float, Decimal]]:
        """Actual cumulative quantity over time."""
        return [(r.t, r.filled) for r in self.ticks]

    def shortfall_bps(self) -> float | None:
        """Implementation shortfall of the filled part against the arrival mid, in bps
        (positive = cost), fees included."""
        average = self.average_price
        if average is None or self.arrival_mid <= 0:
            return None
        sign = 1 if self.order.side == Side.BUY else -1
        cost = sign * (float(average) - self.arrival_mid) * float(self.filled) + float(self.fees)
        return cost / (self.arrival_mid * float(self.filled)) * 1e4

    def costs(self) -> ExecutionCost:
        """Implementation shortfall of the whole order (Perold): the filled part against the
        arrival mid, fees, and the unfilled part at `end_mid` (opportunity cost); beside it
        the same figures with the market's own move taken out (see ExecutionCost)."""
        sign = 1.0 if self.order.side == Side.BUY else -1.0
        arrival, multiplier = self.arrival_mid, self.multiplier
        quantity, filled = float(self.order.quantity), float(self.filled)
        unfilled = max(quantity - filled, 0.0)
        fees = float(self.fees)
        # The market's own move: the latent mid without our permanent impact, W = F * exp(-I).
        walk = {r.t: r.fair_value * math.exp(-r.own_impact) for r in self.ticks if r.fair_value > 0}
        first = walk[self.ticks[0].t] if self.ticks and self.ticks[0].t in walk else None
        traded = adjusted = 0.0
        for f in self.fills:
            price, units = float(f.price), float(f.quantity)
            traded += sign * (price - arrival) * units
            at_fill = f.walk if f.walk > 0 else walk.get(f.applied_at)
            factor = first / at_fill if first and at_fill else 1.0
            adjusted += sign * (price * factor - arrival) * units
        notional = arrival * quantity * multiplier
        execution = traded * multiplier + fees
        opportunity = sign * (self.end_mid - arrival) * unfilled * multiplier
        adjusted_execution = adjusted * multiplier + fees
        adjusted_opportunity = sign * arrival * math.expm1(self.own_impact) * unfilled * multiplier

        def bps(value: float) -> float:
            return value / notional * 1e4 if notional > 0 else 0.0

        return ExecutionCost(
            quantity=quantity,
            filled=filled,
            average_price=None if self.average_price is None else float(self.average_price),
            arrival_mid=arrival,
            end_mid=self.end_mid,
            fees=fees,
            execution_cost=execution,
            opportunity_cost=opportunity,
            shortfall_bps=bps(execution + opportunity),
            adjusted_execution_cost=adjusted_execution,
            adjusted_opportunity_cost=adjusted_opportunity,
            adjusted_shortfall_bps=bps(adjusted_execution + adjusted_opportunity),
        )


@dataclass(frozen=True, slots=True)
class ExecutionCost:
    """One order's implementation shortfall in the instrument's currency (positive = cost).

    execution_cost: sign * sum((fill price - arrival mid) * quantity) + fees;
    opportunity_cost: sign * (end mid - arrival mid) * unfilled quantity;
    shortfall_bps: their sum over the arrival notional of the whole order.

    The adjusted_* figures take the market's own move out: the simulator's mid is its
    random walk W times our permanent impact, so each fill price is scaled by W(arrival) /
    W(fill) and the unfilled part is valued at the arrival mid moved by our impact alone.
    Their expectation is the shortfall's (the walk is a martingale, independent of our
    orders), without its noise (a day's volatility is ~100 bps), which makes a benchmark of
    a few dozen orders meaningful. Each fill is scaled with W at the simulator step it
    happened in (BacktestFill.walk), not at the tick that applied it: the walk between the
    two (up to a tick of 10 s: 1.5 price ticks on a liquid stock) added noise of several
    bps to every resting fill, as much as the costs being compared."""

    quantity: float
    filled: float
    average_price: float | None
    arrival_mid: float
    end_mid: float
    fees: float
    execution_cost: float
    opportunity_cost: float
    shortfall_bps: float
    adjusted_execution_cost: float
    adjusted_opportunity_cost: float
    adjusted_shortfall_bps: float

    @property
    def total(self) -> float:
        return self.execution_cost + self.opportunity_cost

    @property
    def adjusted_total(self) -> float:
        return self.adjusted_execution_cost + self.adjusted_opportunity_cost


def market_view(
    sim: MarketSimulator,
    spec: InstrumentSpec,
    venues: Sequence[VenueSpec],
    dark_fill_rates: Mapping[str, float],
) -> MarketView:
    snap = sim.snapshot(spec.symbol)
    tops = []
    for venue in venues:
        if venue.kind == VenueKind.LIT:
            book = snap.venues.get(venue.name)
            if book is None:
                continue
            tops.append(
                VenueTop(
                    venue.name,
                    VenueKind.LIT,
                    book.best_bid,
                    book.best_ask,
                    book.bids[0][1] if book.bids else 0.0,
                    book.asks[0][1] if book.asks else 0.0,
                    venue.taker_fee_bps,
                    venue.maker_fee_bps,
                    min_quantity=venue.min_quantity,
                    bid_levels=tuple(book.bids),
                    ask_levels=tuple(book.asks),
                )
            )
        elif venue.kind == VenueKind.DARK:
            tops.append(
                VenueTop(
                    venue.name,
                    VenueKind.DARK,
                    None,
                    None,
                    0.0,
                    0.0,
                    venue.taker_fee_bps,
                    venue.maker_fee_bps,
                    min_quantity=venue.min_quantity,
                    fill_rate=dark_fill_rates.get(venue.name, DEFAULT_DARK_FILL_RATE),
                )
            )
    bids = [t.bid for t in tops if t.bid is not None]
    asks = [t.ask for t in tops if t.ask is not None]
    best_bid, best_ask = (max(bids) if bids else None), (min(asks) if asks else None)
    mid = (best_bid + best_ask) / 2 if best_bid is not None and best_ask is not None else snap.mid
    return MarketView(
        mid=mid,
        best_bid=best_bid,
        best_ask=best_ask,
        venues=tuple(tops),
        adv=spec.adv,
        daily_vol=spec.daily_vol,
        spread_bps=0.0 if best_bid is None or best_ask is None else (best_ask - best_bid) / mid * 1e4,
        volume_profile=tuple(float(x) for x in sim.volume_profile(spec.symbol)),
        session_start=0.0,
        session_seconds=sim.params.session_seconds,
    )


def run_backtest(
    order: BacktestOrder,
    *,
    instruments: Sequence[InstrumentSpec],
    venues: Sequence[VenueSpec],
    seed: int,
    params: SimParams | None = None,
    tick_seconds: float = 1.0,
    dark_fill_rates: Mapping[str, float] | None = None,
    simulator: MarketSimulator | None = None,
    run_to_end: bool = False,
) -> BacktestResult:
    """Work `order` from `order.start` to its end (or Done). Pass `simulator` to start from
    a market already run to the arrival time (it is advanced, never rewound); otherwise a
    fresh one is built from the specs and seed. With `run_to_end` the market runs on to
    `order.end` after the order is done, so `end_mid` (which values what was not filled)
    is the mid at the order's end rather than when it stopped."""
    clock = VirtualClock(0.0)
    sim = simulator or MarketSimulator(list(instruments), list(venues), seed, clock=clock, params=params)
    spec = next(i for i in sim.instruments if i.symbol == order.symbol)
    usable = [v for v in (*sim.lit_venues, *sim.dark_venues) if order.venues is None or v.name in order.venues]
    rates = dict(dark_fill_rates or {})
    lot, tick = _dec(spec.lot_size), _dec(spec.tick_size)
    ledger = Ledger(order.quantity)
    strategy, parameters = Strategy(order.strategy), dict(order.parameters)
    parameters.setdefault("tick_seconds", tick_seconds)
    memory: dict[str, Any] = {}
    ticks: list[TickRecord] = []
    switches: list[tuple[float, Strategy, Strategy, str]] = []
    done_reason = ""
    sequence = 0
    fill_count = 0
    volume_total, last_session_volume = 0.0, None
    sign = 1.0 if order.side == Side.BUY else -1.0
    impact_per_unit = sim.params.permanent_impact * spec.impact_coef / spec.adv
    own_impact = 0.0  # what our taking added to the log mid (the simulator's permanent impact)
    now = order.start

    sim_step = sim.params.step_seconds
    walk_at: dict[int, float] = {}  # the market's own latent mid after each step, by step index

    def advance(t: float) -> None:
        # Step by step, reading the latent mid after each step (reads do not sync the clock,
        # so the clock follows afterwards): a resting fill is priced at the step it happens in.
        while sim.time + sim_step <= t + 1e-9:
            sim.advance_to(sim.time + sim_step)
            walk_at[round(sim.time / sim_step)] = sim.fair_value(spec.symbol) * math.exp(-own_impact)
        if t > clock.now():
            clock.advance(t - clock.now())
        sim.advance_to(t)

    def walk_of(ts: float) -> float:
        return walk_at.get(math.floor(ts / sim_step + 1e-9), 0.0)

    def apply_sim_fills(fills) -> None:
        nonlocal fill_count, own_impact
        for f in fills:
            fill_count += 1
            if f.liquidity == "TAKER":  # the simulator moved the mid, whatever the ledger makes of it
                own_impact += sign * impact_per_unit * float(f.quantity)
            ledger.apply_fill(
                BacktestFill(
                    f"{f.order_id}-x{fill_count}",
                    str(f.order_id),
                    f.venue,
                    _dec(f.price),
                    _dec(f.quantity),
                    _dec(f.fee),
                    f.liquidity,
                    f.ts,
                    now,
                    walk_of(f.ts),
                )
            )

    advance(order.start)
    arrival = market_view(sim, spec, usable, rates).mid
    t = order.start
    max_ticks = int((order.end - order.start) / tick_seconds) + 2
    for _ in range(max_ticks):
        advance(t)
        now = t
        apply_sim_fills(sim.drain_fills())
        fair_value, impact_before = sim.fair_value(spec.symbol), own_impact
        session_volume = sim.snapshot(spec.symbol).volume
        if last_session_volume is not None:
            step = session_volume - last_session_volume
            volume_total += step if step >= 0 else session_volume  # a new session restarted the count
        last_session_volume = session_volume

        market = market_view(sim, spec, usable, rates)
        state = ExecutionState(
            strategy=strategy,
            side=order.side,
            quantity=order.quantity,
            filled=ledger.filled,
            lot_size=lot,
            tick_size=tick,
            limit_price=order.limit_price,
            urgency=order.urgency,
            start=order.start,
            end=order.end,
            parameters=parameters,
            open_children=ledger.open_children(),
            market_volume_since_start=volume_total,
            memory=memory,
        )
        result = run_tick(state, market, t, reevaluate_strategy=order.reevaluate)
        if result.switch is not None:
            switches.append((t, result.switch.from_strategy, result.switch.to_strategy, result.switch.reason))
        strategy, parameters = result.strategy, dict(result.parameters)
        done = None
        for action in result.actions:
            if isinstance(action, (CancelChild, ReplaceChild)):
                ledger.cancel_requested(action.client_order_id)
                sim.cancel(action.client_order_id)
                apply_sim_fills(sim.drain_fills())
                ledger.close(action.client_order_id)
            elif isinstance(action, NewChild):
                sequence += 1
                coid = f"{order.order_id}-{sequence}"
                ledger.add(
                    ChildRecord(
                        coid,
                        action.venue,
                        action.child_type,
                        action.quantity,
                        action.limit_price,
                        t,
                        reason=action.reason,
                    )
                )
                _send(sim, ledger, spec.symbol, order.side, coid, action, apply_sim_fills)
            elif isinstance(action, Remember):
                memory.update(action.values)
            elif isinstance(action, Done):
                done = action
        target = order.quantity * _dec(expected_progress(state, market, t))
        ticks.append(
            TickRecord(
                t,
                strategy,
                min(target, order.quantity),
                ledger.filled,
                volume_total,
                ledger.shown_quantity(),
                market.mid,
                fair_value,
                impact_before,
            )
        )
        if done is not None:
            done_reason = done.reason
            break
        if strategy not in (
            Strategy.DIRECT,
            Strategy.DARK,
            Strategy.TWAP,
            Strategy.VWAP,
            Strategy.POV,
            Strategy.IS,
            Strategy.ICEBERG,
        ):
            done_reason = f"handed to {strategy}"
            break
        t = round(t + tick_seconds, 9)
    if run_to_end:
        for child in ledger.open_children():  # nothing works on after the order stops
            sim.cancel(child.client_order_id)
            ledger.close(child.client_order_id)
        advance(max(order.end, t))
        sim.drain_fills()
    end_mid = market_view(sim, spec, usable, rates).mid
    return BacktestResult(
        order,
        list(ledger.fills),
        list(ledger.children.values()),
        ticks,
        done_reason,
        switches,
        arrival,
        end_mid,
        impact_per_unit=impact_per_unit,
        multiplier=spec.multiplier,
        end_time=sim.time,
        own_impact=own_impact,
    )


def _send(sim, ledger: Ledger, symbol: str, side: Side, coid: str, child: NewChild, apply_sim_fills) -> None:
    quantity = float(child.quantity)
    limit = None if child.limit_price is None else float(child.limit_price)
    try:
        if child.child_type is ChildType.MARKET:
            apply_sim_fills(sim.execute_market(symbol, child.venue, str(side), quantity, limit, order_id=coid))
            ledger.close(coid)  # immediate-or-cancel: the rest is dropped
        elif child.child_type is ChildType.LIMIT:
            sim.place_limit(coid, symbol, child.venue, str(side), quantity, limit)
            apply_sim_fills(sim.drain_fills())
        else:
            sim.place_dark(coid, symbol, child.venue, str(side), quantity)
    except ValueError as refusal:  # the venue refused it (minimum size, unknown venue)
        ledger.children[coid].reason += f"; rejected: {refusal}"
        ledger.close(coid, "REJECTED")


# ----------------------------------------------------------------------------- the router's view


def selection_inputs(
    sim: MarketSimulator,
    symbol: str,
    side: Side,
    quantity: Decimal,
    urgency: Urgency,
    *,
    time_left_seconds: float,
    limit_price: Decimal | None = None,
) -> SelectionInputs:
    """What sor.services gives the router, built from the simulator now instead of rows and
    the published book: the consolidated mid and spread, our side of every lit book as
    displayed, the instrument's ADV and volatility, the dark pools that take this size and
    the lit venues' mean taker fee. The impact coefficient is the router's default, as for
    an instrument row nobody has re-fitted (the simulator's own `impact_coef` is another
    model's parameter: linear permanent impact)."""
    spec = next(i for i in sim.instruments if i.symbol == symbol)
    snap = sim.snapshot(symbol)
    books = [snap.venues[v.name] for v in sim.lit_venues if v.name in snap.venues]
    bids = [b.best_bid for b in books if b.best_bid is not None]
    asks = [b.best_ask for b in books if b.best_ask is not None]
    mid = (max(bids) + min(asks)) / 2 if bids and asks else snap.mid
    spread_bps = (min(asks) - max(bids)) / mid * 1e4 if bids and asks else 0.0
    depth = sum(size for b in books for _, size in (b.asks if side == Side.BUY else b.bids))
    fees = [v.taker_fee_bps for v in sim.lit_venues]
    return SelectionInputs(
        side=side,
        quantity=quantity,
        price=_dec(mid),
        adv=_dec(spec.adv),
        daily_vol=spec.daily_vol,
        spread_bps=spread_bps,
        displayed_depth=_dec(depth),
        urgency=urgency,
        asset_class=spec.asset_class,
        time_left_seconds=max(time_left_seconds, 0.0),
        limit_price=limit_price,
        lot_size=_dec(spec.lot_size),
        multiplier=_dec(spec.multiplier),
        venue_count_dark=sum(1 for v in sim.dark_venues if v.min_quantity <= float(quantity)),
        fee_bps=max(0.0, sum(fees) / len(fees)) if fees else 0.0,
    )


def routed(order: BacktestOrder, decision: Decision) -> BacktestOrder:
    """The order worked as the router decided: its strategy and parameters (None values
    dropped: the algorithm's defaults apply), every venue, no re-evaluation."""
    parameters = {k: v for k, v in decision.parameters.items() if v is not None}
    return replace(order, strategy=decision.strategy, parameters=parameters, venues=None, reevaluate=False)


# ----------------------------------------------------------------------------- counterfactuals


@dataclass(frozen=True, slots=True)
class MarketState:
    """The recorded market at an order's arrival, for the simulator.

    The simulator is deterministic: its instruments, venues, parameters and seed, run to
    the same virtual time with the same calls, give the same books, walk and fills. So the
    state at arrival is recorded as (seed, arrival time, instrument and venue specs,
    parameters, dark fill rates) and rebuilt by replaying the seed to the arrival time.

    Limits: the replay is the market as the seed made it, without whatever our other
    orders did to it before the arrival (their permanent impact, the depth they consumed);
    when those matter, pass the live simulator to `MarketState.capture`, which copies its
    exact state (books, depletion, walk, random streams, resting orders) instead. A book
    snapshot alone could not do either: it lacks the hidden state (latent mid, depth noise,
    random streams) that decides what happens next. Neither is the real market: a
    counterfactual is what the simulator says the other way would have cost."""

    seed: int
    arrival: float
    instruments: tuple[InstrumentSpec, ...]
    venues: tuple[VenueSpec, ...]
    params: SimParams | None = None
    dark_fill_rates: Mapping[str, float] = field(default_factory=dict)
    captured: MarketSimulator | None = field(default=None, compare=False, repr=False)

    @classmethod
    def capture(cls, sim: MarketSimulator, seed: int, dark_fill_rates: Mapping[str, float] | None = None):
        """The exact state of a live simulator now (a deep copy: the live one runs on)."""
        return cls(
            seed,
            sim.time,
            tuple(sim.instruments),
            (*sim.lit_venues, *sim.dark_venues),
            sim.params,
            dict(dark_fill_rates or {}),
            copy.deepcopy(sim),
        )

    def anchored(self, symbol: str, mid: float) -> MarketState:
        """The same replay with `symbol`'s latent mid at arrival moved to `mid` (e.g. the
        recorded arrival mid), by scaling its reference price: the walk is geometric and its
        draws do not depend on the price, so the whole path scales and the books, built
        relative to the mid, follow. The state of a live simulator the replay cannot copy
        (our earlier orders' permanent impact, a restart) is thus taken out of the level,
        not of the shape. An option is left as it is (the underlying prices it)."""
        spec = next(i for i in self.instruments if i.symbol == symbol)
        if self.captured is not None or spec.asset_class == AssetClass.OPTION or not mid > 0:
            return self
        fair = self.simulator().fair_value(symbol)
        if not fair > 0:
            return self
        scaled = replace(spec, reference_price=spec.reference_price * mid / fair)
        return replace(self, instruments=tuple(scaled if i.symbol == symbol else i for i in self.instruments))

    def simulator(self) -> MarketSimulator:
        """A fresh simulator at the arrival time, each call independent of the others."""
        if self.captured is not None:
            sim = copy.deepcopy(self.captured)
            # The copy runs in virtual time: a live simulator's wall clock would drag it to now.
            sim._clock = None
        else:
            sim = MarketSimulator(list(self.instruments), list(self.venues), self.seed, params=self.params)
        sim.advance_to(self.arrival)
        return sim


@dataclass(frozen=True, slots=True)
class Counterfactual:
    """What one way of working the order would have cost from the same market state."""

    way: str  # as_executed | single_market_order | one_venue_twap | router_second_choice
    strategy: Strategy | None  # None: no second choice to simulate
    filled: Decimal
    average_price: Decimal | None
    shortfall_bps: float | None  # Perold, unfilled part at the order's end mid; None: not simulated
    cost: Decimal | None  # currency of the price, two decimals
    note: str = ""
    # The same shortfall with the market's own move taken out (ExecutionCost): what the way
    # itself cost, comparable across ways whose timing differs.
    adjusted_shortfall_bps: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "way": self.way,
            "strategy": None if self.strategy is None else str(self.strategy),
            "filled": str(self.filled),
            "average_price": None if self.average_price is None else str(self.average_price),
            "shortfall_bps": None if self.shortfall_bps is None else round(self.shortfall_bps, 4),
            "cost": None if self.cost is None else str(self.cost),
            "note": self.note,
            "adjusted_shortfall_bps": None
            if self.adjusted_shortfall_bps is None
            else round(self.adjusted_shortfall_bps, 4),
        }


SIMULATED_STRATEGIES = frozenset(
    {Strategy.DIRECT, Strategy.DARK, Strategy.TWAP, Strategy.VWAP, Strategy.POV, Strategy.IS, Strategy.ICEBERG}
)


def counterfactuals(
    order: BacktestOrder,
    *,
    market: MarketState,
    router_second_choice: Strategy | None,
    second_choice_parameters: Mapping[str, Any] | None = None,
    main_venue: str | None = None,
    tick_seconds: float = 1.0,
    as_executed: bool = False,
) -> list[Counterfactual]:
    """What the same order would have cost three other ways, each from the same recorded
    market state at arrival (`market`): the whole order as one market order on the main
    venue (default: the first lit venue), a plain TWAP on that venue over the order's
    window, and the router's second choice (`sor.domain.runner_up`; None gives a row that
    says there is none). Every way runs to the order's end, so what one way leaves unfilled
    is valued at the mid at the end (opportunity cost), as the TCA values the real order.
    With `as_executed`, a first row works the order itself (its strategy and parameters)
    in the same simulated market: the bridge between the realised cost, paid in the real
    market, and the other ways, which only the simulator can price.
    Pure: the same order and state give the same rows."""
    if abs(order.start - market.arrival) > 1e-9:
        raise ValueError(f"the order starts at {order.start}, the recorded market at {market.arrival}")
    venue = main_venue or next(v.name for v in market.venues if v.kind == VenueKind.LIT and v.enabled)
    ways: list[tuple[str, BacktestOrder | None, str]] = []
    if as_executed:
        if Strategy(order.strategy) in SIMULATED_STRATEGIES:
            ways.append(("as_executed", replace(order, venues=None, reevaluate=False), ""))
        else:
            ways.append(("as_executed", None, f"{order.strategy} is not simulated (no liquidity providers here)"))
    ways += [
        ("single_market_order", single_market_order(order, venue), ""),
        ("one_venue_twap", one_venue_twap(order, venue, order.end - order.start), ""),
    ]
    if router_second_choice is None:
        ways.append(("router_second_choice", None, "the router had no second choice for this order"))
    elif Strategy(router_second_choice) not in SIMULATED_STRATEGIES:
        ways.append(
            ("router_second_choice", None, f"{router_second_choice} is not simulated (no liquidity providers here)")
        )
    else:
        second = order.with_strategy(router_second_choice, second_choice_parameters)
        ways.append(("router_second_choice", replace(second, venues=None, reevaluate=False), ""))

    rows = []
    for way, worked, note in ways:
        if worked is None:
            strategy = order.strategy if way == "as_executed" else router_second_choice
            rows.append(Counterfactual(way, strategy, _ZERO, None, None, None, note))
            continue
        result = run_backtest(
            worked,
            instruments=market.instruments,
            venues=market.venues,
            seed=market.seed,
            params=market.params,
            tick_seconds=tick_seconds,
            dark_fill_rates=market.dark_fill_rates,
            simulator=market.simulator(),
            run_to_end=True,
        )
        cost = result.costs()
        rows.append(
            Counterfactual(
                way,
                Strategy(worked.strategy),
                result.filled,
                None if result.average_price is None else _to_tick(result.average_price, market, order.symbol),
                cost.shortfall_bps,
                _dec(cost.total).quantize(Decimal("0.01")),
                result.done_reason,
                cost.adjusted_shortfall_bps,
            )
        )
    return rows


def _to_tick(price: Decimal, market: MarketState, symbol: str) -> Decimal:
    """An average price, to a hundredth of the tick: precise and readable."""
    spec = next(i for i in market.instruments if i.symbol == symbol)
    return price.quantize(_dec(spec.tick_size) / 100)
