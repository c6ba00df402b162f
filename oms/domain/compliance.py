"""Pre-trade compliance rules. Each rule is a small function of the order draft and the
rule's configured limit; `evaluate` runs every applicable rule and returns every breach
(a PM fixes all of them at once rather than one per attempt)."""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from core.vocabulary import Side

RESTRICTED = "RESTRICTED_INSTRUMENT"
MAX_ORDER_NOTIONAL = "MAX_ORDER_NOTIONAL"
MAX_POSITION = "MAX_POSITION"
PRICE_COLLAR = "PRICE_COLLAR"
SHORT_SELL = "SHORT_SELL"
LOT_SIZE = "LOT_SIZE"
TICK_SIZE = "TICK_SIZE"
RULE_KINDS = (RESTRICTED, MAX_ORDER_NOTIONAL, MAX_POSITION, PRICE_COLLAR, SHORT_SELL, LOT_SIZE, TICK_SIZE)


def _n(value: Decimal) -> str:
    """A quantity or amount for a sentence: thousands separators, no trailing zeros."""
    return f"{value.normalize():,f}"


@dataclass(frozen=True, slots=True)
class OrderDraft:
    symbol: str
    side: Side
    quantity: Decimal
    limit_price: Decimal | None
    reference_price: Decimal
    tick_size: Decimal
    lot_size: Decimal
    multiplier: Decimal
    position_quantity: Decimal  # current position in the portfolio, signed
    open_sell_quantity: Decimal = Decimal(0)  # sells already working, which the position must cover too
    borrow_allowed: bool = False

    @property
    def price(self) -> Decimal:
        return self.limit_price if self.limit_price is not None else self.reference_price

    @property
    def notional(self) -> Decimal:
        return self.quantity * self.price * self.multiplier

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity if self.side == Side.BUY else -self.quantity


@dataclass(frozen=True, slots=True)
class RuleConfig:
    kind: str
    limit: Decimal | None = None
    name: str = ""


@dataclass(frozen=True, slots=True)
class Breach:
    rule: str
    message: str
    limit: str
    actual: str

    def as_dict(self) -> dict:
        return {"rule": self.rule, "message": self.message, "limit": self.limit, "actual": self.actual}


def _restricted(d: OrderDraft, limit: Decimal | None) -> Breach | None:
    return Breach(RESTRICTED, f"{d.symbol} is on the restricted list", "not tradable", d.symbol)


def _max_notional(d: OrderDraft, limit: Decimal | None) -> Breach | None:
    if limit is not None and d.notional > limit:
        return Breach(
            MAX_ORDER_NOTIONAL,
            f"order notional {d.notional:,.2f} exceeds the maximum {limit:,.2f}",
            str(limit),
            str(d.notional),
        )
    return None


def _max_position(d: OrderDraft, limit: Decimal | None) -> Breach | None:
    after = d.position_quantity + d.signed_quantity
    if limit is not None and abs(after) > limit:
        return Breach(
            MAX_POSITION,
            f"position after the order {_n(after)} would exceed the maximum {_n(limit)}",
            str(limit),
            str(after),
        )
    return None


def _price_collar(d: OrderDraft, limit: Decimal | None) -> Breach | None:
    if limit is None or d.limit_price is None or d.reference_price <= 0:
        return None
    distance = abs(d.limit_price - d.reference_price) / d.reference_price * 100
    if distance > limit:
        return Breach(
            PRICE_COLLAR,
            f"limit {d.limit_price} is {distance:.2f}% from the reference {d.reference_price} (collar {limit}%)",
            str(limit),
            str(distance.quantize(Decimal("0.01"))),
        )
    return None


def _short_sell(d: OrderDraft, limit: Decimal | None) -> Breach | None:
    if d.side != Side.SELL or d.borrow_allowed:
        return None
    available = max(d.position_quantity - d.open_sell_quantity, Decimal(0))
    if d.quantity > available:
        return Breach(
            SHORT_SELL,
            f"selling {_n(d.quantity)} with {_n(available)} available and no borrow: short sale",
            str(available),
            str(d.quantity),
        )
    return None


def _lot_size(d: OrderDraft, limit: Decimal | None) -> Breach | None:
    if d.quantity % d.lot_size != 0:
        return Breach(
            LOT_SIZE,
            f"quantity {_n(d.quantity)} is not a multiple of the lot size {_n(d.lot_size)}",
            str(d.lot_size),
            str(d.quantity),
        )
    return None


def _tick_size(d: OrderDraft, limit: Decimal | None) -> Breach | None:
    if d.limit_price is not None and d.limit_price % d.tick_size != 0:
        return Breach(
            TICK_SIZE,
            f"limit price {_n(d.limit_price)} is not a multiple of the tick size {_n(d.tick_size)}",
            str(d.tick_size),
            str(d.limit_price),
        )
    return None


CHECKS: dict[str, Callable[[OrderDraft, Decimal | None], Breach | None]] = {
    RESTRICTED: _restricted,
    MAX_ORDER_NOTIONAL: _max_notional,
    MAX_POSITION: _max_position,
    PRICE_COLLAR: _price_collar,
    SHORT_SELL: _short_sell,
    LOT_SIZE: _lot_size,
    TICK_SIZE: _tick_size,
}


def evaluate(draft: OrderDraft, rules: list[RuleConfig]) -> list[Breach]:
    """Every breach of the rules that apply to this draft (the caller selects them by scope)."""
    breaches = []
    for rule in rules:
        breach = CHECKS[rule.kind](draft, rule.limit)
        if breach is not None:
            breaches.append(breach)
    return breaches
