"""DIRECT: sweep the lit venues now, as the router allocates, never through the limit.
What the books cannot take at or inside the limit waits for the next tick.

With `single_order` (a benchmark, e.g. TCA's counterfactual) it sends the whole order as
one market order to one lit venue (`venue`, default the first), walking that book as deep
as it goes, and is done with whatever that order did not fill."""

from __future__ import annotations

from core.vocabulary import VenueKind

from .base import Action, ChildType, Done, ExecutionState, MarketView, NewChild, Remember
from .common import finish, guard, sweep, whole_lots


def decide_direct(state: ExecutionState, market: MarketView, now: float) -> list[Action]:
    ending = finish(state, now)
    if ending is not None:
        return guard(state, ending)
    if state.parameters.get("single_order"):
        return guard(state, _single_order(state, market))
    return guard(state, sweep(state, market, state.unallocated, "direct: sweep the lit venues"))


def _single_order(state: ExecutionState, market: MarketView) -> list[Action]:
    if state.memory.get("single_order_sent"):
        if state.open_children:
            return []
        return [Done(f"single market order done: {state.remaining} of {state.quantity} unfilled")]
    venue = state.parameters.get("venue") or next(v.venue for v in market.venues if v.kind == VenueKind.LIT)
    quantity = whole_lots(state.unallocated, state.lot_size)
    return [
        NewChild(str(venue), ChildType.MARKET, quantity, state.limit_price, "single market order"),
        Remember({"single_order_sent": True}),
    ]
