import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.permissions import HasRole, IsDesk
from core.api import KeysetPagination
from oms.api.inputs import error_responses
from oms.api.packages import packages_visible_to
from oms.api.views import OrderViewSet
from oms.selectors import orders_visible_to
from sor import services
from sor.api.serializers import PretradeInput, RoutingDecisionSerializer, WhatIfSaveInput
from sor.models import RoutingDecision


class OrderRecommendationView(APIView):
    """The router's decision for a parent order: GET the one stored when it was accepted
    (reading writes nothing); POST a fresh what-if on today's market for an open order."""

    permission_classes = [HasRole]
    throttle_scope = "pretrade"  # a fresh what-if costs a decision, like /api/pretrade/

    def _order(self, request, pk: int):
        return get_object_or_404(orders_visible_to(request.user).select_related("instrument"), pk=pk)

    @extend_schema(responses={200: RoutingDecisionSerializer, **error_responses(401, 403, 404)})
    def get(self, request, pk: int):
        decision = services.order_decision(self._order(request, pk))
        if decision is None:
            raise NotFound("No routing decision was stored for this order.")
        return Response(RoutingDecisionSerializer(decision).data)

    @extend_schema(
        request=WhatIfSaveInput,
        responses={200: RoutingDecisionSerializer, **error_responses(400, 401, 403, 404, 409, 429)},
    )
    def post(self, request, pk: int):
        """Kept in the routing decisions only with {"save": true}."""
        data = WhatIfSaveInput(data=request.data)
        data.is_valid(raise_exception=True)
        decision = services.order_what_if(
            order=self._order(request, pk), actor=request.user, save=data.validated_data["save"]
        )
        return Response(RoutingDecisionSerializer(decision).data)

    def get_throttles(self):
        return [ScopedRateThrottle()] if self.request.method == "POST" else []


class PretradeView(APIView):
    """What-if: the strategy, cost and risk the router would choose for an order not yet sent."""

    permission_classes = [HasRole]
    # Every what-if costs a decision (and a row when saved): bound how many one user can make.
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "pretrade"

    @extend_schema(
        request=PretradeInput, responses={200: RoutingDecisionSerializer, **error_responses(400, 401, 403, 429)}
    )
    def post(self, request):
        data = PretradeInput(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values.pop("portfolio", None)  # checked: the user may trade in it
        decision = services.pretrade_estimate(actor=request.user, **values)
        return Response(RoutingDecisionSerializer(decision).data)


# The order entry (an OMS view) stores the router's decision for an accepted order in its
# transaction; the router registers that here, so the OMS imports nothing of the SOR.
if services.order_decision_on_accept not in OrderViewSet.on_accepted:
    OrderViewSet.on_accepted.append(services.order_decision_on_accept)


class RoutingDecisionFilter(django_filters.FilterSet):
    instrument = django_filters.CharFilter(field_name="instrument__symbol")

    class Meta:
        model = RoutingDecision
        fields = ["order", "kind", "strategy", "instrument"]


@extend_schema_view(
    list=extend_schema(responses={200: RoutingDecisionSerializer(many=True), **error_responses(400, 401, 403)}),
    retrieve=extend_schema(responses={200: RoutingDecisionSerializer, **error_responses(401, 403, 404)}),
)
class RoutingDecisionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Why did this order go to X: every stored decision with its inputs (desk only)."""

    queryset = RoutingDecision.objects.select_related("instrument")
    serializer_class = RoutingDecisionSerializer
    permission_classes = [IsDesk]
    filterset_class = RoutingDecisionFilter
    pagination_class = KeysetPagination  # newest first, a cursor per page (core.api)


class PackageRecommendationView(APIView):
    """The router's recommendation for a package: RFQ at one net price, with the rationale."""

    permission_classes = [HasRole]

    @extend_schema(responses={200: OpenApiTypes.OBJECT, **error_responses(401, 403, 404)})
    def get(self, request, pk: int):
        package = get_object_or_404(packages_visible_to(request.user), pk=pk)
        return Response(services.package_recommendation(package))
