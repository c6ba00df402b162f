from rest_framework import serializers

from marketdata.models import Instrument, OptionRight, Venue


class InstrumentSerializer(serializers.ModelSerializer):
    underlying = serializers.SlugRelatedField(slug_field="symbol", read_only=True, allow_null=True)
    option_right = serializers.ChoiceField(choices=OptionRight.choices, read_only=True, allow_blank=True)
    volatility = serializers.DecimalField(source="daily_volatility", max_digits=10, decimal_places=6, read_only=True)

    class Meta:
        model = Instrument
        fields = [
            "symbol",
            "name",
            "asset_class",
            "currency",
            "tick_size",
            "lot_size",
            "reference_price",
            "multiplier",
            "adv",
            "volatility",
            "daily_volatility",
            "avg_spread_bps",
            "volume_profile",
            "impact_coefficient",
            "underlying",
            "strike",
            "expiry",
            "option_right",
            "analytics_updated_at",
            "calendar",
            "analytics_basis",
        ]
        read_only_fields = fields

    calendar = serializers.CharField(source="calendar_code", read_only=True)


class VenueSerializer(serializers.ModelSerializer):
    class Meta:
        model = Venue
        fields = ["name", "kind", "maker_fee_bps", "taker_fee_bps", "latency_ms", "min_quantity", "enabled"]
        read_only_fields = fields
