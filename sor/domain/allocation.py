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

from sor.domain.types import Side, VenueKind, parse_enum

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
            v for v in usable
            if v.kind is VenueKind.DARK and v.mid is not None and v.dark_fill_rate > 0
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
        by_remainder = sorted(range(len(active)), key=lambda i: (exact[i] - shares[i], active[i].dark_fill_rate), reverse=True)
        for i in by_remainder[:leftover]:
            shares[i] += 1
        keep = [n > 0 and n * lot_size >= v.min_quantity for v, n in zip(active, shares)]
        if all(keep):
            break
        active = [v for v, kept in zip(active, keep) if kept]
    else:
        return []
    allocations = []
    for venue, n in zip(active, shares):
        mid = venue.mid
        assert mid is not None  # filtered by the caller
        allocations.append(
            Allocation(
                venue=venue.name, kind=VenueKind.DARK, quantity=n * lot_size, price=mid,
                effective_price=mid * _fee_factor(venue.taker_fee_bps, buying),
            )
        )
    return allocations


def _allocate_lit(
    venues: list[VenueQuote], wanted: Decimal, limit_price: Decimal | None, lot_size: Decimal, buying: bool
) -> list[Allocation]:
    if wanted <= 0 or not venues:
        return []
    # One consolidated book: (effective price, venue index, level index, price, size).
    book = []
    for venue_index, venue in enumerate(venues):
        factor = _fee_factor(venue.taker_fee_bps, buying)
        for level_index, (price, size) in enumerate(venue.levels):
            if size > 0 and _within_limit(price, limit_price, buying):
                book.append((price * factor, venue_index, level_index, price, size))
    if buying:
        book.sort()
    else:  # a seller wants the highest effective price first; ties as for a buyer
        book.sort(key=lambda level: (-level[0], level[1], level[2]))

    excluded: set[int] = set()
    while True:
        taken = _walk(book, wanted, lot_size, excluded)
        too_small = {i for i, (quantity, _, _) in taken.items() if quantity < venues[i].min_quantity}
        if not too_small:
            break
        # Dropping a venue only hands more of the book to the others, so each pass keeps
        # every venue that already met its minimum: at most len(venues) passes.
        excluded |= too_small

    allocations = [
        Allocation(
            venue=venues[i].name, kind=VenueKind.LIT, quantity=quantity, price=worst_price,
            effective_price=effective_notional / quantity,
        )
        for i, (quantity, worst_price, effective_notional) in taken.items()
    ]
    # Best effective price first, so a caller sending in order hits the cheapest first.
    allocations.sort(key=lambda a: a.effective_price, reverse=not buying)
    return allocations


def _walk(
    book: list[tuple[Decimal, int, int, Decimal, Decimal]], wanted: Decimal, lot_size: Decimal, excluded: set[int]
) -> dict[int, tuple[Decimal, Decimal, Decimal]]:
    """Take levels in book order until `wanted` is reached; per venue (quantity, worst
    price, sum of quantity * effective price). Sizes that are not whole lots carry over to
    the venue's next level: a limit order at the deeper price fills the cheaper one first
    (the carried part is priced, conservatively, at the deeper level)."""
    remaining = wanted
    taken: dict[int, tuple[Decimal, Decimal, Decimal]] = {}
    carry: dict[int, Decimal] = {}
    for effective, venue_index, _, price, size in book:
        if venue_index in excluded:
            continue
        available = carry.get(venue_index, _ZERO) + size
        take = min(_whole_lots(available, lot_size), remaining)
        carry[venue_index] = available - take
        if take == 0:
            continue
        quantity, _, notional = taken.get(venue_index, (_ZERO, price, _ZERO))
        taken[venue_index] = (quantity + take, price, notional + take * effective)
        remaining -= take
        if remaining == 0:
            break
    return taken
