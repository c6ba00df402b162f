"""What the same order would have cost other ways: the EMS's virtual-time backtest
(ems.backtest.counterfactuals, the production algorithm code) started from the market
state recorded at the execution's arrival (ems.models.ExecutionArrival).

The recorded state rebuilds the simulator: its seed, parameters, the instrument's and the
venues' specs. The replay runs to the arrival's time in the simulator's session (the
recorded clock modulo the session: the volume profile and the session's volume depend on
it, and the replay stays shorter than a session), with only this instrument (and an
option's underlying), and is then anchored: the latent mid at arrival is moved to the
recorded arrival mid (MarketState.anchored), so the counterfactual prices start where the
real order started. What the replay does not carry over from the live market: the depth
our earlier orders had consumed (the recorded book is kept beside it for that reason) and
the live random path itself. A counterfactual is what the simulator says the other way
would have cost; the `as_executed` row prices the order's own strategy in the same
simulated market, the fair comparison for the other rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from core.vocabulary import Side, Strategy, Urgency
from ems.backtest import BacktestOrder, MarketState, counterfactuals
from marketdata.sim import InstrumentSpec, SimParams, VenueSpec

VERSION = 1  # bump when the rows' definition changes
TICK_SECONDS = 10.0  # the algorithms' tick in the backtest, as in bench/execution_quality.py
WAYS = ("as_executed", "single_market_order", "one_venue_twap", "router_second_choice")


@dataclass(frozen=True, slots=True)
class CounterfactualOrder:
    """The order as the execution worked it: quantity, side, window and strategy."""

    order_id: int
    symbol: str
    side: Side
    quantity: Decimal
    window_seconds: float
    strategy: Strategy
    parameters: Mapping[str, Any] = field(default_factory=dict)
    limit_price: Decimal | None = None
    urgency: Urgency = Urgency.MEDIUM


def market_state(record: Mapping[str, Any], symbol: str) -> tuple[MarketState, dict]:
    """The simulator's state at arrival from a recorded one ({seed, sim_time, arrival_mid,
    state}), and what it was built from (for the page: seed, session time, anchor)."""
    state = record["state"]
    params = SimParams(**state["params"])
    instruments = tuple(InstrumentSpec(**spec) for spec in state["instruments"])
    venues = tuple(VenueSpec(**spec) for spec in state["venues"])
    sim_time = record.get("sim_time")
    # Without a published book the simulator's clock is unknown: its session opens.
    arrival = round(float(sim_time) % params.session_seconds, 6) if sim_time is not None else 0.0
    market = MarketState(
        seed=int(record["seed"]),
        arrival=arrival,
        instruments=instruments,
        venues=venues,
        params=params,
        dark_fill_rates=dict(state.get("dark_fill_rates") or {}),
    )
    mid = record.get("arrival_mid")
    anchored = market.anchored(symbol, float(mid)) if mid is not None else market
    source = {
        "seed": market.seed,
        "sim_time": sim_time,
        "session_time": arrival,
        "arrival_mid": None if mid is None else str(mid),
        "anchored": anchored is not market,
        "feed": record.get("feed", ""),
        "book": state.get("book"),
        "book_fresh": state.get("book_fresh"),
    }
    return anchored, source


def compute(record: Mapping[str, Any], order: CounterfactualOrder, *, tick_seconds: float = TICK_SECONDS) -> dict:
    """The counterfactual rows of one order: the order as executed, one market order on the
    main venue, a plain TWAP on it over the order's window and the router's second choice
    (recorded at arrival), each in the same simulated market. Pure and deterministic."""
    market, source = market_state(record, order.symbol)
    # One session at most: a multi-day window would cost minutes of backtest for a figure
    # the simulator's one-session model cannot vouch for anyway.
    window = min(order.window_seconds, market.params.session_seconds)
    source["window_seconds"], source["window_capped"] = window, window < order.window_seconds
    backtest_order = BacktestOrder(
        order.symbol,
        order.side,
        order.quantity,
        order.strategy,
        market.arrival,
        market.arrival + window,
        parameters=dict(order.parameters),
        limit_price=order.limit_price,
        urgency=order.urgency,
        order_id=f"cf{order.order_id}",
    )
    second = record["state"].get("second_choice")
    rows = counterfactuals(
        backtest_order,
        market=market,
        router_second_choice=None if second is None else Strategy(second["strategy"]),
        second_choice_parameters=None if second is None else second.get("parameters"),
        tick_seconds=tick_seconds,
        as_executed=True,
    )
    plain = [row.to_dict() for row in rows]
    if second is not None:
        plain[-1]["rule"] = second.get("rule", "")
    return {"version": VERSION, "tick_seconds": tick_seconds, "market": source, "rows": plain}
