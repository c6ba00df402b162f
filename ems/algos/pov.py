"""POV: trade a share of the market's volume since the start, within bounds.

Parameters: participation_rate (target, default 0.1), min_participation_rate (default half
the target) and max_participation_rate (default 1.5 times it, at most 0.5), patience_seconds
(default 60), min_clip (the smallest child it rests lit, default what the target grows by in
CLIP_SECONDS, at least one lot). With V the market volume since the phase started (ours included) and F what
we filled since then: below min*V we take on the lit venues up to the target; below the
target we rest at the touch; with a dark pool, one order per pool rests at the mid ahead of
the target (up to a tenth of the order, schedule.DARK_AHEAD_SHARE); we never have more
filled and open than max*V, so passive and dark fills cannot push us over the upper bound.

The lower bound holds once the phase is `patience_seconds` old. A child just placed at
the touch waits behind the queue already there; taking to reach min*V before it had a
chance pays the spread for a shortfall that resting would have filled, and the permanent
impact of that taking is paid again by every later fill (the schedules wait the same way,
`patience`, before taking). The upper bound holds from the first tick.

Lit children are clips of at least `min_clip`: at a low rate the target grows by less than a
lot a second, and topping it up every tick posted (and filled) a one-lot child each second:
odd-lot noise that venues meter by order-to-trade ratio, and a report storm for the desk."""

from __future__ import annotations

from decimal import Decimal

from .base import Action, ChildType, ExecutionState, MarketView
from .common import (
    ZERO,
    cancel_all,
    dark_allowed,
    finish,
    guard,
    live_children,
    open_of,
    parameter,
    rest_lit,
    stale_passive,
    sweep,
    whole_lots,
)
from .schedule import DARK_AHEAD_SHARE, dark_cushion, phase

DEFAULT_RATE = 0.1
DEFAULT_PATIENCE_SECONDS = 60.0
CLIP_SECONDS = 10.0  # the default clip: this long of the target's growth


def bounds(state: ExecutionState) -> tuple[float, float, float]:
    rate = parameter(state, "participation_rate", DEFAULT_RATE)
    low = parameter(state, "min_participation_rate", rate * 0.5)
    high = parameter(state, "max_participation_rate", min(rate * 1.5, 0.5))
    low, high = min(low, high), max(low, high)
    return low, min(max(rate, low), high), high


def min_clip(state: ExecutionState, rate: float, volume_so_far: float, elapsed: float) -> Decimal:
    """The smallest child rested lit: the trader's `min_clip`, else what the target grows by in
    CLIP_SECONDS at the volume seen so far; in whole lots, at least one lot, at most what is
    still unallocated."""
    clip = state.parameters.get("min_clip")
    if clip in (None, ""):
        wanted = Decimal(repr(rate * volume_so_far * CLIP_SECONDS / elapsed)) if elapsed > 0 else state.lot_size
    else:
        wanted = Decimal(str(clip))
    return min(max(whole_lots(wanted, state.lot_size), state.lot_size), state.unallocated)


def volume(state: ExecutionState) -> float:
    return max(state.market_volume_since_start - float(state.memory.get("phase_volume", 0.0)), 0.0)  # type: ignore[arg-type]


def schedule_progress(state: ExecutionState, market: MarketView, now: float) -> float:
    _, base = phase(state)
    _, rate, _ = bounds(state)
    return min(1.0, (float(base) + rate * volume(state)) / float(state.quantity))


def decide_pov(state: ExecutionState, market: MarketView, now: float) -> list[Action]:
    ending = finish(state, now)
    if ending is not None:
        return guard(state, ending)
    origin, base = phase(state)
    low, rate, high = bounds(state)
    v = volume(state)
    settled = now - origin >= parameter(state, "patience_seconds", DEFAULT_PATIENCE_SECONDS)
    filled = state.filled - base  # this phase's fills

    def at(share: float) -> Decimal:
        return Decimal(repr(share * v))

    ceiling = at(high) - filled - state.open_quantity  # room left under the upper bound
    darks = live_children(state, ChildType.DARK)
    actions: list[Action] = []
    if ceiling < 0:
        return guard(
            state, cancel_all(live_children(state, ChildType.LIMIT, ChildType.DARK), "pov: at the upper bound")
        )
    actions += cancel_all(stale_passive(state, market, now), "pov: touch moved away")
    lit_open = open_of(state, ChildType.LIMIT, ChildType.MARKET)
    new_lit = ZERO
    if settled and filled < at(low) - state.lot_size:
        wanted = min(at(rate) - filled - open_of(state, ChildType.MARKET), ceiling)
        actions += cancel_all(live_children(state, ChildType.LIMIT, ChildType.DARK), "pov: below the lower bound")
        actions += sweep(state, market, wanted, f"pov: below {low:.0%} of volume, take")
        return guard(state, actions)
    if filled + lit_open < at(rate):
        wanted = at(rate) - filled - lit_open
        clip = min_clip(state, rate, v, now - origin)
        if darks and wanted >= clip and whole_lots(wanted, state.lot_size) > min(ceiling, state.unallocated):
            # The dark order holds what the lit book needs now: free it, rest what is free lit
            # (a clip's worth at least: a smaller shortfall waits, and the dark order may fill it).
            actions += cancel_all(darks, "pov: target due, rest it lit")
            if min(wanted, ceiling) >= clip:
                actions += rest_lit(state, market, min(wanted, ceiling), f"pov: rest toward {rate:.2%} of volume")
            return guard(state, actions)
        size = min(max(wanted, clip), ceiling)
        children = rest_lit(state, market, size, f"pov: rest toward {rate:.2%} of volume") if size >= clip else []
        actions += children
        new_lit = sum((c.quantity for c in children), ZERO)
    if parameter(state, "dark_fraction", 1.0) > 0 and dark_allowed(state, market):
        # Ahead of the target, inside the upper bound: up to DARK_AHEAD_SHARE of the order
        # rests at the mid in the dark pools, as one order.
        ahead = state.quantity * Decimal(repr(DARK_AHEAD_SHARE))
        room = ceiling + open_of(state, ChildType.DARK) - new_lit
        target = at(rate) + ahead - filled - lit_open - new_lit
        actions += dark_cushion(state, market, whole_lots(min(target, room), state.lot_size), "pov: rest ahead dark")
    else:
        actions += cancel_all(darks, "pov: no dark pool, or the mid too close to the limit")
    return guard(state, actions)
