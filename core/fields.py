"""Model fields for prices, quantities and money, with the one precision setting of
core.decimals."""

from django.db import models

from core.decimals import (
    MONEY_DIGITS,
    MONEY_PLACES,
    PRICE_DIGITS,
    PRICE_PLACES,
    QUANTITY_DIGITS,
    QUANTITY_PLACES,
)


def PriceField(**kwargs):  # noqa: N802 - reads like a field class
    return models.DecimalField(max_digits=PRICE_DIGITS, decimal_places=PRICE_PLACES, **kwargs)


def QuantityField(**kwargs):  # noqa: N802
    return models.DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES, **kwargs)


def MoneyField(**kwargs):  # noqa: N802
    return models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kwargs)
