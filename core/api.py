"""API edge pieces shared by every app: strict decimal input, bounded pagination, a JSON
parser that turns hostile bodies into 400s."""

import re
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

PLAIN_DECIMAL = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
# SQLite (the embedded database) stores decimals as doubles: beyond 15 significant digits
# a value would not read back as written, so no input may carry more.
MAX_SIGNIFICANT_DIGITS = 15


class StrictDecimalField(serializers.DecimalField):
    """A DecimalField that takes only plain ASCII decimals ("1_000", "١٢", "1e3" are refused)
    and at most 15 significant digits."""

    default_error_messages = {
        "plain": "Enter a plain decimal number such as 1250 or 101.25.",
        "significant": f"Use at most {MAX_SIGNIFICANT_DIGITS} significant digits.",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, str):
            data = data.strip()
            if not PLAIN_DECIMAL.match(data):
                self.fail("plain")
        value = super().to_internal_value(data)
        if isinstance(value, Decimal) and len(value.normalize().as_tuple().digits) > MAX_SIGNIFICANT_DIGITS:
            self.fail("significant")
        return value


MIN_POSITIVE = Decimal("0.00000001")


def QuantityInput(**kwargs):  # noqa: N802 - reads like a field class
    return StrictDecimalField(
        max_digits=24, decimal_places=8, min_value=MIN_POSITIVE, max_value=Decimal("1000000000000"), **kwargs
    )


def PriceInput(**kwargs):  # noqa: N802
    return StrictDecimalField(
        max_digits=24, decimal_places=8, min_value=MIN_POSITIVE, max_value=Decimal("1000000000"), **kwargs
    )


class FutureDateTimeField(serializers.DateTimeField):
    """A deadline: it must lie ahead."""

    default_error_messages = {"past": "This time is in the past; give a time ahead of now (UTC)."}

    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        if moment <= timezone.now():
            self.fail("past")
        return moment


class Pagination(LimitOffsetPagination):
    """Every API list's pages (the default pagination class): limit and offset must be
    valid when given; limit=abc, limit=0, limit above the maximum or offset=-1 is a 400 per
    parameter, never a silently ignored one."""

    default_limit = 100
    max_limit = 1000

    def _number(self, request, name: str, minimum: int, maximum: int | None) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:
            return None
        if not (raw.isascii() and raw.isdigit()) or int(raw) < minimum or (maximum is not None and int(raw) > maximum):
            upper = f" and {maximum}" if maximum is not None else ""
            raise ValidationError({name: [f"Give a whole number between {minimum}{upper}."]})
        return int(raw)

    def get_limit(self, request):
        limit = self._number(request, self.limit_query_param, 1, self.max_limit)
        return self.default_limit if limit is None else limit

    def get_offset(self, request):
        offset = self._number(request, self.offset_query_param, 0, None)
        return 0 if offset is None else offset

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] == self.limit_query_param:
                param["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_limit}
            elif param["name"] == self.offset_query_param:
                param["schema"] = {"type": "integer", "minimum": 0}
        return params


def _refuse_oversized(parser_context) -> None:
    # DRF reads the stream itself, bypassing Django's DATA_UPLOAD_MAX_MEMORY_SIZE.
    request = (parser_context or {}).get("request")
    length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
    if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        raise ParseError(f"Request body too large (limit {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes).")


class SafeJSONParser(JSONParser):
    """JSON with the size cap, and pathological nesting reported as a parse error instead of
    crashing the request."""

    def parse(self, stream, media_type=None, parser_context=None):
        _refuse_oversized(parser_context)
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None


class SafeFormParser(FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        _refuse_oversized(parser_context)
        return super().parse(stream, media_type, parser_context)


class SafeMultiPartParser(MultiPartParser):
    """Multipart with the same cap on the whole body, files included (Django's own limit
    counts only the non-file fields)."""

    def parse(self, stream, media_type=None, parser_context=None):
        _refuse_oversized(parser_context)
        return super().parse(stream, media_type, parser_context)


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter reads a blank filter (`?side=`) as no filter at all; the schema says a
    value must be one of its choices. A filter given blank is a 400, never silently ignored."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            names = set(filterset_class.base_filters)
            blank = [k for k in names & set(request.query_params) if not any(request.query_params.getlist(k))]
            if blank:
                raise ValidationError({k: ["Give a value, or leave the parameter out."] for k in sorted(blank)})
        return super().filter_queryset(request, queryset, view)
