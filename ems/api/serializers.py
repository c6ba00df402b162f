from decimal import Decimal

from rest_framework import serializers

from core.api import QuantityInput
from core.choices import Strategy
from ems import selectors
from ems.models import ChildOrder, Execution, ExecutionEvent


class ChildOrderSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChildOrder
        fields = [
            "id",
            "client_order_id",
            "seq",
            "venue",
            "side",
            "child_type",
            "quantity",
            "limit_price",
            "status",
            "filled_quantity",
            "average_price",
            "fees",
            "reason",
            "sent_at",
            "created_at",
            "updated_at",
        ]


class ExecutionEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None)

    class Meta:
        model = ExecutionEvent
        fields = ["id", "at", "actor", "event", "from_status", "to_status", "reason", "payload"]


class ExecutionSerializer(serializers.ModelSerializer):
    """One row of the execution blotter (also the `execution` of every pushed update)."""

    instrument = serializers.CharField(source="subject.instrument.symbol")
    order_status = serializers.CharField(source="order.status", default=None)
    progress = serializers.SerializerMethodField()
    schedule_progress = serializers.SerializerMethodField()
    slippage_bps = serializers.SerializerMethodField()
    is_active = serializers.BooleanField()

    class Meta:
        model = Execution
        fields = [
            "id",
            "order",
            "block",
            "order_status",
            "instrument",
            "side",
            "quantity",
            "filled_quantity",
            "average_price",
            "arrival_price",
            "slippage_bps",
            "limit_price",
            "strategy",
            "parameters",
            "status",
            "is_active",
            "completion",
            "reason",
            "progress",
            "schedule_progress",
            "start_at",
            "end_at",
            "next_tick_at",
            "tick_count",
            "created_at",
            "updated_at",
        ]

    def get_progress(self, obj) -> str:
        return str((obj.filled_quantity / obj.quantity).quantize(Decimal("0.0001"))) if obj.quantity else "0"

    def get_schedule_progress(self, obj) -> str:
        return str(selectors.schedule_fraction(obj))

    def get_slippage_bps(self, obj) -> str | None:
        value = selectors.slippage_bps(obj)
        return None if value is None else str(value)


class ExecutionDetailSerializer(ExecutionSerializer):
    decision = serializers.SerializerMethodField()
    schedule = serializers.SerializerMethodField()
    children = ChildOrderSerializer(many=True)
    fills = serializers.SerializerMethodField()
    events = ExecutionEventSerializer(many=True)

    class Meta(ExecutionSerializer.Meta):
        fields = [
            *ExecutionSerializer.Meta.fields,
            "decision",
            "schedule",
            "market_path",
            "children",
            "fills",
            "events",
        ]

    def get_decision(self, obj) -> dict | None:
        d = obj.decision
        if d is None:
            return None
        return {"id": d.pk, "strategy": d.strategy, "parameters": d.parameters, "rationale": d.rationale}

    def get_schedule(self, obj) -> list[dict]:
        return selectors.schedule_points(obj)

    def get_fills(self, obj) -> list[dict]:
        if obj.block_id is not None:  # the block's venue fills (their allocations: /api/blocks/{id}/)
            return [
                {
                    "fill_id": f.fill_id,
                    "quantity": str(f.quantity),
                    "price": str(f.price),
                    "fee": str(f.fee),
                    "venue": f.venue,
                    "executed_at": f.executed_at.isoformat(),
                    "applied": True,
                }
                for f in obj.block.fills.all()
            ]
        return [
            {
                "fill_id": f.fill_id,
                "quantity": str(f.quantity),
                "price": str(f.price),
                "fee": str(f.fee),
                "venue": f.venue,
                "executed_at": f.executed_at.isoformat(),
                "applied": f.applied,
            }
            for f in obj.order.fills.all()
        ]


class ExecutionStartInput(serializers.Serializer):
    order = serializers.IntegerField(min_value=1, required=False)
    block = serializers.IntegerField(min_value=1, required=False)
    strategy = serializers.ChoiceField(choices=Strategy.choices, required=False)
    parameters = serializers.DictField(required=False)

    ALLOWED = {
        "horizon_seconds": (1, 7 * 24 * 3600),
        "participation_rate": (0.001, 1),
        "display_quantity": (0, None),
        "urgency": None,
        "dark_fraction": (0, 1),
        "slices": (1, 10_000),
        "reprice_seconds": (0, 3600),  # a passive child's rest before it chases the touch
        "min_clip": (0, None),  # POV's smallest resting child (a quantity)
    }

    QUANTITIES = {"display_quantity", "min_clip"}  # kept exact, as decimal strings

    def validate(self, attrs):
        if ("order" in attrs) == ("block" in attrs):
            raise serializers.ValidationError({"order": "give an order or a block (one of them)"})
        return attrs

    def validate_parameters(self, value):
        unknown = sorted(set(value) - set(self.ALLOWED))
        if unknown:
            raise serializers.ValidationError(f"unknown parameters: {', '.join(unknown)}")
        clean = {}
        for name, raw in value.items():
            bounds = self.ALLOWED[name]
            if bounds is None:
                clean[name] = str(raw)
                continue
            if isinstance(raw, bool) or not isinstance(raw, int | float | str):
                raise serializers.ValidationError(f"{name} must be a number")
            try:
                number = Decimal(str(raw))
            except ArithmeticError:
                raise serializers.ValidationError(f"{name} must be a number") from None
            if not number.is_finite():
                raise serializers.ValidationError(f"{name} must be a number")
            low, high = bounds
            if number < low or (high is not None and number > high):
                raise serializers.ValidationError(f"{name} must be between {low} and {high or 'any'}")
            clean[name] = str(number) if name in self.QUANTITIES else float(number)
        return clean


__all__ = [
    "ChildOrderSerializer",
    "ExecutionDetailSerializer",
    "ExecutionEventSerializer",
    "ExecutionSerializer",
    "ExecutionStartInput",
    "QuantityInput",
]
