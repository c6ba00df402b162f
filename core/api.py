"""API edge pieces shared by every app: strict decimal input, bounded pagination (cursor
pages for the lists that grow for years), a JSON parser that turns hostile bodies into 400s."""

import base64
import binascii
import json
import re
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import F
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.pagination import BasePagination, LimitOffsetPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

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


def _number(request, name: str, minimum: int, maximum: int | None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) < minimum or (maximum is not None and int(raw) > maximum):
        upper = f" and {maximum}" if maximum is not None else ""
        raise ValidationError({name: [f"Give a whole number between {minimum}{upper}."]})
    return int(raw)


class Pagination(LimitOffsetPagination):
    """Every API list's pages (the default pagination class): limit and offset must be
    valid when given; limit=abc, limit=0, limit above the maximum or offset=-1 is a 400 per
    parameter, never a silently ignored one."""

    default_limit = 100
    max_limit = 1000

    def get_limit(self, request):
        limit = _number(request, self.limit_query_param, 1, self.max_limit)
        return self.default_limit if limit is None else limit

    def get_offset(self, request):
        offset = _number(request, self.offset_query_param, 0, None)
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


class KeysetPagination(BasePagination):
    """Pages of a list that grows for years (orders, executions, routing decisions): newest
    first by (time, id), each page picked by a cursor, so a page costs its own rows whatever
    the history holds: `WHERE (created_at, id) < (last seen) ORDER BY created_at DESC, id
    DESC LIMIT n` is one index range. No `count` (a COUNT reads every matching row on every
    page) and no `offset` (an offset reads every row it skips): `next` and `previous` are
    links carrying the cursor. Rows entered between two pages land ahead of the first page,
    so following `next` never repeats or skips a row. A view sets `keyset_fields` when its
    time column is not `created_at`."""

    default_limit = Pagination.default_limit
    max_limit = Pagination.max_limit
    limit_query_param = "limit"
    cursor_query_param = "cursor"
    default_keyset_fields = ("created_at", "id")

    def paginate_queryset(self, queryset, request, view=None):
        if "offset" in request.query_params:
            raise ValidationError(
                {"offset": ["This list pages by cursor: follow the `next` link (an offset reads every row it skips)."]}
            )
        self.request = request
        self.limit = _number(request, self.limit_query_param, 1, self.max_limit)
        self.limit = self.default_limit if self.limit is None else self.limit
        self.fields = getattr(view, "keyset_fields", self.default_keyset_fields)
        cursor = self._decode(request.query_params.get(self.cursor_query_param))
        at, pk = self.fields
        key = Tuple(F(at), F(pk))
        if cursor is None:
            backwards, page = False, queryset.order_by(f"-{at}", f"-{pk}")
        elif cursor["back"]:
            backwards = True
            page = queryset.filter(TupleGreaterThan(key, (cursor["at"], cursor["id"]))).order_by(at, pk)
        else:
            backwards = False
            page = queryset.filter(TupleLessThan(key, (cursor["at"], cursor["id"]))).order_by(f"-{at}", f"-{pk}")
        rows = list(page[: self.limit + 1])
        more, rows = len(rows) > self.limit, rows[: self.limit]
        if backwards:
            rows.reverse()
        # Forwards, a cursor means newer rows exist (the page it came from); backwards, the
        # page it came from is older.
        self.has_next = bool(rows) and (more if not backwards else True)
        self.has_previous = bool(rows) and (cursor is not None if not backwards else more)
        self.first, self.last = (rows[0], rows[-1]) if rows else (None, None)
        return rows

    def _encode(self, row, *, back: bool) -> str:
        at, pk = self.fields
        raw = json.dumps({"at": getattr(row, at).isoformat(), "id": getattr(row, pk), "back": back})
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def _decode(self, raw: str | None) -> dict | None:
        if raw is None:
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
            moment = datetime.fromisoformat(data["at"])
            if moment.tzinfo is None or not isinstance(data["id"], int) or not isinstance(data["back"], bool):
                raise ValueError
            return {"at": moment, "id": data["id"], "back": data["back"]}
        except (ValueError, TypeError, KeyError, UnicodeDecodeError, binascii.Error):
            raise ValidationError(
                {self.cursor_query_param: ["Not a cursor of this list: follow the `next` or `previous` link as given."]}
            ) from None

    def _link(self, row, *, back: bool) -> str:
        url = self.request.build_absolute_uri()
        url = replace_query_param(url, self.cursor_query_param, self._encode(row, back=back))
        return url

    def get_paginated_response(self, data):
        return Response(
            {
                "next": self._link(self.last, back=False) if self.has_next else None,
                "previous": self._link(self.first, back=True) if self.has_previous else None,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri", "description": "The older rows."},
                "previous": {"type": "string", "nullable": True, "format": "uri", "description": "The newer rows."},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Where the page starts: take it from a `next` or `previous` link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.limit_query_param,
                "required": False,
                "in": "query",
                "description": "Rows per page.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_limit},
            },
        ]
