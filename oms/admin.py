from django.contrib import admin

from oms.models import ComplianceRule, Order, OrderEvent, OrderFill, Portfolio, Position


@admin.register(Portfolio)
class PortfolioAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "base_currency", "cash", "borrow_allowed"]
    list_filter = ["owner", "borrow_allowed"]


@admin.register(Position)
class PositionAdmin(admin.ModelAdmin):
    list_display = ["portfolio", "instrument", "quantity", "average_cost", "realised_pnl", "updated_at"]
    list_filter = ["portfolio"]
    readonly_fields = ["quantity", "average_cost", "realised_pnl"]  # positions move only by fills


@admin.register(ComplianceRule)
class ComplianceRuleAdmin(admin.ModelAdmin):
    list_display = ["kind", "name", "portfolio", "instrument", "limit", "enabled"]
    list_filter = ["kind", "enabled"]
    list_editable = ["limit", "enabled"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """The audit trail and the order book of record are read-only in the console."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor", "event", "from_status", "to_status", "reason", "payload"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["id", "portfolio", "instrument", "side", "quantity", "status", "filled_quantity", "created_at"]
    list_filter = ["status", "side", "urgency"]
    search_fields = ["instrument__symbol", "client_order_id"]
    inlines = [OrderEventInline]


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    list_display = ["order", "at", "actor", "event", "from_status", "to_status", "reason"]
    list_filter = ["event", "to_status"]


@admin.register(OrderFill)
class OrderFillAdmin(ReadOnlyAdmin):
    list_display = ["fill_id", "order", "quantity", "price", "venue", "executed_at", "refused_reason"]
    list_filter = ["venue"]
