"""Pure execution algorithms behind one interface (see `ems.algos.base`):

    decide(state, market, now) -> list[Action]

`ALGORITHMS` maps each strategy the EMS works to its decide function; RFQ is not worked
here (the RFQ desk takes it). Every algorithm's actions pass through one guard
(`ems.algos.common.guard`): cancels first, then new children, then memory, then Done, and
no new child that would overfill, cross the parent's limit or break the lot size."""

from __future__ import annotations

from core.errors import DomainError
from core.vocabulary import Strategy

from .base import (
    Action,
    CancelChild,
    ChildType,
    Decide,
    Done,
    ExecutionState,
    MarketView,
    NewChild,
    OpenChild,
    Remember,
    ReplaceChild,
    VenueTop,
)
from .dark import decide_dark
from .direct import decide_direct
from .iceberg import decide_iceberg
from .pov import decide_pov
from .schedule import decide_is, decide_twap, decide_vwap

ALGORITHMS: dict[Strategy, Decide] = {
    Strategy.DIRECT: decide_direct,
    Strategy.DARK: decide_dark,
    Strategy.TWAP: decide_twap,
    Strategy.VWAP: decide_vwap,
    Strategy.POV: decide_pov,
    Strategy.IS: decide_is,
    Strategy.ICEBERG: decide_iceberg,
}


def decide(state: ExecutionState, market: MarketView, now: float) -> list[Action]:
    """The actions of the algorithm in force (`state.strategy`) at `now`."""
    try:
        algorithm = ALGORITHMS[Strategy(state.strategy)]
    except (KeyError, ValueError):
        raise DomainError(f"no execution algorithm for strategy {state.strategy!r}") from None
    return algorithm(state, market, now)


from .tick import Switch, TickResult, run_tick  # noqa: E402  (needs ALGORITHMS defined)

__all__ = [
    "ALGORITHMS",
    "Action",
    "CancelChild",
    "ChildType",
    "Decide",
    "Done",
    "ExecutionState",
    "MarketView",
    "NewChild",
    "OpenChild",
    "Remember",
    "ReplaceChild",
    "Switch",
    "TickResult",
    "VenueTop",
    "decide",
    "run_tick",
]
