"""What every algorithm shares: lots and ticks, the parent's limit, the router's venue
allocation for taking, the passive price, dark-pool safety, and the final guard that
re-checks every new child against the parent (defence in depth: an algorithm bug cannot
overfill, cross the limit or break the lot size)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from core.decimals import to_step
from core.vocabulary import Side, VenueKind
from sor.domain.allocation import VenueQuote, allocate

from .base import (
    Action,
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
)

ZERO = Decimal(0)
# A dark order rests at the mid with no price of its own (the simulator's pools take none),
# so with a parent limit we rest dark only while the mid is this many one-tick standard
# deviations inside the limit, and cancel it as soon as it is not.
DARK_LIMIT_MARGIN_SIGMAS = 8.0
DEFAULT_TICK_SECONDS = 1.0
REPRICE_SECONDS = 5.0  # a passive child rests this long before it chases the touch


def whole_lots(quantity: Decimal, lot_size: Decimal) -> Decimal:
    if quantity <= 0:
        return ZERO
    return (quantity // lot_size) * lot_size


def buying(state: ExecutionState) -> bool:
    return state.side is Side.BUY or state.side == Side.BUY


def price_on_grid(value: float, tick: Decimal, rounding: str = ROUND_FLOOR) -> Decimal:
    return to_step(Decimal(repr(float(value))), tick, rounding=rounding)


def within_limit(state: ExecutionState, price: Decimal | None) -> bool:
    limit = state.limit_price
    if limit is None or price is None:
        return True
    return price <= limit if buying(state) else price >= limit


def cap_to_limit(state: ExecutionState, price: Decimal) -> Decimal:
    limit = state.limit_price
    if limit is None:
        return price
    return min(price, limit) if buying(state) else max(price, limit)


def parameter(state: ExecutionState, name: str, default: float) -> float:
    value = state.parameters.get(name)
    if value is None or value == "":
        return default
    return float(value)  # type: ignore[arg-type]


def horizon_end(state: ExecutionState, origin: float, default_seconds: float | None = None) -> float:
    """End of the schedule: origin + horizon_seconds (the router's or the trader's), never past `end`."""
    horizon = state.parameters.get("horizon_seconds")
    if horizon in (None, "", 0):
        horizon = default_seconds
    if horizon is None:
        return state.end
    return min(origin + float(horizon), state.end)  # type: ignore[arg-type]


def tick_seconds(state: ExecutionState) -> float:
    return parameter(state, "tick_seconds", DEFAULT_TICK_SECONDS)


# ----------------------------------------------------------------------------- open children


def live_children(state: ExecutionState, *types: ChildType) -> list[OpenChild]:
    """Open children of these types whose cancel has not been asked for yet."""
    return [c for c in state.open_children if not c.cancel_pending and (not types or c.child_type in types)]


def open_of(state: ExecutionState, *types: ChildType) -> Decimal:
    """Open quantity of these types, pending cancels included (they may still fill)."""
    return sum((c.open_quantity for c in state.open_children if c.child_type in types), ZERO)


def cancel_all(children: Iterable[OpenChild], reason: str) -> list[Action]:
    return [CancelChild(c.client_order_id, reason) for c in children if not c.cancel_pending]


# ----------------------------------------------------------------------------- taking


def _levels(venue: VenueTop, take_asks: bool, tick: Decimal) -> list[tuple[Decimal, Decimal]]:
    raw = venue.ask_levels if take_asks else venue.bid_levels
    if not raw:
        price, size = (venue.ask, venue.ask_size) if take_asks else (venue.bid, venue.bid_size)
        raw = () if price is None else ((price, size),)
    rounding = ROUND_CEILING if take_asks else ROUND_FLOOR  # a conservative limit off the grid
    return [(price_on_grid(p, tick, rounding), Decimal(repr(float(s)))) for p, s in raw if s > 0]


def lit_quotes(state: ExecutionState, market: MarketView) -> list[VenueQuote]:
    take_asks = buying(state)
    return [
        VenueQuote(
            name=v.venue,
            kind=VenueKind.LIT,
            taker_fee_bps=v.taker_fee_bps,
            min_quantity=Decimal(repr(float(v.min_quantity))),
            enabled=True,
            fresh=True,
            levels=_levels(v, take_asks, state.tick_size),
        )
        for v in market.venues
        if v.kind == VenueKind.LIT
    ]


def sweep(state: ExecutionState, market: MarketView, quantity: Decimal, reason: str) -> list[NewChild]:
    """Take `quantity` (at most what is unallocated) on the lit venues now, through the
    router's allocation: immediate-or-cancel children at or inside the parent's limit."""
    wanted = whole_lots(min(quantity, state.unallocated), state.lot_size)
    if wanted <= 0:
        return []
    allocations = allocate(state.side, wanted, state.limit_price, state.lot_size, lit_quotes(state, market))
    return [NewChild(a.venue, ChildType.MARKET, a.quantity, cap_to_limit(state, a.price), reason) for a in allocations]


# ----------------------------------------------------------------------------- resting


def passive_quote(state: ExecutionState, market: MarketView) -> tuple[str, Decimal] | None:
    """Venue and price to rest at: one tick inside the best touch on our side when the
    spread allows it, else at the touch; capped at the parent's limit (which may sit behind)."""
    lit = [v for v in market.venues if v.kind == VenueKind.LIT]
    tick = state.tick_size
    if buying(state):
        quoted = [v for v in lit if v.bid is not None]
        if not quoted:
            return None
        best = max(quoted, key=lambda v: (v.bid, -v.maker_fee_bps))
        price = price_on_grid(best.bid, tick)
        if market.best_ask is not None and price + tick < price_on_grid(market.best_ask, tick, ROUND_CEILING):
            price += tick
    else:
        quoted = [v for v in lit if v.ask is not None]
        if not quoted:
            return None
        best = min(quoted, key=lambda v: (v.ask, v.maker_fee_bps))
        price = price_on_grid(best.ask, tick, ROUND_CEILING)
        if market.best_bid is not None and price - tick > price_on_grid(market.best_bid, tick):
            price -= tick
    price = cap_to_limit(state, price)
    return (best.venue, price) if price > 0 else None


def stale_passive(state: ExecutionState, market: MarketView, now: float) -> list[OpenChild]:
    """Resting lit children now behind the touch (the market moved away) while the limit
    would let them stand at it: cancelled so they can be re-posted. A child rests at least
    `reprice_seconds` (default REPRICE_SECONDS) first: chasing every tick of a jittering
    touch turns one child into a cancel and a new order a second, and gives up the queue
    place each time; falling behind schedule meanwhile is what the taking step is for."""
    rested = parameter(state, "reprice_seconds", REPRICE_SECONDS)
    quote = passive_quote(state, market)
    if quote is None:
        return []
    _, wanted = quote
    stale = []
    for child in live_children(state, ChildType.LIMIT):
        if child.limit_price is None or now - child.sent_at < rested:
            continue
        behind = child.limit_price < wanted if buying(state) else child.limit_price > wanted
        touch = market.best_bid if buying(state) else market.best_ask
        at_touch = touch is not None and (
            child.limit_price >= price_on_grid(touch, state.tick_size)
            if buying(state)
            else child.limit_price <= price_on_grid(touch, state.tick_size, ROUND_CEILING)
        )
        if behind and not at_touch:
            stale.append(child)
    return stale


def rest_lit(state: ExecutionState, market: MarketView, quantity: Decimal, reason: str) -> list[NewChild]:
    wanted = whole_lots(min(quantity, state.unallocated), state.lot_size)
    quote = passive_quote(state, market)
    if wanted <= 0 or quote is None:
        return []
    venue, price = quote
    return [NewChild(venue, ChildType.LIMIT, wanted, price, reason)]


def dark_pools(market: MarketView) -> list[VenueTop]:
    return [v for v in market.venues if v.kind == VenueKind.DARK and v.fill_rate > 0]


def dark_allowed(state: ExecutionState, market: MarketView) -> bool:
    """Dark pools exist and, with a limit, the mid is safely inside it (see DARK_LIMIT_MARGIN_SIGMAS)."""
    if not dark_pools(market) or market.mid <= 0:
        return False
    if state.limit_price is None:
        return True
    sigma = market.daily_vol * math.sqrt(tick_seconds(state) / market.session_seconds) * market.mid
    margin = max(2 * float(state.tick_size), DARK_LIMIT_MARGIN_SIGMAS * sigma)
    room = float(state.limit_price) - market.mid if buying(state) else market.mid - float(state.limit_price)
    return room > margin


def rest_dark(state: ExecutionState, market: MarketView, quantity: Decimal, reason: str) -> list[NewChild]:
    """Rest at the mid in the dark pools, split by their fill rates (the router's allocation)."""
    wanted = whole_lots(min(quantity, state.unallocated), state.lot_size)
    if wanted <= 0 or not dark_allowed(state, market):
        return []
    mid = price_on_grid(market.mid, state.tick_size)
    quotes = [
        VenueQuote(
            name=v.venue,
            kind=VenueKind.DARK,
            taker_fee_bps=v.taker_fee_bps,
            min_quantity=Decimal(repr(float(v.min_quantity))),
            enabled=True,
            fresh=True,
            levels=(),
            mid=mid,
            dark_fill_rate=v.fill_rate,
        )
        for v in dark_pools(market)
    ]
    allocations = allocate(state.side, wanted, state.limit_price, state.lot_size, quotes, dark_fraction=1.0)
    # The cap travels with the child: a venue with mid-peg limits enforces it.
    return [
        NewChild(a.venue, ChildType.DARK, a.quantity, state.limit_price, reason)
        for a in allocations
        if a.kind is VenueKind.DARK
    ]


# ----------------------------------------------------------------------------- the guard


def finish(state: ExecutionState, now: float) -> list[Action] | None:
    """The common endings: filled, a remainder below one lot, or the end time."""
    if state.remaining <= 0:
        return [*cancel_all(state.open_children, "filled"), Done("filled")]
    if now >= state.end:
        actions: list[Action] = cancel_all(state.open_children, "end time reached")
        lots = "" if state.remaining >= state.lot_size else f", below one lot of {state.lot_size}"
        actions.append(
            Done(f"end time reached: {state.remaining} of {state.quantity} unfilled{lots}; open child orders cancelled")
        )
        return actions
    if state.remaining < state.lot_size:
        return [
            *cancel_all(state.open_children, "remainder below one lot"),
            Done(f"remainder {state.remaining} is below one lot of {state.lot_size}: cannot trade, left unfilled"),
        ]
    return None


def guard(state: ExecutionState, actions: Sequence[Action]) -> list[Action]:
    """Re-check every new child against the parent and order the actions: cancels and
    replaces first, then new children, then memory, then Done. A child that would cross
    the limit, break the lot size or overfill is dropped (clipped to what is free)."""
    cancels: list[Action] = []
    seen: set[str] = set()
    news: list[NewChild] = []
    rest: list[Action] = []
    for action in actions:
        if isinstance(action, CancelChild):
            if action.client_order_id not in seen:
                seen.add(action.client_order_id)
                cancels.append(action)
        elif isinstance(action, ReplaceChild):
            cancels.append(action)
        elif isinstance(action, NewChild):
            news.append(action)
        else:
            rest.append(action)

    free = state.unallocated
    lot = state.lot_size
    kept: list[NewChild] = []
    for child in news:
        if child.limit_price is None:
            # A resting lit order needs a price; a taking one needs the parent's cap if it has one.
            if child.child_type is ChildType.LIMIT or (
                child.child_type is ChildType.MARKET and state.limit_price is not None
            ):
                continue
        elif not within_limit(state, child.limit_price) or child.limit_price <= 0:
            continue
        quantity = whole_lots(min(child.quantity, free), lot)
        if quantity <= 0:
            continue
        free -= quantity
        kept.append(
            child
            if quantity == child.quantity
            else NewChild(child.venue, child.child_type, quantity, child.limit_price, child.reason)
        )

    # Our own taking moves the mid (permanent impact): with a limit, a dark order resting
    # beside it could then fill at a mid beyond the limit. So no dark order rests while we take.
    if state.limit_price is not None and any(c.child_type is ChildType.MARKET for c in kept):
        kept = [c for c in kept if c.child_type is not ChildType.DARK]
        for child in live_children(state, ChildType.DARK):
            if child.client_order_id not in seen:
                seen.add(child.client_order_id)
                cancels.append(CancelChild(child.client_order_id, "taking liquidity: no dark order rests beside it"))

    remember = [a for a in rest if isinstance(a, Remember)]
    done = [a for a in rest if isinstance(a, Done)]
    return [*cancels, *kept, *remember, *done[:1]]
