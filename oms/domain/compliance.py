"""Pre-trade compliance rules. Each rule is a small function of the order draft and the
rule's configured limit; `evaluate` runs every applicable rule and returns every breach
(a PM fixes all of them at once rather than one per attempt)."""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from core.errors import DomainError
from core.vocabulary import Side

RESTRICTED = "RESTRICTED_INSTRUMENT"
MAX_ORDER_NOTIONAL = "MAX_ORDER_NOTIONAL"
MAX_POSITION = "MAX_POSITION"
PRICE_COLLAR = "PRICE_COLLAR"
SHORT_SELL = "SHORT_SELL"
LOT_SIZE = "LOT_SIZE"
TICK_SIZE = "TICK_SIZE"
# Fat-finger checks on the order's size against the instrument's average daily volume, in
# percent: above the soft limit the PM must confirm; above the hard limit the order is rejected.
FAT_FINGER_SOFT = "FAT_FINGER_SOFT"
FAT_FINGER_HARD = "FAT_FINGER_HARD"
# Package-wide limits (oms.domain.packages): |net premium| in currency, |net delta| in units
# of the underlying, |net vega| in currency per vol point. They do not apply to one order.
PACKAGE_MAX_NET_PREMIUM = "PACKAGE_MAX_NET_PREMIUM"
PACKAGE_MAX_NET_DELTA = "PACKAGE_MAX_NET_DELTA"
PACKAGE_MAX_NET_VEGA = "PACKAGE_MAX_NET_VEGA"
RULE_KINDS = (
    RESTRICTED,
    MAX_ORDER_NOTIONAL,
    MAX_POSITION,
    PRICE_COLLAR,
    SHORT_SELL,
    LOT_SIZE,
    TICK_SIZE,
    FAT_FINGER_SOFT,
    FAT_FINGER_HARD,
)
PACKAGE_RULE_KINDS = (PACKAGE_MAX_NET_PREMIUM, PACKAGE_MAX_NET_DELTA, PACKAGE_MAX_NET_VEGA)
# What a ComplianceRule row may be: the order rules above and the package-wide ones.
ALL_RULE_KINDS = RULE_KINDS + PACKAGE_RULE_KINDS
SOFT_KINDS = frozenset({FAT_FINGER_SOFT})


class ConfirmationRequired(DomainError):
    """Only soft limits were passed: the order goes in once its user confirms it."""

    code = "confirmation_required"


def _pct(value: Decimal) -> str:
    """A percentage for a sentence: 12.5%, 0.35%, 250%."""
    return f"{value.quantize(Decimal('0.01')).normalize():,f}%"


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
    adv: Decimal | None = None  # average daily volume, for the fat-finger checks

    @property
    def price(self) -> Decimal:
        return self.limit_price if self.limit_price is not None else self.reference_price

    @property
    def notional(self) -> Decimal:
        return self.quantity * self.price * self.multiplier

    @property
    def percent_of_adv(self) -> Decimal | None:
        return self.quantity / self.adv * 100 if self.adv else None

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

    @property
    def soft(self) -> bool:
        """A soft breach asks for confirmation; every other breach rejects the order."""
        return self.rule in SOFT_KINDS

    def as_dict(self) -> dict:
        return {
            "rule": self.rule,
            "message": self.message,
            "limit": self.limit,
            "actual": self.actual,
            "soft": self.soft,
        }


def _restricted(d: OrderDraft, limit: Decimal | None) -> Breach | None:
    return Breach(RESTRICTED, f"{d.symbol} is on the restricted list", "not tradable", d.symbol)


def _max_notional(d: OrderDraft, limit: Decimal | None) -> Breach | None:
    if limit is not None and d.notional > limit:
        return Breach(
            MAX_ORDER_NOTIONAL,
            f"order notional {d.notional:,.2f} exceeds the maximum {limit:,.2f}",
            _plain(limit),
            _plain(d.notional),
        )
    return None


def _max_position(d: OrderDraft, limit: Decimal | None) -> Breach | None:
    after = d.position_quantity + d.signed_quantity
    if limit is not None and abs(after) > limit:
        return Breach(
            MAX_POSITION,
            f"position after the order {_n(after)} would exceed the maximum {_n(limit)}",
            _plain(limit),
            _plain(after),
        )
    return None


def _price_collar(d: OrderDraft, limit: Decimal | None) -> Breach | None:
    if limit is None or d.limit_price is None or d.reference_price <= 0:
        return None
    distance = abs(d.limit_price - d.reference_price) / d.reference_price * 100
    if distance > limit:
        return Breach(
            PRICE_COLLAR,
            f"limit {_n(d.limit_price)} is {_pct(distance)} from the reference {_n(d.reference_price)} "
            f"(collar {_pct(limit)})",
            _plain(limit),
            _plain(distance.quantize(Decimal("0.01"))),
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
            _plain(available),
            _plain(d.quantity),
        )
    return None


def _fat_finger(kind: str, verdict: str):
    def check(d: OrderDraft, limit: Decimal | None) -> Breach | None:
        share = d.percent_of_adv
        if limit is None or share is None or share <= limit:
            return None
        return Breach(
            kind,
            f"{_n(d.quantity)} {d.symbol} is {_pct(share)} of its average daily volume "
            f"(notional {d.notional:,.2f}), above the {_pct(limit)} {verdict}",
            _plain(limit),
            _plain(share.quantize(Decimal("0.01"))),
        )

    return check


def _plain(value: Decimal) -> str:
    """A number for a table cell: no exponent, no trailing zeros (217872000000, not
    217872000000.0000000000000000)."""
    return f"{Decimal(value).normalize():f}"


def _lot_size(d: OrderDraft, limit: Decimal | None) -> Breach | None:
    if d.quantity % d.lot_size != 0:
        return Breach(
            LOT_SIZE,
            f"quantity {_n(d.quantity)} is not a multiple of the lot size {_n(d.lot_size)}",
            _plain(d.lot_size),
            _plain(d.quantity),
        )
    return None


def _tick_size(d: OrderDraft, limit: Decimal | None) -> Breach | None:
    if d.limit_price is not None and d.limit_price % d.tick_size != 0:
        return Breach(
            TICK_SIZE,
            f"limit price {_n(d.limit_price)} is not a multiple of the tick size {_n(d.tick_size)}",
            _plain(d.tick_size),
            _plain(d.limit_price),
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
    FAT_FINGER_SOFT: _fat_finger(FAT_FINGER_SOFT, "soft limit: confirm to enter it"),
    FAT_FINGER_HARD: _fat_finger(FAT_FINGER_HARD, "hard limit"),
    # Checked on the whole package by oms.domain.packages.package_breaches.
    PACKAGE_MAX_NET_PREMIUM: lambda d, limit: None,
    PACKAGE_MAX_NET_DELTA: lambda d, limit: None,
    PACKAGE_MAX_NET_VEGA: lambda d, limit: None,
}


def evaluate(draft: OrderDraft, rules: list[RuleConfig]) -> list[Breach]:
    """Every breach of the rules that apply to this draft (the caller selects them by scope)."""
    breaches = []
    for rule in rules:
        breach = CHECKS[rule.kind](draft, rule.limit)
        if breach is not None:
            breaches.append(breach)
    return breaches
