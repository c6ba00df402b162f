"""Venue allocation for one child order: where to send how much, at what price.

Lit: the levels of all usable lit venues are merged into one book and taken cheapest
effective price first (price plus taker fee for a buy, minus for a sell), never through the
limit. Dark: optionally a share of the order rests at the mid in dark pools, split by their
historical fill rates. Every allocation is a whole number of lots and at least the venue's
minimum; a venue whose share would fall below its minimum is dropped and the walk redone
without it, so its quantity goes to the next best prices. The total never exceeds what was
asked; what no venue can take now stays unallocated for the algorithm's next tick.

Decimal throughout: these are the prices and quantities that go on the wire.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from heapq import heappop, heappush

from core.vocabulary import Side, VenueKind, parse_enum

_ZERO = Decimal(0)
_BPS = Decimal(10000)


@dataclass(frozen=True, slots=True)
class VenueQuote:
    name: str
    kind: VenueKind
    taker_fee_bps: float  # negative for a rebate
    min_quantity: Decimal
    enabled: bool
    fresh: bool  # market data recent enough to trade on
    levels: Sequence[tuple[Decimal, Decimal]]  # (price, size) on the side we take, best first
    mid: Decimal | None = None
    dark_fill_rate: float = 0.0  # historical share of resting dark quantity that fills

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", parse_enum(VenueKind, self.kind, "kind"))


@dataclass(frozen=True, slots=True)
class Allocation:
    venue: str
    kind: VenueKind
    quantity: Decimal
    price: Decimal  # the limit to send: worst level taken (lit) or the mid (dark)
    effective_price: Decimal  # expected average price including the taker fee


def allocate(
    side: Side | str,
    quantity: Decimal,
    limit_price: Decimal | None,
    lot_size: Decimal,
    venues: Sequence[VenueQuote],
    *,
    dark_fraction: float = 0.0,
) -> list[Allocation]:
    """Split `quantity` across venues; dark allocations first, then lit, best price first.

    `dark_fraction` (0..1) of the quantity is offered to the dark pools at the mid (if the
    mid is within the limit); whatever they cannot take (minimums, no pools) goes lit.
    """
    side = parse_enum(Side, side, "side")
    if lot_size <= 0:
        raise ValueError("lot_size must be > 0")
    if not 0.0 <= dark_fraction <= 1.0:
        raise ValueError("dark_fraction must be within [0, 1]")
    buying = side is Side.BUY
    wanted = _whole_lots(quantity, lot_size) if quantity > 0 else _ZERO
    if wanted == 0:
        return []

    usable = [v for v in venues if v.enabled and v.fresh]
    dark_allocations: list[Allocation] = []
    if dark_fraction > 0:
        dark_wanted = _whole_lots(wanted * Decimal(repr(dark_fraction)), lot_size)
        pools = [
            v
            for v in usable
            if v.kind is VenueKind.DARK
            and v.mid is not None
            and v.dark_fill_rate > 0
            and _within_limit(v.mid, limit_price, buying)
        ]
        if dark_wanted > 0 and pools:
            dark_allocations = _allocate_dark(pools, dark_wanted, lot_size, buying)
    dark_total = sum((a.quantity for a in dark_allocations), _ZERO)

    lit = [v for v in usable if v.kind is VenueKind.LIT]
    lit_allocations = _allocate_lit(lit, wanted - dark_total, limit_price, lot_size, buying)
    return dark_allocations + lit_allocations


def _whole_lots(quantity: Decimal, lot_size: Decimal) -> Decimal:
    return (quantity // lot_size) * lot_size


def _within_limit(price: Decimal, limit_price: Decimal | None, buying: bool) -> bool:
    if limit_price is None:
        return True
    return price <= limit_price if buying else price >= limit_price


@lru_cache(maxsize=1024)  # a handful of fee schedules, priced on every decision
def _fee_factor(fee_bps: float, buying: bool) -> Decimal:
    fee = Decimal(repr(fee_bps)) / _BPS
    return 1 + fee if buying else 1 - fee


def _allocate_dark(pools: list[VenueQuote], wanted: Decimal, lot_size: Decimal, buying: bool) -> list[Allocation]:
    """Split whole lots in proportion to fill rates (largest remainder), dropping pools
    whose share is below their minimum and re-splitting among the rest."""
    lots = int(wanted / lot_size)
    active = list(pools)
    while active:
        total_rate = sum(v.dark_fill_rate for v in active)
        exact = [lots * v.dark_fill_rate / total_rate for v in active]
        shares = [int(x) for x in exact]
        leftover = lots - sum(shares)
        # Hand leftover lots to the largest remainders; ties to the better fill rate.
        by_remainder = sorted(
            range(len(active)), key=lambda i: (exact[i] - shares[i], active[i].dark_fill_rate), reverse=True
        )
        for i in by_remainder[:leftover]:
            shares[i] += 1
        keep = [n > 0 and n * lot_size >= v.min_quantity for v, n in zip(active, shares, strict=True)]
        if all(keep):
            break
        active = [v for v, kept in zip(active, keep, strict=True) if kept]
    else:
        return []
    allocations = []
    for venue, n in zip(active, shares, strict=True):
        mid = venue.mid
        assert mid is not None  # filtered by the caller
        allocations.append(
            Allocation(
                venue=venue.name,
                kind=VenueKind.DARK,
                quantity=n * lot_size,
                price=mid,
                effective_price=mid * _fee_factor(venue.taker_fee_bps, buying),
            )
        )
    return allocations


def _allocate_lit(
    venues: list[VenueQuote], wanted: Decimal, limit_price: Decimal | None, lot_size: Decimal, buying: bool
) -> list[Allocation]:
    if wanted <= 0 or not venues:
        return []
    factors = [_fee_factor(venue.taker_fee_bps, buying) for venue in venues]
    excluded: set[int] = set()
    while True:
        quantities, worst_prices, notionals = _walk(venues, factors, wanted, limit_price, lot_size, buying, excluded)
        too_small = {i for i, quantity in enumerate(quantities) if 0 < quantity < venues[i].min_quantity}
        if not too_small:
            break
        # Dropping a venue only hands more of the book to the others, so each pass keeps
        # every venue that already met its minimum: at most len(venues) passes.
        excluded |= too_small

    allocations = [
        Allocation(
            venue=venues[i].name,
            kind=VenueKind.LIT,
            quantity=quantity,
            price=worst_prices[i],
            effective_price=notionals[i] / quantity,
        )
        for i, quantity in enumerate(quantities)
        if quantity > 0
    ]
    # Best effective price first, so a caller sending in order hits the cheapest first.
    allocations.sort(key=lambda a: a.effective_price, reverse=not buying)
    return allocations


def _walk(
    venues: list[VenueQuote],
    factors: list[Decimal],
    wanted: Decimal,
    limit_price: Decimal | None,
    lot_size: Decimal,
    buying: bool,
    excluded: set[int],
) -> tuple[list[Decimal], list[Decimal | None], list[Decimal]]:
    """Take levels of the consolidated book, best effective price first, until `wanted`.

    Each venue's levels are already best first, so the consolidated book is a k-way merge
    of the venues' lists: a heap holding each venue's next level prices only the levels we
    actually reach (the hot path of a decision). Ties go to the earlier venue, then level.
    Returns per venue: quantity, worst price taken (the limit to send) and the sum of
    quantity * effective price. Sizes that are not whole lots carry over to the venue's
    next level: a limit order at the deeper price fills the cheaper one first (the carried
    part is priced, conservatively, at the deeper level).
    """
    count = len(venues)
    quantities = [_ZERO] * count
    worst_prices: list[Decimal | None] = [None] * count
    notionals = [_ZERO] * count
    carries = [_ZERO] * count
    heap: list[tuple[Decimal, int, int, Decimal, Decimal, Decimal]] = []

    def push_next(venue_index: int, level_index: int, previous: Decimal | None) -> None:
        levels = venues[venue_index].levels
        while level_index < len(levels):
            price, size = levels[level_index]
            if previous is not None and (price < previous if buying else price > previous):
                raise ValueError(f"levels of venue {venues[venue_index].name!r} are not best first")
            if limit_price is not None and (price > limit_price if buying else price < limit_price):
                return  # best first: every deeper level crosses the limit too
            if size > 0:
                effective = price * factors[venue_index]
                # heapq is a min-heap: a seller wants the highest effective price first.
                key = effective if buying else -effective
                heappush(heap, (key, venue_index, level_index, effective, price, size))
                return
            previous = price
            level_index += 1

    for venue_index in range(count):
        if venue_index not in excluded:
            push_next(venue_index, 0, None)

    remaining = wanted
    while heap and remaining > 0:
        _, venue_index, level_index, effective, price, size = heappop(heap)
        available = carries[venue_index] + size
        take = remaining if available >= remaining else (available // lot_size) * lot_size
        carries[venue_index] = available - take
        if take > 0:
            quantities[venue_index] += take
            worst_prices[venue_index] = price
            notionals[venue_index] += take * effective
            remaining -= take
        push_next(venue_index, level_index + 1, price)
    return quantities, worst_prices, notionals
