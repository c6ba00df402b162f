"""GET /api/tca/{order_id}/ and GET /api/tca/report/?start=&end=[&format=csv]."""

import csv
import io
from datetime import UTC, datetime, time, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.permissions import HasRole
from core.errors import NotFound
from oms.selectors import orders_visible_to
from tca import selectors, services
from tca.domain.report import COLUMNS, summarise


class CsvRenderer(BaseRenderer):
    """The report's groups as CSV with the columns of tca.domain.report.COLUMNS; anything
    else (an error) as `field,message` lines."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        buffer = io.StringIO()
        if isinstance(data, list):
            writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
            writer.writeheader()
            for group in data:
                writer.writerow({k: "" if group[k] is None else group[k] for k in COLUMNS})
        else:
            writer = csv.writer(buffer, lineterminator="\n")
            for key, value in (data or {}).items():
                writer.writerow([key, value])
        return buffer.getvalue().encode(self.charset)


class Moment(serializers.Field):
    """An ISO date-time, or a plain date meaning that day from 00:00 UTC (as an end: to the
    next day's 00:00, so ?start=2026-12-01&end=2026-12-01 is the whole day)."""

    def __init__(self, *, day_end: bool = False, **kw):
        self.day_end = day_end
        super().__init__(**kw)

    def to_internal_value(self, value):
        day = parse_date(value) if isinstance(value, str) and len(value) == 10 else None
        if day is not None:
            moment = datetime.combine(day, time.min, tzinfo=UTC)
            return moment + timedelta(days=1) if self.day_end else moment
        moment = parse_datetime(value) if isinstance(value, str) else None
        if moment is None:
            raise serializers.ValidationError("a date (YYYY-MM-DD) or an ISO date-time")
        return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)


class ReportInput(serializers.Serializer):
    start = Moment(required=False)
    end = Moment(required=False, day_end=True)

    def validate(self, attrs):
        attrs.setdefault("end", timezone.now())
        attrs.setdefault("start", datetime.combine(attrs["end"].date(), time.min, tzinfo=UTC))
        if attrs["start"] >= attrs["end"]:
            raise serializers.ValidationError({"end": "must be after start"})
        return attrs


class OrderTcaView(APIView):
    """The post-trade analysis of one order the user may see (a PM: their own)."""

    permission_classes = [HasRole]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, order_id: int):
        order = orders_visible_to(request.user).filter(pk=order_id).first()
        if order is None:
            raise NotFound(f"order {order_id} does not exist")
        return Response(services.tca_for_order(order))


class TcaReportView(APIView):
    """The best-execution report over [start, end): by strategy, venue, counterparty and
    urgency, from the stored TCA of the orders the user may see. `format=csv` answers the
    same rows as CSV with the columns of tca.domain.report.COLUMNS (docs/tca.md)."""

    permission_classes = [HasRole]
    # ?format=csv is DRF's format override: it picks this renderer.
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CsvRenderer]

    def perform_content_negotiation(self, request, force=False):
        # DRF answers an unknown ?format= with a 404; it is a malformed query parameter.
        chosen = request.query_params.get(api_settings.URL_FORMAT_OVERRIDE)
        if not force and chosen not in (None, "json", "csv"):
            raise serializers.ValidationError({"format": ["json or csv"]})
        return super().perform_content_negotiation(request, force=force)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "start",
                OpenApiTypes.STR,
                description="Inclusive: a date (00:00 UTC) or an ISO date-time; default today.",
            ),
            OpenApiParameter(
                "end",
                OpenApiTypes.STR,
                description="Exclusive: a date (through that day) or an ISO date-time; default now.",
            ),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"], description="csv: the CSV download."),
        ],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request):
        params = ReportInput(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        start, end = params.validated_data["start"], params.validated_data["end"]
        rows = selectors.report_rows(request.user, start, end)
        groups = summarise(rows)
        if request.accepted_renderer.format == "csv":
            name = f"best-execution-{start:%Y%m%d}-{end:%Y%m%d}.csv"
            return Response(groups, headers={"Content-Disposition": f'attachment; filename="{name}"'})
        return Response(
            {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "orders": len(rows),
                "columns": COLUMNS,
                "groups": groups,
            }
        )
