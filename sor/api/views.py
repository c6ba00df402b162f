import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.permissions import HasRole, IsDesk
from oms.api.inputs import StrictPagination
from oms.selectors import orders_visible_to
from sor import services
from sor.api.serializers import PretradeInput, RoutingDecisionSerializer
from sor.models import RoutingDecision


class OrderRecommendationView(APIView):
    """The router's recommendation for a parent order, with its rationale (stored)."""

    permission_classes = [HasRole]

    @extend_schema(responses=RoutingDecisionSerializer)
    def get(self, request, pk: int):
        order = get_object_or_404(orders_visible_to(request.user), pk=pk)
        decision = services.order_recommend(order=order, actor=request.user)
        return Response(RoutingDecisionSerializer(decision).data)


class PretradeView(APIView):
    """What-if: the strategy, cost and risk the router would choose for an order not yet sent."""

    permission_classes = [HasRole]
    # Every what-if is stored: bound how many one user can make.
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "pretrade"

    @extend_schema(request=PretradeInput, responses=RoutingDecisionSerializer)
    def post(self, request):
        data = PretradeInput(data=request.data)
        data.is_valid(raise_exception=True)
        decision = services.pretrade_estimate(actor=request.user, **data.validated_data)
        return Response(RoutingDecisionSerializer(decision).data)


class RoutingDecisionFilter(django_filters.FilterSet):
    instrument = django_filters.CharFilter(field_name="instrument__symbol")

    class Meta:
        model = RoutingDecision
        fields = ["order", "kind", "strategy", "instrument"]


class RoutingDecisionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Why did this order go to X: every stored decision with its inputs (desk only)."""

    queryset = RoutingDecision.objects.select_related("instrument")
    serializer_class = RoutingDecisionSerializer
    permission_classes = [IsDesk]
    filterset_class = RoutingDecisionFilter
    pagination_class = StrictPagination
