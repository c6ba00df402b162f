"""DIRECT: sweep the lit venues now, as the router allocates, never through the limit.
What the books cannot take at or inside the limit waits for the next tick."""

from __future__ import annotations

from .base import Action, ExecutionState, MarketView
from .common import finish, guard, sweep


def decide_direct(state: ExecutionState, market: MarketView, now: float) -> list[Action]:
    ending = finish(state, now)
    if ending is not None:
        return guard(state, ending)
    return guard(state, sweep(state, market, state.unallocated, "direct: sweep the lit venues"))
