"""One tick of an execution: ask the router's re-evaluation whether to keep the strategy,
switch if it says so, and decide. The caller persists what comes back, nothing else.

`memory["at_start"]` keeps the market as the first tick saw it (the re-evaluation compares
against it); a switch starts a new phase (`phase_start`, `phase_filled`, `phase_volume`)
so the new strategy schedules what is left from now."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from core.vocabulary import AssetClass, Strategy, VenueKind
from sor.domain.inputs import SelectionInputs
from sor.domain.reevaluation import reevaluate
from sor.domain.rules import SelectionRule

from . import dark, iceberg, pov, schedule
from .base import Action, ExecutionState, MarketView, Remember
from .common import buying, cancel_all

_SCHEDULE_PROGRESS = {
    Strategy.TWAP: schedule.schedule_progress,
    Strategy.VWAP: schedule.schedule_progress,
    Strategy.IS: schedule.schedule_progress,
    Strategy.POV: pov.schedule_progress,
    Strategy.ICEBERG: iceberg.schedule_progress,
}


@dataclass(frozen=True, slots=True)
class Switch:
    from_strategy: Strategy
    to_strategy: Strategy
    reason: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class TickResult:
    actions: list[Action]
    strategy: Strategy  # in force after this tick
    parameters: Mapping[str, Any]  # in force after this tick
    switch: Switch | None = None
    reevaluation: Mapping[str, Any] = field(default_factory=dict)  # the router's answer, as data


def expected_progress(state: ExecutionState, market: MarketView, now: float) -> float:
    """The filled fraction the algorithm in force expected by now (its schedule): DIRECT
    expects everything at once, DARK everything by its sweep time."""
    strategy = Strategy(state.strategy)
    if strategy is Strategy.DIRECT:
        return 1.0
    if strategy is Strategy.DARK:
        return 1.0 if now >= dark.sweep_time(state) else 0.0
    progress = _SCHEDULE_PROGRESS.get(strategy)
    return 1.0 if progress is None else min(max(progress(state, market, now), 0.0), 1.0)


def market_snapshot(market: MarketView, state: ExecutionState) -> dict[str, float]:
    """The market figures re-evaluation compares, as plain JSON-able floats."""
    take_asks = buying(state)
    depth = 0.0
    for venue in market.venues:
        if venue.kind != VenueKind.LIT:
            continue
        levels = venue.ask_levels if take_asks else venue.bid_levels
        depth += sum(size for _, size in levels) if levels else (venue.ask_size if take_asks else venue.bid_size)
    return {
        "mid": market.mid,
        "adv": market.adv,
        "daily_vol": market.daily_vol,
        "spread_bps": market.spread_bps,
        "depth": depth,
    }


def _inputs(
    state: ExecutionState, figures: Mapping[str, float], market: MarketView, now: float, quantity
) -> SelectionInputs:
    return SelectionInputs(
        side=state.side,
        quantity=quantity,
        price=figures["mid"],
        adv=figures["adv"],
        daily_vol=figures["daily_vol"],
        # A consolidated book is crossed for a moment when one venue's touch overtakes
        # another's (and a stored `at_start` may hold that): no spread to pay, not an error.
        spread_bps=max(figures["spread_bps"], 0.0),
        displayed_depth=figures["depth"],
        urgency=state.urgency,
        asset_class=AssetClass(state.memory.get("asset_class", state.parameters.get("asset_class", AssetClass.EQUITY))),
        time_left_seconds=max(state.end - now, 0.0),
        limit_price=state.limit_price,
        lot_size=state.lot_size,
        venue_count_dark=sum(1 for v in market.venues if v.kind == VenueKind.DARK),
    )


def run_tick(
    state: ExecutionState,
    market: MarketView,
    now: float,
    *,
    rules: Sequence[SelectionRule] | None = None,
    reevaluate_strategy: bool = True,
) -> TickResult:
    """Re-evaluate, maybe switch, then decide. Pure and idempotent: the same state, market
    and time give the same result."""
    from . import ALGORITHMS  # the registry imports this module's siblings

    strategy = Strategy(state.strategy)
    remember: dict[str, Any] = {}
    at_start = state.memory.get("at_start")
    if at_start is None:
        at_start = market_snapshot(market, state)
        remember["at_start"] = at_start
    switch = None
    answer: dict[str, Any] = {}
    can_reevaluate = (
        reevaluate_strategy
        and strategy in _SCHEDULE_PROGRESS | {Strategy.DARK: None, Strategy.DIRECT: None}
        and state.remaining > 0
        and now < state.end
        and market.mid > 0
        and at_start["mid"] > 0
        and at_start["adv"] > 0
    )
    if can_reevaluate:
        progress = float(state.filled / state.quantity)
        expected = _SCHEDULE_PROGRESS.get(strategy)
        scheduled = progress if expected is None else expected(state, market, now)
        rate = state.parameters.get("participation_rate")
        verdict = reevaluate(
            strategy,
            _inputs(state, at_start, market, state.start, state.quantity),
            _inputs(state, market_snapshot(market, state), market, now, state.remaining),
            min(max(progress, 0.0), 1.0),
            min(max(scheduled, 0.0), 1.0),
            current_participation_rate=None if rate is None else float(rate),  # type: ignore[arg-type]
            rules=rules,
        )
        answer = verdict.to_dict()
        if verdict.action == "SWITCH" and verdict.new_strategy is not None:
            switch = Switch(strategy, verdict.new_strategy, verdict.reason, dict(verdict.parameters))

    parameters: Mapping[str, Any] = state.parameters
    if switch is not None:
        parameters = {**state.parameters, **{k: v for k, v in switch.parameters.items() if v is not None}}
        remember.update(phase_start=now, phase_filled=str(state.filled), phase_volume=state.market_volume_since_start)
        strategy = switch.to_strategy
        if strategy not in ALGORITHMS:  # RFQ: the desk takes the remainder; stop working here
            actions: list[Action] = cancel_all(state.open_children, f"switched to {strategy}: {switch.reason}")
            return TickResult([*actions, Remember(remember)], strategy, parameters, switch, answer)

    memory = {**state.memory, **remember}
    worked = replace(state, strategy=strategy, parameters=parameters, memory=memory)
    actions = ALGORITHMS[strategy](worked, market, now)
    if remember:
        # Merge our memory into the algorithm's own Remember, keeping Done last.
        merged: dict[str, Any] = dict(remember)
        rest = []
        for action in actions:
            if isinstance(action, Remember):
                merged.update(action.values)
            else:
                rest.append(action)
        tail = [a for a in rest if type(a).__name__ == "Done"]
        actions = [*[a for a in rest if type(a).__name__ != "Done"], Remember(merged), *tail]
    return TickResult(actions, strategy, parameters, switch, answer)


__all__ = ["Switch", "TickResult", "expected_progress", "run_tick"]
