"""DARK: rest at the mid in the dark pools, split by their fill rates; near the end of the
horizon cancel what still rests and sweep the residual on the lit venues.

Parameters: horizon_seconds (default 1800, never past `end`), dark_fraction (the share
offered dark, default 1: the rest is swept on lit at once, as the router's cost model
assumes), sweep_share (last share of the horizon spent sweeping, default 0.1)."""

from __future__ import annotations

from decimal import Decimal

from .base import Action, ChildType, ExecutionState, MarketView, Remember
from .common import (
    cancel_all,
    dark_allowed,
    finish,
    guard,
    horizon_end,
    live_children,
    parameter,
    rest_dark,
    sweep,
    whole_lots,
)

DEFAULT_HORIZON_SECONDS = 1800.0
DEFAULT_SWEEP_SHARE = 0.1


def sweep_time(state: ExecutionState) -> float:
    origin = float(state.memory.get("phase_start", state.start))  # type: ignore[arg-type]
    end = horizon_end(state, origin, DEFAULT_HORIZON_SECONDS)
    share = min(max(parameter(state, "sweep_share", DEFAULT_SWEEP_SHARE), 0.0), 1.0)
    return end - (end - origin) * share


def decide_dark(state: ExecutionState, market: MarketView, now: float) -> list[Action]:
    ending = finish(state, now)
    if ending is not None:
        return guard(state, ending)
    darks = live_children(state, ChildType.DARK)
    if now >= sweep_time(state):
        return guard(
            state,
            [
                *cancel_all(darks, "dark: horizon ending, sweep the residual"),
                *sweep(state, market, state.unallocated, "dark: sweep the residual on lit"),
            ],
        )
    if not dark_allowed(state, market):
        return guard(state, cancel_all(darks, "dark: mid too close to the limit"))
    fraction = min(max(parameter(state, "dark_fraction", 1.0), 0.0), 1.0)
    if fraction < 1.0 and not state.memory.get("lit_share_swept"):
        lit_share = whole_lots(state.remaining * (1 - Decimal(repr(fraction))), state.lot_size)
        return guard(
            state,
            [*sweep(state, market, lit_share, "dark: lit share taken at once"), Remember({"lit_share_swept": True})],
        )
    return guard(state, rest_dark(state, market, state.unallocated, "dark: rest at the mid"))
