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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from core.vocabulary import Side, Strategy, Urgency, VenueKind
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
) -> BacktestResult:
    """Work `order` from `order.start` to its end (or Done). Pass `simulator` to start from
    a market already run to the arrival time (it is advanced, never rewound); otherwise a
    fresh one is built from the specs and seed."""
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

    def advance(t: float) -> None:
        if t > clock.now():
            clock.advance(t - clock.now())
        sim.advance_to(t)

    def apply_sim_fills(fills) -> None:
        nonlocal fill_count
        for f in fills:
            fill_count += 1
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
                )
            )

    advance(order.start)
    arrival = market_view(sim, spec, usable, rates).mid
    t = order.start
    max_ticks = int((order.end - order.start) / tick_seconds) + 2
    for _ in range(max_ticks):
        advance(t)
        apply_sim_fills(sim.drain_fills())
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
    end_mid = market_view(sim, spec, usable, rates).mid
    return BacktestResult(
        order, list(ledger.fills), list(ledger.children.values()), ticks, done_reason, switches, arrival, end_mid
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
