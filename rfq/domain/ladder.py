"""The consolidated ladder: the live quotes, best first for the client's side, with the
distance from the mid in bps (positive: worse than the mid for the client). For a package
the mid is its model mid and the bps are of its gross premium (`scale`), so a zero-cost
structure has finite distances; the distance is also given in currency per package unit."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

BPS: Final = Decimal(10000)
BPS_QUANTUM: Final = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class LadderQuote:
    id: int
    provider: str
    bid: Decimal | None
    ask: Decimal | None
    size: Decimal
    received_at: float  # epoch seconds
    valid_until: float


@dataclass(frozen=True, slots=True)
class LadderRow:
    quote: int
    provider: str
    price: Decimal
    size: Decimal
    time_left: float
    bps_from_mid: Decimal | None
    received_at: float
    distance: Decimal | None = None  # price - mid, positive when worse for the client


def client_price(quote: LadderQuote, client_side: str) -> Decimal | None:
    """The price the client would trade at: the provider's ask when buying, its bid when selling."""
    return quote.ask if client_side == "BUY" else quote.bid


def bps_from_mid(price: Decimal, mid: Decimal | None, client_side: str, scale: Decimal | None = None) -> Decimal | None:
    """Cost against the mid in bps (of `scale`, default the mid): positive when worse than
    the mid for the client."""
    base = scale or mid
    if mid is None or not base:
        return None
    diff = price - mid if client_side == "BUY" else mid - price
    return (diff / base * BPS).quantize(BPS_QUANTUM)


def distance_from_mid(price: Decimal, mid: Decimal | None, client_side: str) -> Decimal | None:
    if mid is None:
        return None
    return price - mid if client_side == "BUY" else mid - price


def better(a: Decimal, b: Decimal, client_side: str) -> bool:
    return a < b if client_side == "BUY" else a > b


def ladder(
    quotes: list[LadderQuote], *, client_side: str, mid: Decimal | None, now: float, scale: Decimal | None = None
) -> list[LadderRow]:
    """The executable quotes at `now`, best first: price, then the larger size, then the earlier."""
    rows = []
    for q in quotes:
        price = client_price(q, client_side)
        if price is None or now >= q.valid_until:
            continue
        rows.append(
            LadderRow(
                quote=q.id,
                provider=q.provider,
                price=price,
                size=q.size,
                time_left=round(q.valid_until - now, 1),
                bps_from_mid=bps_from_mid(price, mid, client_side, scale),
                received_at=q.received_at,
                distance=distance_from_mid(price, mid, client_side) if scale else None,
            )
        )
    sign = 1 if client_side == "BUY" else -1
    rows.sort(key=lambda r: (sign * r.price, -r.size, r.received_at, r.quote))
    return rows


def meets_threshold(
    price: Decimal,
    *,
    client_side: str,
    mid: Decimal | None,
    threshold_price: Decimal | None = None,
    threshold_bps: Decimal | None = None,
) -> bool:
    """At or better than the auto-execution threshold (a price, or bps from the mid); False without one."""
    if threshold_price is not None:
        return price <= threshold_price if client_side == "BUY" else price >= threshold_price
    if threshold_bps is not None:
        cost = bps_from_mid(price, mid, client_side)
        return cost is not None and cost <= threshold_bps
    return False
