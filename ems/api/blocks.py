"""The blocks API: the desk forms blocks, adds and removes members and sees every member;
a PM sees only their own orders' memberships (their allocations, the block's average price
and their share), never the other members, their portfolios or their sizes."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import roles
from accounts.permissions import HasRole, IsDesk
from core.choices import text_choices
from core.vocabulary import BlockAllocationMode
from ems import blocks, selectors
from ems.models import Block, BlockAllocation, BlockMember

AllocationMode = text_choices(BlockAllocationMode)


class BlockFormInput(serializers.Serializer):
    orders = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=2, max_length=200)
    allocation = serializers.ChoiceField(choices=AllocationMode.choices, required=False)


class BlockJoinInput(serializers.Serializer):
    orders = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=200)


class BlockRemoveInput(serializers.Serializer):
    order = serializers.IntegerField(min_value=1)


class AllocationSerializer(serializers.ModelSerializer):
    block_fill = serializers.CharField(source="block_fill.fill_id")
    executed_at = serializers.DateTimeField(source="block_fill.executed_at")

    class Meta:
        model = BlockAllocation
        fields = [
            "fill_id",
            "block_fill",
            "quantity",
            "price",
            "fee",
            "booked_price",
            "booked_at",
            "applied",
            "executed_at",
        ]


class MemberSerializer(serializers.ModelSerializer):
    portfolio = serializers.CharField(source="order.portfolio.name")
    order_quantity = serializers.DecimalField(source="order.quantity", max_digits=24, decimal_places=8)
    order_filled = serializers.DecimalField(source="order.filled_quantity", max_digits=24, decimal_places=8)
    order_status = serializers.CharField(source="order.status")
    average_price = serializers.DecimalField(
        source="order.average_fill_price", max_digits=24, decimal_places=8, allow_null=True
    )
    limit_price = serializers.DecimalField(source="order.limit_price", max_digits=24, decimal_places=8, allow_null=True)
    progress = serializers.SerializerMethodField()
    active = serializers.BooleanField(source="is_active")

    class Meta:
        model = BlockMember
        fields = [
            "order",
            "portfolio",
            "order_quantity",
            "order_filled",
            "order_status",
            "average_price",
            "limit_price",
            "quantity_at_join",
            "allocated_quantity",
            "booked_quantity",
            "progress",
            "active",
            "joined_at",
            "left_at",
            "left_reason",
        ]

    def get_progress(self, obj) -> str:
        order = obj.order
        return str((order.filled_quantity / order.quantity).quantize(Decimal("0.0001"))) if order.quantity else "0"


def _execution(block) -> dict | None:
    execution = getattr(block, "execution", None)
    if execution is None:
        return None
    quantity = execution.quantity
    return {
        "id": execution.pk,
        "status": execution.status,
        "strategy": execution.strategy,
        "quantity": str(quantity),
        "filled_quantity": str(execution.filled_quantity),
        "average_price": None if execution.average_price is None else str(execution.average_price),
        "progress": str((execution.filled_quantity / quantity).quantize(Decimal("0.0001"))) if quantity else "0",
    }


def block_desk_view(block: Block, refused=()) -> dict:
    """The desk's view of a block: everything."""
    from ems.models import Execution

    try:
        execution = _execution(block)
    except Execution.DoesNotExist:
        execution = None
    decision = block.decision
    members = block.members.select_related("order__portfolio").order_by("pk")
    return {
        "id": block.pk,
        "instrument": block.instrument.symbol,
        "side": block.side,
        "allocation": block.allocation,
        "status": block.status,
        "limit_price": None if block.limit_price is None else str(block.limit_price),
        "limit_note": block.limit_note,
        "urgency": block.urgency,
        "unallocated_quantity": str(block.unallocated_quantity),
        "quantity": str(sum((m.order.quantity - m.order.filled_quantity for m in members if m.is_active), Decimal(0))),
        "decision": None
        if decision is None
        else {
            "id": decision.pk,
            "strategy": decision.strategy,
            "parameters": decision.parameters,
            "rationale": decision.rationale,
            "estimated_cost_bps": str(decision.estimated_cost_bps),
            "quantity": decision.inputs.get("quantity"),
        },
        "execution": execution,
        "members": MemberSerializer(members, many=True).data,
        "refused": [{"order": r.order, "reason": r.reason} for r in refused],
        "created_at": block.created_at.isoformat(),
    }


def block_pm_view(block: Block, user) -> dict:
    """A PM's view: their own memberships, the block's average price and their share."""
    from ems.models import Execution

    try:
        execution = block.execution
    except Execution.DoesNotExist:
        execution = None
    mine = selectors.block_members_of(block, user)
    block_allocated = execution.filled_quantity if execution is not None else Decimal(0)
    rows = []
    for member in mine:
        allocations = member.allocations.select_related("block_fill").order_by("pk")
        share = (member.allocated_quantity / block_allocated).quantize(Decimal("0.0001")) if block_allocated else None
        rows.append(
            {
                "order": member.order_id,
                "order_quantity": str(member.order.quantity),
                "order_filled": str(member.order.filled_quantity),
                "order_status": member.order.status,
                "average_price": None
                if member.order.average_fill_price is None
                else str(member.order.average_fill_price),
                "allocated_quantity": str(member.allocated_quantity),
                "booked_quantity": str(member.booked_quantity),
                "share": None if share is None else str(share),
                "active": member.is_active,
                "allocations": AllocationSerializer(allocations, many=True).data,
            }
        )
    return {
        "id": block.pk,
        "instrument": block.instrument.symbol,
        "side": block.side,
        "allocation": block.allocation,
        "status": block.status,
        "average_price": None if execution is None or execution.average_price is None else str(execution.average_price),
        "mine": rows,
    }


def block_view(block: Block, user, refused=()) -> dict:
    return block_desk_view(block, refused) if roles.is_desk(user) else block_pm_view(block, user)


class BlockViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Blocks: formed and steered by the desk; a PM reads their own share of those holding
    their orders."""

    permission_classes = [HasRole]

    def get_queryset(self):
        return selectors.blocks_visible_to(self.request.user).order_by("-created_at", "-id")

    def get_permissions(self):
        if self.action in ("create", "members", "remove"):
            return [IsDesk()]
        return super().get_permissions()

    def get_serializer_class(self):
        return BlockFormInput

    @extend_schema(responses={200: dict})
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        rows = [block_view(b, request.user) for b in (page if page is not None else self.get_queryset()[:200])]
        return self.get_paginated_response(rows) if page is not None else Response(rows)

    @extend_schema(responses={200: dict})
    def retrieve(self, request, pk=None):
        return Response(block_view(self.get_object(), request.user))

    @extend_schema(request=BlockFormInput, responses={201: dict})
    def create(self, request):
        data = BlockFormInput(data=request.data)
        data.is_valid(raise_exception=True)
        formed = blocks.block_form(
            actor=request.user,
            order_ids=data.validated_data["orders"],
            allocation_mode=data.validated_data.get("allocation") or BlockAllocationMode.PRO_RATA,
        )
        block = Block.objects.select_related("instrument", "decision").get(pk=formed.block.pk)
        return Response(block_desk_view(block, formed.refused), status=status.HTTP_201_CREATED)

    @extend_schema(request=BlockJoinInput, responses={200: dict})
    @action(detail=True, methods=["post"])
    def members(self, request, pk=None):
        data = BlockJoinInput(data=request.data)
        data.is_valid(raise_exception=True)
        block = self.get_object()
        orders = data.validated_data["orders"]
        formed = blocks.block_members_add(actor=request.user, block_id=block.pk, order_ids=orders)
        block = Block.objects.select_related("instrument", "decision").get(pk=formed.block.pk)
        return Response(block_desk_view(block, formed.refused))

    @extend_schema(request=BlockRemoveInput, responses={200: dict})
    @action(detail=True, methods=["post"])
    def remove(self, request, pk=None):
        data = BlockRemoveInput(data=request.data)
        data.is_valid(raise_exception=True)
        block = self.get_object()
        blocks.block_member_remove(actor=request.user, block_id=block.pk, order_id=data.validated_data["order"])
        block = Block.objects.select_related("instrument", "decision").get(pk=block.pk)
        return Response(block_desk_view(block))
