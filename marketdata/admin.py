from django.contrib import admin

from marketdata.models import Instrument, SessionStats, Venue


@admin.register(Venue)
class VenueAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "maker_fee_bps",
        "taker_fee_bps",
        "latency_ms",
        "min_quantity",
        "dark_fill_rate",
        "enabled",
    ]
    list_editable = ["enabled"]
    list_filter = ["kind", "enabled"]


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = [
        "symbol",
        "asset_class",
        "reference_price",
        "tick_size",
        "lot_size",
        "adv",
        "daily_volatility",
        "avg_spread_bps",
        "analytics_updated_at",
        "calendar",
        "is_active",
    ]
    list_filter = ["asset_class", "is_active"]
    search_fields = ["symbol", "name"]
    readonly_fields = ["analytics_updated_at", "analytics_basis"]


@admin.register(SessionStats)
class SessionStatsAdmin(admin.ModelAdmin):
    """Read-only: sessions come from the simulator backfill or `manage.py import_marketdata`."""

    list_display = [
        "instrument",
        "session_date",
        "open",
        "close",
        "volume",
        "avg_spread_bps",
        "source",
        "coverage",
        "used_for",
        "origin",
    ]
    list_filter = ["source", "instrument"]
    date_hierarchy = "session_date"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
