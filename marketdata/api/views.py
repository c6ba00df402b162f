import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasRole
from marketdata.api.serializers import InstrumentSerializer, VenueSerializer
from marketdata.models import Instrument, Venue
from marketdata.selectors import is_fresh, latest_snapshot


class InstrumentFilter(django_filters.FilterSet):
    class Meta:
        model = Instrument
        fields = ["asset_class", "currency"]


class InstrumentViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Instrument.objects.filter(is_active=True).select_related("underlying")
    serializer_class = InstrumentSerializer
    permission_classes = [HasRole]
    filterset_class = InstrumentFilter
    lookup_field = "symbol"
    lookup_value_regex = "[^/]+"


class VenueViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Venue.objects.all()
    serializer_class = VenueSerializer
    permission_classes = [HasRole]
    lookup_field = "name"


class ConsolidatedBookView(APIView):
    """Best bid and offer across venues, depth per venue, last trade and the data's age."""

    permission_classes = [HasRole]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, symbol: str):
        instrument = get_object_or_404(Instrument, symbol=symbol, is_active=True)
        snap = latest_snapshot(instrument.symbol)
        if snap is None:
            return Response(
                {
                    "symbol": instrument.symbol,
                    "fresh": False,
                    "venues": {},
                    "age_seconds": None,
                    "detail": "no market data received yet",
                }
            )
        return Response({**snap, "fresh": is_fresh(snap)})
