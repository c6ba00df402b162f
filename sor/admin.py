from django.contrib import admin

from sor.models import RoutingDecision, SelectionRuleRecord


@admin.register(SelectionRuleRecord)
class SelectionRuleAdmin(admin.ModelAdmin):
    list_display = [
        "priority",
        "name",
        "strategy",
        "enabled",
        "participation_min",
        "participation_max",
        "urgencies",
        "asset_classes",
        "volatility_regimes",
    ]
    list_editable = ["enabled"]
    list_filter = ["strategy", "enabled"]
    fieldsets = [
        (None, {"fields": ["priority", "name", "strategy", "enabled", "rationale", "parameters"]}),
        (
            "Conditions (half-open ranges [min, max); empty means any)",
            {
                "fields": [
                    ("participation_min", "participation_max"),
                    ("spread_bps_min", "spread_bps_max"),
                    ("depth_ratio_min", "depth_ratio_max"),
                    ("time_left_seconds_min", "time_left_seconds_max"),
                    ("limit_distance_bps_min", "limit_distance_bps_max"),
                    ("dark_venues_min", "dark_venues_max"),
                    "volatility_regimes",
                    "urgencies",
                    "asset_classes",
                ]
            },
        ),
    ]


@admin.register(RoutingDecision)
class RoutingDecisionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "order", "instrument", "strategy", "rule", "estimated_cost_bps"]
    list_filter = ["kind", "strategy"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
