"""The one interface of every execution algorithm:

    decide(state: ExecutionState, market: MarketView, now: float) -> list[Action]

Plain data in, decisions out; no Django, no I/O, no wall clock (`now` is seconds on the
caller's clock: the wall clock live, a virtual clock in a backtest). The same code runs in
a Celery tick and in `ems.backtest` against the simulator.

Quantities and prices that reach a venue are `Decimal`, on the instrument's lot and tick
grid (core.decimals.to_step); market figures are floats, as analytics are. An algorithm
never asks for more than the parent's remaining quantity minus what is already open at
venues, never crosses the parent's limit, and never sends less than one lot: the caller
enforces the same invariants again (defence in depth), so a bug here cannot overfill.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from core.vocabulary import EQUITY_SESSION_SECONDS, Side, Strategy, Urgency


class ChildType(StrEnum):
    MARKET = "MARKET"  # immediate-or-cancel, walks the book up to the limit (if any)
    LIMIT = "LIMIT"  # rests at a price on a lit venue
    DARK = "DARK"  # rests at the mid in a dark pool


@dataclass(frozen=True, slots=True)
class OpenChild:
    """A child order still open at a venue."""

    client_order_id: str
    venue: str
    child_type: ChildType
    quantity: Decimal
    filled: Decimal
    limit_price: Decimal | None
    sent_at: float
    # A cancel was already asked for (the child is CANCEL_PENDING): algorithms do not ask
    # again, and its open quantity still counts against the parent until the venue confirms.
    cancel_pending: bool = False

    @property
    def open_quantity(self) -> Decimal:
        return self.quantity - self.filled


@dataclass(frozen=True, slots=True)
class ExecutionState:
    """What the execution knows of itself at this tick."""

    strategy: Strategy
    side: Side
    quantity: Decimal  # the parent's quantity being worked
    filled: Decimal  # filled so far (applied fills)
    lot_size: Decimal
    tick_size: Decimal
    limit_price: Decimal | None  # the parent's limit, never crossed
    urgency: Urgency
    start: float  # seconds, same clock as `now`
    end: float  # the deadline: at `end` the remainder is cancelled
    parameters: Mapping[str, object] = field(default_factory=dict)  # the router's or the trader's
    open_children: tuple[OpenChild, ...] = ()
    # Cumulative market volume observed since `start` (for POV), and the algorithm's own
    # memory between ticks (e.g. the next TWAP slice time), kept by the caller verbatim.
    market_volume_since_start: float = 0.0
    memory: Mapping[str, object] = field(default_factory=dict)

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled

    @property
    def open_quantity(self) -> Decimal:
        return sum((c.open_quantity for c in self.open_children), Decimal(0))

    @property
    def unallocated(self) -> Decimal:
        """What may still be sent: remaining minus what is already out at venues."""
        return max(self.remaining - self.open_quantity, Decimal(0))


@dataclass(frozen=True, slots=True)
class VenueTop:
    """One venue's touch and fees, as the router's allocation needs them."""

    venue: str
    kind: str  # core.vocabulary.VenueKind value
    bid: float | None
    ask: float | None
    bid_size: float
    ask_size: float
    taker_fee_bps: float
    maker_fee_bps: float
    min_quantity: float = 0.0
    fill_rate: float = 0.0  # dark pools: historical fill rate
    # Optional depth beyond the touch, (price, size) best first; the touch alone when empty.
    bid_levels: tuple[tuple[float, float], ...] = ()
    ask_levels: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True, slots=True)
class MarketView:
    """The market as the algorithm sees it at `now`."""

    mid: float
    best_bid: float | None
    best_ask: float | None
    venues: tuple[VenueTop, ...]
    adv: float
    daily_vol: float
    spread_bps: float
    volume_profile: tuple[float, ...] = ()  # fraction of the day's volume per equal bucket
    session_start: float = 0.0  # on the caller's clock
    session_seconds: float = EQUITY_SESSION_SECONDS


@dataclass(frozen=True, slots=True)
class NewChild:
    venue: str
    child_type: ChildType
    quantity: Decimal
    limit_price: Decimal | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CancelChild:
    client_order_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ReplaceChild:
    client_order_id: str
    quantity: Decimal
    limit_price: Decimal | None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Remember:
    """State the algorithm wants back on its next tick (merged into `memory`)."""

    values: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class Done:
    """Nothing more to do: filled, or the remainder cannot trade (below one lot, past end)."""

    reason: str


Action = NewChild | CancelChild | ReplaceChild | Remember | Done
Decide = Callable[[ExecutionState, MarketView, float], list[Action]]
