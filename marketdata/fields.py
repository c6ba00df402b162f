"""The one precision setting for prices, quantities and money, and the one rounding helper."""
from decimal import ROUND_HALF_EVEN, Decimal

from django.db import models

PRICE_DIGITS, PRICE_PLACES = 24, 8
QUANTITY_DIGITS, QUANTITY_PLACES = 24, 8
MONEY_DIGITS, MONEY_PLACES = 28, 4
MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_PLACES)
PRICE_QUANTUM = Decimal(1).scaleb(-PRICE_PLACES)


def PriceField(**kwargs):  # noqa: N802 - reads like a field class
    return models.DecimalField(max_digits=PRICE_DIGITS, decimal_places=PRICE_PLACES, **kwargs)


def QuantityField(**kwargs):  # noqa: N802
    return models.DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES, **kwargs)


def MoneyField(**kwargs):  # noqa: N802
    return models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kwargs)


def to_step(value: Decimal, step: Decimal, rounding=ROUND_HALF_EVEN) -> Decimal:
    """Round `value` to a multiple of `step` (a tick or a lot)."""
    value, step = Decimal(value), Decimal(step)
    return (value / step).to_integral_value(rounding=rounding) * step


def money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(MONEY_QUANTUM, rounding=ROUND_HALF_EVEN)


def price(value: Decimal) -> Decimal:
    return Decimal(value).quantize(PRICE_QUANTUM, rounding=ROUND_HALF_EVEN)


__all__ = ["PriceField", "QuantityField", "MoneyField", "to_step", "money", "price"]
