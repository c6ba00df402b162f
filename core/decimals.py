"""Exact numbers: the one precision setting for prices, quantities and money, and the one
rounding helper. Pure (standard library only)."""

from decimal import ROUND_HALF_EVEN, Decimal

PRICE_DIGITS, PRICE_PLACES = 24, 8
QUANTITY_DIGITS, QUANTITY_PLACES = 24, 8
MONEY_DIGITS, MONEY_PLACES = 28, 4
MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_PLACES)
PRICE_QUANTUM = Decimal(1).scaleb(-PRICE_PLACES)


def to_step(value: Decimal, step: Decimal, rounding=ROUND_HALF_EVEN) -> Decimal:
    """Round `value` to a multiple of `step` (a tick or a lot)."""
    value, step = Decimal(value), Decimal(step)
    return (value / step).to_integral_value(rounding=rounding) * step


def money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(MONEY_QUANTUM, rounding=ROUND_HALF_EVEN)


def price(value: Decimal) -> Decimal:
    return Decimal(value).quantize(PRICE_QUANTUM, rounding=ROUND_HALF_EVEN)


def decimal_places(step: Decimal) -> int:
    """How many decimals a tick or lot step shows: 0.01 -> 2, 5 -> 0, 0.0001 -> 4."""
    exponent = Decimal(step).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


# Minor units per ISO 4217 where they are not two: money shows with its currency's precision.
CURRENCY_PLACES = {"JPY": 0, "KRW": 0, "CHF": 2, "BHD": 3, "KWD": 3, "BTC": 8, "ETH": 8}


def currency_places(currency: str) -> int:
    return CURRENCY_PLACES.get((currency or "").upper(), 2)


def shown(value: Decimal | None, places: int) -> str:
    """A number for people: grouped thousands, exactly `places` decimals (rounded half even)."""
    if value is None:
        return "–"
    quantum = Decimal(1).scaleb(-places)
    return f"{Decimal(value).quantize(quantum, rounding=ROUND_HALF_EVEN):,.{places}f}"
