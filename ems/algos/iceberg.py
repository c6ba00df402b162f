"""ICEBERG: show at most `display_quantity` at a time and refill it as it fills.

The clip rests at or inside the touch, capped at the parent's limit (so a limit behind the
market rests at the limit). With a horizon it also follows a linear schedule: when the
filled quantity falls behind it by more than a clip the clip is sent as a marketable
order instead (still at most the display quantity, never through the limit). Every lit
child counts as shown, pending cancels included, so the display is never exceeded even
while a cancel is in flight.

Parameters: display_quantity (default a tenth of the order, at least one lot),
horizon_seconds (no schedule when absent)."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from .base import Action, ChildType, ExecutionState, MarketView, NewChild
from .common import (
    buying,
    cancel_all,
    cap_to_limit,
    finish,
    guard,
    live_children,
    open_of,
    price_on_grid,
    rest_lit,
    stale_passive,
    whole_lots,
)
from .schedule import phase


def display_quantity(state: ExecutionState) -> Decimal:
    raw = state.parameters.get("display_quantity")
    lot = state.lot_size
    display = Decimal(str(raw)) if raw not in (None, "") else state.quantity / 10
    return max(whole_lots(display, lot), lot)


def schedule_share(state: ExecutionState, now: float) -> float | None:
    horizon = state.parameters.get("horizon_seconds")
    if horizon in (None, "", 0):
        return None
    origin, _ = phase(state)
    return min(max((now - origin) / float(horizon), 0.0), 1.0)  # type: ignore[arg-type]


def schedule_progress(state: ExecutionState, market: MarketView, now: float) -> float:
    share = schedule_share(state, now)
    return 0.0 if share is None else share


def decide_iceberg(state: ExecutionState, market: MarketView, now: float) -> list[Action]:
    ending = finish(state, now)
    if ending is not None:
        return guard(state, ending)
    display = display_quantity(state)
    shown = open_of(state, ChildType.LIMIT, ChildType.MARKET)
    room = min(display - shown, state.unallocated)
    actions: list[Action] = []
    share = schedule_share(state, now)
    _, base = phase(state)
    if share is not None:
        expected = base + (state.quantity - base) * Decimal(repr(share))
        if expected - state.filled > display:
            resting = live_children(state, ChildType.LIMIT)
            touch = market.best_ask if buying(state) else market.best_bid
            if touch is None:
                return guard(state, actions)
            rounding = ROUND_CEILING if buying(state) else ROUND_FLOOR
            price = cap_to_limit(state, price_on_grid(touch, state.tick_size, rounding))
            aggressive = [c for c in resting if c.limit_price != price]
            actions += cancel_all(aggressive, "iceberg: behind schedule, clip goes marketable")
            clip = whole_lots(room, state.lot_size)
            if clip > 0:
                venue = _venue_at(market, touch, buying(state))
                actions.append(NewChild(venue, ChildType.LIMIT, clip, price, "iceberg: behind schedule, take a clip"))
            return guard(state, actions)
    actions += cancel_all(stale_passive(state, market, now), "iceberg: touch moved away")
    if room >= state.lot_size:
        actions += rest_lit(state, market, room, "iceberg: refill the clip")
    return guard(state, actions)


def _venue_at(market: MarketView, touch: float, take_asks: bool) -> str:
    for venue in market.venues:
        if (venue.ask if take_asks else venue.bid) == touch and venue.kind == "LIT":
            return venue.venue
    return next(v.venue for v in market.venues if v.kind == "LIT")
