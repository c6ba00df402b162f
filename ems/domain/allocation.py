"""Block allocation: how one fill of a block is shared among its members. Pure (standard
library only): plain data in, allocations out, so the same inputs always give the same
allocations and the rule is testable without a database.

The rule (PRO_RATA, recorded with every allocation as `RULE`):

1. A member is eligible when it still has quantity to receive (at least one lot) and the
   fill's price is not beyond its limit (a buy's price at or under its limit, a sell's at or
   over; a market order takes any price). The block works at its members' most conservative
   limit, so in practice every active member is eligible; the check is the guarantee.
2. Quantities are counted in whole lots. What can be allocated is the fill, capped at what
   the eligible members still want; the rest (only ever a fill that arrives after members
   left, for more than is left) is reported as unallocated, never given to anyone.
3. Each eligible member's ideal share is `allocatable * remaining / total remaining`, as an
   exact fraction; it receives the whole lots of that share (the floor) first.
4. The lots left over (fewer than the eligible members) go one each to the members with the
   largest fractional remainders; ties go to the earlier order entry time, then to the
   smaller member key. A member's ideal share never exceeds its remaining, so the one extra
   lot never takes it over its quantity.

So the allocations plus the unallocated sum exactly to the fill, no member receives more
than it still wants, and each member is within one lot of its exact pro-rata share.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

RULE = "PRO_RATA_LARGEST_REMAINDER"
RULE_TEXT = (
    "pro rata to remaining quantity in whole lots; leftover lots by largest remainder, "
    "ties by earlier order entry time, then member id"
)


@dataclass(frozen=True)
class Member:
    key: int  # the member's id: stable, unique within the block
    remaining: Decimal  # what it may still receive
    entered_at: float  # the order's entry time (seconds since the epoch): the tie-break
    limit_price: Decimal | None = None  # None: a market order


@dataclass(frozen=True)
class Share:
    key: int
    quantity: Decimal
    ideal: Fraction  # the exact pro-rata share, in lots (the record of why)


@dataclass(frozen=True)
class Allocation:
    shares: tuple[Share, ...]  # in member key order, members receiving nothing left out
    unallocated: Decimal
    rule: str = RULE

    @property
    def allocated(self) -> Decimal:
        return sum((s.quantity for s in self.shares), Decimal(0))

    def by_key(self) -> dict[int, Decimal]:
        return {s.key: s.quantity for s in self.shares}


def within_limit(side: str, limit: Decimal | None, price: Decimal) -> bool:
    if limit is None:
        return True
    return price <= limit if side == "BUY" else price >= limit


def lots(quantity: Decimal, lot: Decimal) -> int:
    """Whole lots in `quantity` (rounded down: a remainder under one lot cannot be allocated)."""
    return int(quantity // lot) if quantity > 0 else 0


def pro_rata(*, quantity: Decimal, price: Decimal, side: str, lot: Decimal, members: list[Member]) -> Allocation:
    """Share one fill of `quantity` at `price` among `members` (see the module's rule)."""
    if lot <= 0:
        raise ValueError("the lot size must be positive")
    eligible = [
        (m, lots(m.remaining, lot)) for m in members if within_limit(side, m.limit_price, price) and m.remaining >= lot
    ]
    fill_lots = lots(quantity, lot)
    total = sum(r for _, r in eligible)
    allocatable = min(fill_lots, total)
    if allocatable == 0:
        return Allocation(shares=(), unallocated=quantity)
    ideals = {m.key: Fraction(allocatable * r, total) for m, r in eligible}
    given = {key: ideal.numerator // ideal.denominator for key, ideal in ideals.items()}
    left = allocatable - sum(given.values())
    # Largest remainder first; ties by the earlier entry time, then the smaller key.
    order = sorted(eligible, key=lambda mr: (-(ideals[mr[0].key] - given[mr[0].key]), mr[0].entered_at, mr[0].key))
    for member, _ in order[:left]:
        given[member.key] += 1
    shares = tuple(
        Share(key=m.key, quantity=lot * given[m.key], ideal=ideals[m.key])
        for m, _ in sorted(eligible, key=lambda mr: mr[0].key)
        if given[m.key] > 0
    )
    allocated = sum((s.quantity for s in shares), Decimal(0))
    return Allocation(shares=shares, unallocated=quantity - allocated)


def most_conservative_limit(side: str, limits: list[Decimal | None]) -> Decimal | None:
    """The limit a block works at: the lowest of its buyers' limits, the highest of its
    sellers'; None (market) only when every member is a market order."""
    priced = [limit for limit in limits if limit is not None]
    if not priced:
        return None
    return min(priced) if side == "BUY" else max(priced)


def limit_refusal(side: str, limit: Decimal | None, others: list[Decimal | None], collar_bps: Decimal) -> str:
    """Why an order with `limit` cannot join members with limits `others` ("" when it can):
    the block works at the most conservative limit, so members' limits must lie within
    `collar_bps` of one another (a market order fits any block: it takes any price)."""
    if limit is None:
        return ""
    priced = [other for other in others if other is not None]
    if not priced:
        return ""
    low, high = min([*priced, limit]), max([*priced, limit])
    spread_bps = (high - low) / low * Decimal(10_000)
    if spread_bps > collar_bps:
        return (
            f"limit {limit} is {spread_bps.quantize(Decimal('0.1'))} bps from the block's other limits "
            f"({low}..{high} together), more than the {collar_bps} bps the block allows"
        )
    return ""


def average_price(fills: list[tuple[Decimal, Decimal]]) -> Decimal | None:
    """Volume-weighted average price of (quantity, price) pairs, unrounded."""
    quantity = sum((q for q, _ in fills), Decimal(0))
    if quantity == 0:
        return None
    return sum((q * p for q, p in fills), Decimal(0)) / quantity
