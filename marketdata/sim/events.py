"""What the simulator and the feeds publish: books, trades, fills and snapshots.

Prices and sizes are floats rounded to the instrument's tick and lot decimals, so they
compare exactly and print cleanly; the Django edge converts them to `Decimal`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Trade:
    price: float
    size: float
    venue: str
    ts: float
    side: str | None  # aggressor side, "BUY" or "SELL"; None when the source does not say


@dataclass(frozen=True, slots=True)
class Fill:
    order_id: str | None
    symbol: str
    venue: str
    side: str
    price: float
    quantity: float
    fee: float  # in price currency, positive = paid, negative = rebate
    liquidity: str  # "TAKER" | "MAKER" | "DARK"
    ts: float


@dataclass(frozen=True, slots=True)
class VenueBook:
    venue: str
    bids: list[tuple[float, float]]  # (price, size), best first
    asks: list[tuple[float, float]]

    @property
    def best_bid(self) -> float | None:
        return self.bids[0][0] if self.bids else None

    @property
    def best_ask(self) -> float | None:
        return self.asks[0][0] if self.asks else None


@dataclass(frozen=True, slots=True)
class Snapshot:
    symbol: str
    ts: float  # seconds since the first session open
    seq: int  # grows by at least one whenever the symbol's books or trades change
    mid: float
    venues: dict[str, VenueBook]
    last_trade: Trade | None
    volume: float  # traded so far in the current session

    @property
    def best_bid(self) -> float | None:
        bids = [book.bids[0][0] for book in self.venues.values() if book.bids]
        return max(bids) if bids else None

    @property
    def best_ask(self) -> float | None:
        asks = [book.asks[0][0] for book in self.venues.values() if book.asks]
        return min(asks) if asks else None
