"""Legs of an RFQ: a single-instrument RFQ is one leg of ratio 1; a package has several. A
quote is a net price per package unit: the ratio-weighted sum of the leg prices, a leg on the
package's side counting plus and a leg on the other side minus (buying a risk reversal pays
the call and receives the put). A delta hedge leg is outside the net price: it trades at the
quote's reference price of the underlying.

Pure: Decimal in, Decimal out."""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from core.errors import DomainError


@dataclass(frozen=True, slots=True)
class Leg:
    index: int
    side: str
    ratio: Decimal
    model_price: Decimal | None = None  # the leg's model value per unit, for a package


@dataclass(frozen=True, slots=True)
class LegFill:
    index: int
    quantity: Decimal
    price: Decimal


def sign(leg: Leg, package_side: str) -> int:
    """+1 for a leg on the package's side, -1 for a leg on the other."""
    return 1 if leg.side == package_side else -1


def net_of(legs: list[Leg], prices: dict[int, Decimal], package_side: str) -> Decimal:
    """The net price per package unit of these leg prices."""
    return sum((sign(leg, package_side) * leg.ratio * prices[leg.index] for leg in legs), Decimal(0))


def model_mid(legs: list[Leg], package_side: str) -> Decimal:
    """The package's model mid per unit: the net of the legs' model values."""
    return net_of(legs, {leg.index: leg.model_price for leg in legs}, package_side)


def gross_premium(legs: list[Leg]) -> Decimal:
    """The sum of ratio times leg value: what a package's distances are measured in bps of
    (a zero-cost structure still has one)."""
    return sum((leg.ratio * abs(leg.model_price) for leg in legs), Decimal(0))


def _on_tick(value: Decimal, tick: Decimal) -> Decimal:
    return (value / tick).to_integral_value(rounding=ROUND_HALF_EVEN) * tick


def implied_leg_prices(legs: list[Leg], *, net_price: Decimal, package_side: str, tick: Decimal) -> dict[int, Decimal]:
    """Leg prices on the tick whose net equals `net_price` exactly: each leg's model value
    moved by its share of the gap between the net price and the model mid (in proportion to
    its premium, so the dearer legs carry more of the spread), rounded to the tick, and the
    rounding's remainder put on one leg (a ratio-1 leg when there is one; ratios with no
    common factor always admit one). Every price stays at least one tick.

    Raises DomainError when `net_price` is off the tick or no such prices exist."""
    if len(legs) == 1:
        (leg,) = legs
        price = net_price / leg.ratio
        if price <= 0:
            raise DomainError("a one-leg package trades at a positive price")
        return {leg.index: price}
    if _on_tick(net_price, tick) != net_price:
        raise DomainError(f"net price {net_price} is not on the tick {tick}")
    gap = net_price - model_mid(legs, package_side)
    gross = gross_premium(legs)
    prices = {}
    for leg in legs:
        share = (leg.model_price / gross) if gross else Decimal(1) / (len(legs) * leg.ratio)
        raw = leg.model_price + sign(leg, package_side) * gap * share
        prices[leg.index] = max(_on_tick(raw, tick), tick)
    rest = (net_price - net_of(legs, prices, package_side)) / tick  # a whole number of ticks
    if rest:
        _absorb(legs, prices, int(rest), package_side, tick)
    if net_of(legs, prices, package_side) != net_price:
        raise DomainError(f"no leg prices on the tick {tick} net to {net_price}")
    return prices


def _absorb(legs: list[Leg], prices: dict[int, Decimal], ticks: int, package_side: str, tick: Decimal) -> None:
    """Move leg prices by whole ticks so their net moves by `ticks`: on one leg whose ratio
    divides it (the dearest first), else on a pair (a*k + b*m = ticks, smallest k)."""
    ordered = sorted(legs, key=lambda leg: (-prices[leg.index], leg.index))

    def fits(leg: Leg, n: int) -> bool:
        return prices[leg.index] + sign(leg, package_side) * n * tick > 0

    for leg in ordered:
        ratio = int(leg.ratio)
        if ticks % ratio == 0 and fits(leg, ticks // ratio):
            prices[leg.index] += sign(leg, package_side) * (ticks // ratio) * tick
            return
    for a in ordered:
        for b in ordered:
            if a is b:
                continue
            for k in sorted(range(-60, 61), key=abs):
                left = ticks - int(a.ratio) * k
                if left % int(b.ratio) == 0 and fits(a, k) and fits(b, left // int(b.ratio)):
                    prices[a.index] += sign(a, package_side) * k * tick
                    prices[b.index] += sign(b, package_side) * (left // int(b.ratio)) * tick
                    return
    raise DomainError(f"no leg prices on the tick {tick} absorb {ticks} ticks")


def leg_fills(
    legs: list[Leg],
    *,
    quantity: Decimal,
    net_price: Decimal,
    package_side: str | None = None,
    tick: Decimal | None = None,
) -> list[LegFill]:
    """What each leg fills when `quantity` package units trade at `net_price`: every leg its
    ratio times the quantity, at the implied leg prices."""
    if len(legs) == 1:
        (leg,) = legs
        return [LegFill(leg.index, quantity * leg.ratio, net_price / leg.ratio)]
    if package_side is None or tick is None:
        raise DomainError("a package's fills need its side and tick")
    prices = implied_leg_prices(legs, net_price=net_price, package_side=package_side, tick=tick)
    return [LegFill(leg.index, quantity * leg.ratio, prices[leg.index]) for leg in legs]


@dataclass(frozen=True, slots=True)
class Part:
    quote: int
    quantity: Decimal


def parts_best_first(
    rows: list[tuple[int, Decimal]],
    *,
    quantity: Decimal,
    min_trade: Decimal | None,
    accept: Callable[[int, Decimal], bool],
) -> list[Part]:
    """Any-part-of: fill `quantity` package units from the quotes `rows` ((quote, size), best
    first): each takes what it shows up to what is left, never below the minimum trade
    amount; `accept(quote, quantity)` is its last look, and a rejected part leaves its
    quantity to the next quote. The parts never add up to more than `quantity`."""
    left, parts = quantity, []
    floor = min_trade or Decimal(0)
    for quote, size in rows:
        take = min(size, left)
        if take <= 0:
            break
        if take < floor:
            continue
        if accept(quote, take):
            parts.append(Part(quote, take))
            left -= take
    return parts
