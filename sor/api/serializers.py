from rest_framework import serializers

from core.api import FutureDateTimeField, PriceInput, QuantityInput
from core.choices import Side, Urgency
from marketdata.models import Instrument
from sor.models import RoutingDecision


class PretradeInput(serializers.Serializer):
    instrument = serializers.SlugRelatedField(slug_field="symbol", queryset=Instrument.objects.filter(is_active=True))
    side = serializers.ChoiceField(choices=Side.choices)
    quantity = QuantityInput()
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.MEDIUM)
    limit_price = PriceInput(required=False, allow_null=True)
    end_time = FutureDateTimeField(
        required=False, allow_null=True, help_text="Finish by then; the horizon is the rest of the session without it."
    )


class RoutingDecisionSerializer(serializers.ModelSerializer):
    instrument = serializers.SlugRelatedField(slug_field="symbol", read_only=True)

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
