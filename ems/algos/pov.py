"""POV: trade a share of the market's volume since the start, within bounds.

Parameters: participation_rate (target, default 0.1), min_participation_rate (default half
the target) and max_participation_rate (default 1.5 times it, at most 0.5), patience_seconds
(default 60), min_clip (the smallest child it rests, default 1/MAX_CLIPS of the parent, at
least one lot). With V the market volume since the phase started (ours included) and F what
we filled since then: below min*V we take on the lit venues up to the target; below the
target we rest at the touch; we never have more filled and open than max*V, so passive
fills cannot push us over the upper bound.

The lower bound holds once the phase is `patience_seconds` old. A child just placed at
the touch waits behind the queue already there; taking to reach min*V before it had a
chance pays the spread for a shortfall that resting would have filled, and the permanent
impact of that taking is paid again by every later fill (the schedules wait the same way,
`patience`, before taking). The upper bound holds from the first tick.

Resting children are clips of at least `min_clip`: at a low rate the target grows by less
than a lot a second, and topping it up every tick would post (and fill) a one-lot child each
second: odd-lot noise venues meter by order-to-trade ratio, and a report storm for the desk.
A clip rests once the room under the upper bound holds it, so the target is met in a few
dozen child orders, not thousands; only the tail of the parent is smaller."""

from __future__ import annotations

from decimal import Decimal

from .base import Action, ChildType, ExecutionState, MarketView
from .common import (
    cancel_all,
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
from .schedule import phase

DEFAULT_RATE = 0.1
DEFAULT_PATIENCE_SECONDS = 60.0
MAX_CLIPS = 500  # the default clip: the parent in at most this many resting children


def bounds(state: ExecutionState) -> tuple[float, float, float]:
    rate = parameter(state, "participation_rate", DEFAULT_RATE)
    low = parameter(state, "min_participation_rate", rate * 0.5)
    high = parameter(state, "max_participation_rate", min(rate * 1.5, 0.5))
    low, high = min(low, high), max(low, high)
    return low, min(max(rate, low), high), high


def min_clip(state: ExecutionState) -> Decimal:
    """The smallest child rested (the trader's `min_clip`, else 1/MAX_CLIPS of the parent),
    in whole lots, at least one lot, at most what is still unallocated."""
    clip = state.parameters.get("min_clip")
    wanted = state.quantity / MAX_CLIPS if clip in (None, "") else Decimal(str(clip))
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
    actions: list[Action] = []
    if ceiling < 0:
        return guard(state, cancel_all(live_children(state, ChildType.LIMIT), "pov: at the upper bound"))
    actions += cancel_all(stale_passive(state, market, now), "pov: touch moved away")
    if settled and filled < at(low) - state.lot_size:
        wanted = min(at(rate) - filled - open_of(state, ChildType.MARKET), ceiling)
        actions += cancel_all(live_children(state, ChildType.LIMIT), "pov: below the lower bound")
        actions += sweep(state, market, wanted, f"pov: below {low:.0%} of volume, take")
    elif filled + state.open_quantity < at(rate):
        clip = min_clip(state)
        wanted = min(max(at(rate) - filled - state.open_quantity, clip), ceiling)
        if wanted >= clip:
            actions += rest_lit(state, market, wanted, f"pov: rest toward {rate:.2%} of volume")
    return guard(state, actions)
