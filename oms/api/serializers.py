from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.relations import PKOnlyObject

from core.api import FutureDateTimeField
from core.choices import Side, Urgency
from oms.api.inputs import (
    FieldsBuiltOnce,
    InstrumentSymbolInput,
    PriceInput,
    QuantityInput,
    TextInput,
    precision_errors,
)
from oms.models import Order, OrderEvent, OrderFill, Portfolio, Position
from oms.selectors import portfolios_visible_to


@extend_schema_field(OpenApiTypes.INT)
class VisiblePortfolioField(serializers.PrimaryKeyRelatedField):
    """A portfolio id the requesting user may trade in; anyone else's is "does not exist"."""

    def to_internal_value(self, data):
        # 1.5 or "1.0" must not quietly mean portfolio 1.
        if isinstance(data, bool) or not (
            isinstance(data, int) or (isinstance(data, str) and data.isascii() and data.isdigit())
        ):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)

    def get_queryset(self):
        request = self.context.get("request")
        return portfolios_visible_to(request.user) if request else Portfolio.objects.none()


class OrderCreateInput(FieldsBuiltOnce, serializers.Serializer):
    portfolio = VisiblePortfolioField()
    instrument = InstrumentSymbolInput()
    side = serializers.ChoiceField(choices=Side.choices)
    quantity = QuantityInput()
    limit_price = PriceInput(required=False, help_text="Leave out for a market order.")
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.MEDIUM)
    start_time = serializers.DateTimeField(required=False, allow_null=True)
    end_time = FutureDateTimeField(required=False, allow_null=True)
    client_order_id = TextInput(
        max_length=64,
        required=False,
        allow_blank=False,
        help_text="Your id for this order, unique per portfolio: sending it again returns the same order.",
    )
    confirm = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Enter the order although it passes a soft (fat-finger) limit; without it such an order is a 400.",
    )

    def validate(self, attrs):
        errors = precision_errors(attrs["instrument"], quantity=attrs["quantity"], limit_price=attrs.get("limit_price"))
        if errors:
            raise serializers.ValidationError(errors)
        start, end = attrs.get("start_time"), attrs.get("end_time")
        if start and end and end <= start:
            raise serializers.ValidationError({"end_time": "End time must be after the start time."})
        return attrs


class OrderAmendInput(serializers.Serializer):
    """New terms for an open order; what is left out stays as it is."""

    quantity = QuantityInput(required=False)
    limit_price = PriceInput(required=False, allow_null=True, help_text="null makes it a market order.")
    confirm = serializers.BooleanField(
        required=False, default=False, help_text="Amend although the new terms pass a soft (fat-finger) limit."
    )

    def validate(self, attrs):
        if "quantity" not in attrs and "limit_price" not in attrs:
            raise serializers.ValidationError({"non_field_errors": ["Give a new quantity or limit price."]})
        errors = precision_errors(
            self.context["order"].instrument, quantity=attrs.get("quantity"), limit_price=attrs.get("limit_price")
        )
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class OrderPreviewInput(OrderCreateInput):
    client_order_id = None
    confirm = None
    start_time = None
    end_time = None


class OrderEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="Null when the system acted."
    )

    class Meta:
        model = OrderEvent
        fields = ["id", "at", "actor", "event", "from_status", "to_status", "reason", "payload"]


class OrderFillSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderFill
        fields = ["fill_id", "quantity", "price", "fee", "venue", "executed_at", "applied", "refused_reason"]


class BuiltOnceRepresentation:
    """A read serializer whose fields are built once per class, not per instance: DRF
    deep-copies and rebuilds every field of a ModelSerializer each time one is made, which
    cost more than the order's own queries on POST /api/orders/ and on every blotter push.
    The output is DRF's own (each field's get_attribute and to_representation); only
    fields that need no context and no request may be read this way."""

    @classmethod
    def _built_fields(cls):
        built = cls.__dict__.get("_built_once")
        if built is None:
            built = [(f.field_name, f.get_attribute, f.to_representation) for f in cls()._readable_fields]
            cls._built_once = built
        return built

    def to_representation(self, instance):
        row = {}
        for name, attribute_of, represent in self._built_fields():
            attribute = attribute_of(instance)
            pk_only = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            row[name] = None if pk_only is None else represent(attribute)
        return row


class OrderSerializer(BuiltOnceRepresentation, serializers.ModelSerializer):
    instrument = serializers.SlugRelatedField(slug_field="symbol", read_only=True)
    portfolio_name = serializers.CharField(source="portfolio.name", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    leaves_quantity = serializers.DecimalField(max_digits=24, decimal_places=8, read_only=True)
    filled_percent = serializers.DecimalField(max_digits=7, decimal_places=2, read_only=True)
    is_cancellable = serializers.BooleanField(read_only=True, help_text="Open, and no cancel asked yet.")

    class Meta:
        model = Order
        fields = [
            "id",
            "portfolio",
            "portfolio_name",
            "instrument",
            "side",
            "quantity",
            "limit_price",
            "urgency",
            "start_time",
            "end_time",
            "status",
            "filled_quantity",
            "leaves_quantity",
            "filled_percent",
            "is_cancellable",
            "average_fill_price",
            "arrival_price",
            "rejection_reasons",
            "client_order_id",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class OrderDetailSerializer(OrderSerializer):
    to_representation = serializers.ModelSerializer.to_representation  # nested lists: DRF's own path

    events = OrderEventSerializer(many=True, read_only=True)
    fills = OrderFillSerializer(many=True, read_only=True)

    class Meta(OrderSerializer.Meta):
        fields = OrderSerializer.Meta.fields + ["events", "fills"]
        read_only_fields = fields


class BreachSerializer(serializers.Serializer):
    rule = serializers.CharField()
    message = serializers.CharField()
    limit = serializers.CharField()
    actual = serializers.CharField()
    soft = serializers.BooleanField(help_text="A soft limit: the order goes in once confirmed.")


class PreviewSerializer(serializers.Serializer):
    passes = serializers.BooleanField(help_text="No breach at all.")
    needs_confirmation = serializers.BooleanField(help_text="Only soft limits are passed: confirm to enter it.")
    breaches = BreachSerializer(many=True)


class PortfolioSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Portfolio
        fields = ["id", "name", "owner", "base_currency", "cash", "borrow_allowed"]


class PositionSerializer(serializers.ModelSerializer):
    instrument = serializers.SlugRelatedField(slug_field="symbol", read_only=True)

    class Meta:
        model = Position
        fields = ["id", "portfolio", "instrument", "quantity", "average_cost", "realised_pnl", "updated_at"]
