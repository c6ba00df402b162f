from collections.abc import Callable
from typing import ClassVar

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.permissions import HasRole, IsPM, IsPMOrTrader
from core.api import KeysetPagination
from core.choices import OrderStatus
from oms import selectors, services
from oms.api.inputs import StrictPagination, error_responses
from oms.api.serializers import (
    OrderAmendInput,
    OrderCreateInput,
    OrderDetailSerializer,
    OrderPreviewInput,
    OrderSerializer,
    PortfolioSerializer,
    PositionSerializer,
    PreviewSerializer,
)
from oms.domain import compliance
from oms.models import Order, Portfolio, Position


def _visible_portfolios(request):
    return selectors.portfolios_visible_to(request.user) if request else Portfolio.objects.none()


class OrderFilter(django_filters.FilterSet):
    # distinct=False: a status filter joins nothing, and DISTINCT over a page's rows made
    # PostgreSQL sort every matching order before the LIMIT.
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices, distinct=False)
    portfolio = django_filters.ModelChoiceFilter(queryset=_visible_portfolios)
    instrument = django_filters.CharFilter(field_name="instrument__symbol")

    class Meta:
        model = Order
        fields = ["status", "portfolio", "instrument", "side", "urgency"]


@extend_schema_view(
    list=extend_schema(responses={200: OrderSerializer(many=True), **error_responses(400, 401, 403)}),
    retrieve=extend_schema(responses={200: OrderDetailSerializer, **error_responses(401, 403, 404)}),
)
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    # What the layers above the OMS add to an order just accepted, in the same transaction
    # (the router stores its decision): they register here, so the OMS imports none of them,
    # and order_submit runs them inside its own transaction.
    on_accepted: ClassVar[list[Callable[..., None]]] = []
    filterset_class = OrderFilter
    permission_classes = [HasRole]
    # Newest first by (created_at, id), a cursor per page: no COUNT, no OFFSET.
    pagination_class = KeysetPagination

    def get_queryset(self):
        qs = selectors.orders_visible_to(self.request.user)
        if self.action == "retrieve":
            qs = qs.prefetch_related("events__actor", "fills")
        return qs

    def get_serializer_class(self):
        return OrderDetailSerializer if self.action == "retrieve" else OrderSerializer

    def get_permissions(self):
        if self.action in ("create", "preview"):
            return [IsPM()]
        if self.action == "amend":
            return [IsPMOrTrader()]
        return super().get_permissions()

    @extend_schema(
        request=OrderCreateInput,
        responses={201: OrderSerializer, **error_responses(400, 401, 403, 409)},
    )
    def create(self, request):
        data = OrderCreateInput(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        confirmed = values.pop("confirm", False)
        try:
            order = services.order_submit(
                actor=request.user, confirmed=confirmed, on_accepted=tuple(self.on_accepted), **values
            )
        except compliance.ConfirmationRequired as exc:
            raise ValidationError({"confirm": [f"Confirm to enter this order: {exc}."]}) from None
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=OrderPreviewInput, responses={200: PreviewSerializer, **error_responses(400, 401, 403)})
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """The compliance verdict for an order, without storing it."""
        data = OrderPreviewInput(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        v = data.validated_data
        breaches = services.order_preview(
            portfolio=v["portfolio"],
            instrument=v["instrument"],
            side=v["side"],
            quantity=v["quantity"],
            limit_price=v.get("limit_price"),
        )
        return Response(
            {
                "passes": not breaches,
                "needs_confirmation": bool(breaches) and all(b.soft for b in breaches),
                "breaches": [b.as_dict() for b in breaches],
            }
        )

    @extend_schema(request=None, responses={200: OrderSerializer, **error_responses(401, 403, 404, 409)})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        order = self.get_object()  # 404 when the user cannot see it
        order = services.order_cancel(actor=request.user, order_id=order.pk)
        return Response(OrderSerializer(order).data, status=status.HTTP_200_OK)

    @extend_schema(
        request=OrderAmendInput, responses={200: OrderSerializer, **error_responses(400, 401, 403, 404, 409)}
    )
    @action(detail=True, methods=["post"])
    def amend(self, request, pk=None):
        """New quantity or limit price, through pre-trade compliance again: refused (409 with
        the reasons, audited) when the new terms breach a limit; a worked order's execution
        follows them."""
        order = self.get_object()  # 404 when the user cannot see it
        data = OrderAmendInput(data=request.data, context={"request": request, "order": order})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        try:
            result = services.order_amend(
                actor=request.user,
                order_id=order.pk,
                quantity=values.get("quantity"),
                limit_price=values.get("limit_price", services.KEEP),
                confirmed=values.get("confirm", False),
            )
        except compliance.ConfirmationRequired as exc:
            raise ValidationError({"confirm": [f"Confirm to amend this order: {exc}."]}) from None
        if result.refusals:
            return Response(
                {
                    "detail": "The amendment breaches pre-trade compliance; the order is unchanged.",
                    "rejection_reasons": [b.as_dict() for b in result.refusals],
                },
                status=status.HTTP_409_CONFLICT,
            )
        return Response(OrderSerializer(result.order).data, status=status.HTTP_200_OK)


@extend_schema_view(
    list=extend_schema(responses={200: PortfolioSerializer(many=True), **error_responses(400, 401, 403)}),
    retrieve=extend_schema(responses={200: PortfolioSerializer, **error_responses(401, 403, 404)}),
)
class PortfolioViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PortfolioSerializer
    permission_classes = [HasRole]
    pagination_class = StrictPagination

    def get_queryset(self):
        return selectors.portfolios_visible_to(self.request.user)


class PositionFilter(django_filters.FilterSet):
    portfolio = django_filters.ModelChoiceFilter(queryset=_visible_portfolios)
    instrument = django_filters.CharFilter(field_name="instrument__symbol")

    class Meta:
        model = Position
        fields = ["portfolio", "instrument"]


@extend_schema_view(
    list=extend_schema(responses={200: PositionSerializer(many=True), **error_responses(400, 401, 403)}),
    retrieve=extend_schema(responses={200: PositionSerializer, **error_responses(401, 403, 404)}),
)
class PositionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PositionSerializer
    permission_classes = [HasRole]
    pagination_class = StrictPagination
    filterset_class = PositionFilter

    def get_queryset(self):
        return selectors.positions_visible_to(self.request.user)
