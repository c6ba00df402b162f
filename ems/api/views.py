import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasRole, IsDesk
from core.api import KeysetPagination
from core.choices import Strategy
from core.errors import NotFound
from ems import blocks, selectors, services
from ems.api.serializers import ExecutionDetailSerializer, ExecutionSerializer, ExecutionStartInput
from ems.models import Execution, ExecutionStatus
from oms.selectors import orders_visible_to


class ExecutionFilter(django_filters.FilterSet):
    # distinct=False: no join multiplies rows, and DISTINCT would sort every match before the LIMIT.
    status = django_filters.MultipleChoiceFilter(choices=ExecutionStatus.choices, distinct=False)
    strategy = django_filters.MultipleChoiceFilter(choices=Strategy.choices, distinct=False)
    instrument = django_filters.CharFilter(field_name="order__instrument__symbol")

    class Meta:
        model = Execution
        fields = ["status", "strategy", "instrument", "order"]


class ExecutionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Executions of the orders the user may see; only the desk starts and steers them."""

    filterset_class = ExecutionFilter
    permission_classes = [HasRole]
    pagination_class = KeysetPagination  # newest first, a cursor per page (core.api)

    def get_queryset(self):
        qs = selectors.executions_visible_to(self.request.user).select_related("order__instrument", "decision")
        if self.action == "retrieve":
            qs = qs.prefetch_related("children", "events__actor", "order__fills")
        return qs

    def get_serializer_class(self):
        return ExecutionDetailSerializer if self.action == "retrieve" else ExecutionSerializer

    def get_permissions(self):
        if self.action in ("create", "pause", "resume", "cancel"):
            return [IsDesk()]
        return super().get_permissions()

    def _detail(self, execution, code=status.HTTP_200_OK):
        fresh = self.get_queryset().prefetch_related("children", "events__actor", "order__fills").get(pk=execution.pk)
        return Response(ExecutionDetailSerializer(fresh).data, status=code)

    @extend_schema(request=ExecutionStartInput, responses={201: ExecutionDetailSerializer})
    def create(self, request):
        data = ExecutionStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        if "block" in data.validated_data:
            execution = blocks.block_execution_start(
                actor=request.user,
                block_id=data.validated_data["block"],
                strategy=data.validated_data.get("strategy"),
                parameters=data.validated_data.get("parameters"),
            )
            return self._detail(execution, status.HTTP_201_CREATED)
        order_id = data.validated_data["order"]
        if not orders_visible_to(request.user).filter(pk=order_id).exists():
            raise NotFound(f"order {order_id} does not exist")
        execution = services.execution_start(
            actor=request.user,
            order_id=order_id,
            strategy=data.validated_data.get("strategy"),
            parameters=data.validated_data.get("parameters"),
        )
        return self._detail(execution, status.HTTP_201_CREATED)

    def _control(self, request, pk, command):
        execution = self.get_object()
        command(actor=request.user, execution_id=execution.pk)
        return self._detail(execution)

    @extend_schema(request=None, responses=ExecutionDetailSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._control(request, pk, services.execution_pause)

    @extend_schema(request=None, responses=ExecutionDetailSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._control(request, pk, services.execution_resume)

    @extend_schema(request=None, responses=ExecutionDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._control(request, pk, services.execution_cancel)


class KillSwitchView(APIView):
    permission_classes = [IsDesk]

    @extend_schema(request=None, responses={200: dict})
    def post(self, request):
        stopped = services.killswitch_engage(actor=request.user)
        return Response({"stopped": stopped})
