"""Strict API inputs of the order edge: decimals only as plain strings or integers, blanks
refused instead of read as "absent", text only as text, pages only as valid numbers.
The schema says the same (the OpenAPI description is what the API does)."""

import copy
import re
from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import MAX_SIGNIFICANT_DIGITS, MIN_POSITIVE, Pagination, StrictDecimalField
from core.decimals import decimal_places

# A plain decimal with at most 8 places (the stored precision); the instrument's own
# precision (lot and tick decimals) is checked against the instrument, per field.
DECIMAL_PATTERN = r"^[0-9]{1,16}(\.[0-9]{1,8})?$"
_DECIMAL = re.compile(DECIMAL_PATTERN)


def _decimal_schema(maximum: int) -> dict:
    return {
        "oneOf": [
            {"type": "string", "pattern": DECIMAL_PATTERN, "example": "100"},
            {"type": "integer", "minimum": 1, "maximum": maximum},
        ],
        "description": (
            'A decimal as a string ("101.25") or an integer; never a float. At most '
            f"{MAX_SIGNIFICANT_DIGITS} significant digits, within the instrument's precision."
        ),
    }


class ExactDecimalField(StrictDecimalField):
    """A positive decimal given as a string or an integer. A JSON float (1.5) is refused: it
    may not be the number the client meant. A blank string or null is an error: leave the
    field out to mean "none"."""

    default_error_messages = {
        "float": 'Send the number as a string ("1.5") or an integer, not a floating-point number.',
        "blank": "This field may not be blank; leave it out instead.",
        "null": "This field may not be null; leave it out instead.",
    }

    def validate_empty_values(self, data):
        if isinstance(data, str) and not data.strip():
            self.fail("blank")
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        if isinstance(data, float):
            self.fail("float")
        if not isinstance(data, (str, int)) or isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, str) and not _DECIMAL.match(data):
            self.fail("plain")
        return super().to_internal_value(data)


@extend_schema_field(_decimal_schema(1_000_000_000_000))
class QuantityInput(ExactDecimalField):
    def __init__(self, **kwargs):
        super().__init__(
            max_digits=24, decimal_places=8, min_value=MIN_POSITIVE, max_value=Decimal("1000000000000"), **kwargs
        )


@extend_schema_field(_decimal_schema(1_000_000_000))
class PriceInput(ExactDecimalField):
    def __init__(self, **kwargs):
        super().__init__(
            max_digits=24, decimal_places=8, min_value=MIN_POSITIVE, max_value=Decimal("1000000000"), **kwargs
        )


class TextInput(serializers.CharField):
    """Text only: 42 is not the client order id "42"."""

    default_error_messages = {"not_text": "Give this as a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_text")
        return super().to_internal_value(data)


class FieldsBuiltOnce:
    """For a flat input serializer (no nested serializers): its fields are built once per
    class and each instance gets shallow copies of them to bind. DRF deep-copies, that is
    re-creates, every declared field for every instance, which cost a fifth of an order's
    CPU on POST /api/orders/. A copy shares only what no field changes while validating
    (its arguments, messages, querysets, which every lookup clones)."""

    def get_fields(self):
        built = type(self).__dict__.get("_fields_built_once")
        if built is None:
            built = super().get_fields()
            type(self)._fields_built_once = built
        return {name: copy.copy(field) for name, field in built.items()}


class InstrumentSymbolInput(serializers.SlugRelatedField):
    """An active instrument by its symbol, given as text the database can hold: a NUL byte
    (which PostgreSQL text cannot store) is "does not exist", not a server error."""

    def __init__(self, **kwargs):
        from marketdata.models import Instrument

        super().__init__(slug_field="symbol", queryset=Instrument.objects.filter(is_active=True), **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", "\\x00"))
        return super().to_internal_value(data)


def places(value: Decimal) -> int:
    exponent = Decimal(value).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def precision_errors(instrument, *, quantity: Decimal | None, limit_price: Decimal | None) -> dict:
    """Per-field messages for numbers finer than the instrument can trade: a BTC quantity of
    0.00005 with a lot of 0.0001 is refused, never rounded. (A coarser number that is not a
    multiple of the lot or tick is a compliance breach, stored as REJECTED.)"""
    errors = {}
    lot_places, tick_places = decimal_places(instrument.lot_size), decimal_places(instrument.tick_size)
    if quantity is not None and places(quantity) > lot_places:
        errors["quantity"] = [
            f"{instrument.symbol} trades in lots of {instrument.lot_size.normalize():f}: "
            f"use at most {lot_places} decimal places."
        ]
    if limit_price is not None and places(limit_price) > tick_places:
        errors["limit_price"] = [
            f"{instrument.symbol} is priced in ticks of {instrument.tick_size.normalize():f}: "
            f"use at most {tick_places} decimal places."
        ]
    return errors


# Strict pages are every list's default now (core.api.Pagination); the name stays for the
# views that say it.
StrictPagination = Pagination


_ERROR_TEXT = {
    400: "Malformed: a message per field (or per query parameter); nothing stored.",
    401: "Not authenticated: send `Authorization: Token <token>` or a session.",
    403: "The user's role may not do this.",
    404: "No such object, or not one this user may see.",
    409: "Conflicts with the current state (a finished order, a reused client order id).",
    429: "Too many requests: try again after the Retry-After seconds.",
}


def error_responses(*codes: int) -> dict:
    """The error answers an operation documents, beside its success (schema = what the API does)."""
    from drf_spectacular.utils import OpenApiResponse

    return {code: OpenApiResponse(description=_ERROR_TEXT[code]) for code in codes}
