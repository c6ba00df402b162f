from rest_framework import serializers

from core.api import PriceInput, QuantityInput, StrictDecimalField
from core.vocabulary import RfqExecutionMode
from rfq.services import MAX_WINDOW_SECONDS


class StrictIntegerField(serializers.IntegerField):
    """An integer id or count: 1.5, "1.0" or true must not quietly mean 1."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not (
            isinstance(data, int) or (isinstance(data, str) and data.isascii() and data.isdigit())
        ):
            self.fail("invalid")
        return super().to_internal_value(data)


class RfqCreateInput(serializers.Serializer):
    order = StrictIntegerField(min_value=1, required=False)
    package = StrictIntegerField(min_value=1, required=False, help_text="Quote a package as one net price per unit.")
    execution_mode = serializers.ChoiceField(
        choices=[(m, m) for m in RfqExecutionMode],
        required=False,
        help_text="A package's: ALL_OR_NONE (default) or ANY_PART_OF.",
    )
    min_trade_quantity = QuantityInput(required=False, allow_null=True, help_text="A package's minimum part, in units.")
    quantity = QuantityInput(required=False)
    counterparties = serializers.ListField(
        child=StrictIntegerField(min_value=1), required=False, allow_empty=False, max_length=50
    )
    window_seconds = StrictIntegerField(required=False, min_value=1, max_value=MAX_WINDOW_SECONDS)
    two_way = serializers.BooleanField(required=False, default=False)
    auto_execute_price = PriceInput(required=False, allow_null=True)
    auto_execute_bps = StrictDecimalField(
        max_digits=10, decimal_places=2, required=False, allow_null=True, min_value=-10000, max_value=10000
    )

    def validate(self, attrs):
        if ("order" in attrs) == ("package" in attrs):
            raise serializers.ValidationError({"order": "Give an order or a package (one of them)."})
        if "order" in attrs and ("execution_mode" in attrs or attrs.get("min_trade_quantity") is not None):
            raise serializers.ValidationError({"execution_mode": "Execution modes are for packages."})
        if attrs.get("auto_execute_price") is not None and attrs.get("auto_execute_bps") is not None:
            raise serializers.ValidationError(
                {"auto_execute_bps": "Give a price threshold or a bps threshold, not both."}
            )
        return attrs


class RfqExecuteInput(serializers.Serializer):
    quote = StrictIntegerField(min_value=1)
