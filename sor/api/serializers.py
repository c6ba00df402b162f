from rest_framework import serializers

from marketdata.models import Instrument
from oms.api.serializers import POSITIVE
from oms.models import Side, Urgency
from sor.models import RoutingDecision


class PretradeInput(serializers.Serializer):
    instrument = serializers.SlugRelatedField(slug_field="symbol", queryset=Instrument.objects.filter(is_active=True))
    side = serializers.ChoiceField(choices=Side.choices)
    quantity = serializers.DecimalField(max_digits=24, decimal_places=8, min_value=POSITIVE)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.MEDIUM)
    limit_price = serializers.DecimalField(max_digits=24, decimal_places=8, min_value=POSITIVE, required=False,
                                           allow_null=True)
    end_time = serializers.DateTimeField(required=False, allow_null=True,
                                         help_text="Finish by then; the horizon is the rest of the session without it.")


class RoutingDecisionSerializer(serializers.ModelSerializer):
    instrument = serializers.SlugRelatedField(slug_field="symbol", read_only=True)

    class Meta:
        model = RoutingDecision
        fields = ["id", "kind", "order", "instrument", "strategy", "parameters", "estimated_cost_bps",
                  "estimated_risk_bps", "estimated_cost", "rationale", "rule", "inputs", "cost_breakdown",
                  "allocation", "market_data", "created_at"]
        read_only_fields = fields
