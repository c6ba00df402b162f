"""Legs of an RFQ: a single-instrument RFQ is one leg of ratio 1; a package has several
(the packages issue adds implied leg prices). A quote is a net price per package unit."""

from dataclasses import dataclass
from decimal import Decimal

from core.errors import DomainError


@dataclass(frozen=True, slots=True)
class Leg:
    index: int
    side: str
    ratio: Decimal


@dataclass(frozen=True, slots=True)
class LegFill:
    index: int
    quantity: Decimal
    price: Decimal


def leg_fills(legs: list[Leg], *, quantity: Decimal, net_price: Decimal) -> list[LegFill]:
    """What each leg fills when `quantity` package units trade at `net_price`."""
    if len(legs) != 1:
        raise DomainError("package RFQs (several legs) are not executable yet")
    (leg,) = legs
    return [LegFill(leg.index, quantity * leg.ratio, net_price / leg.ratio)]
