from rest_framework import serializers

from core.api import FutureDateTimeField
from core.choices import Side, Urgency
from oms.api.inputs import FieldsBuiltOnce, InstrumentSymbolInput, PriceInput, QuantityInput, precision_errors
from oms.api.serializers import VisiblePortfolioField
from sor.models import RoutingDecision


class PretradeInput(FieldsBuiltOnce, serializers.Serializer):
    portfolio = VisiblePortfolioField(
        required=False, help_text="The portfolio the order would go into: one you may trade in."
    )
    instrument = InstrumentSymbolInput()
    side = serializers.ChoiceField(choices=Side.choices)
    quantity = QuantityInput()
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.MEDIUM)
    limit_price = PriceInput(required=False, help_text="Leave out for a market order.")
    end_time = FutureDateTimeField(
        required=False, allow_null=True, help_text="Finish by then; the horizon is the rest of the session without it."
    )
    save = serializers.BooleanField(
        default=False,
        help_text="Keep this what-if in the routing decisions (its `id` is then set); not kept by default.",
    )

    def validate(self, attrs):
        errors = precision_errors(attrs["instrument"], quantity=attrs["quantity"], limit_price=attrs.get("limit_price"))
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class WhatIfSaveInput(serializers.Serializer):
    save = serializers.BooleanField(default=False, help_text="Keep this what-if (its `id` is then set).")


class RoutingDecisionSerializer(serializers.ModelSerializer):
    instrument = serializers.SlugRelatedField(slug_field="symbol", read_only=True)
    # null for a what-if answered but not saved
    id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = RoutingDecision
        fields = [
            "id",
            "kind",
            "order",
            "instrument",
            "strategy",
            "parameters",
            "estimated_cost_bps",
            "estimated_risk_bps",
            "estimated_cost",
            "rationale",
            "rule",
            "inputs",
            "cost_breakdown",
            "allocation",
            "market_data",
            "created_at",
        ]
        read_only_fields = fields
