from django.contrib import admin

from tca.models import ImpactRefit, OrderCounterfactuals, OrderTca


@admin.register(OrderTca)
class OrderTcaAdmin(admin.ModelAdmin):
    list_display = ("order", "strategy", "urgency", "notional", "shortfall_bps", "estimate_bps", "finished_at")
    list_filter = ("strategy", "urgency")
    readonly_fields = [f.name for f in OrderTca._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ImpactRefit)
class ImpactRefitAdmin(admin.ModelAdmin):
    """The impact coefficient's history per instrument, with the orders each refit read."""

    list_display = ("instrument", "at", "previous", "coefficient", "target", "bounded", "order_count")
    list_filter = ("instrument", "bounded")
    readonly_fields = [f.name for f in ImpactRefit._meta.fields]

    @admin.display(description="orders")
    def order_count(self, obj):
        return len(obj.orders)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OrderCounterfactuals)
class OrderCounterfactualsAdmin(admin.ModelAdmin):
    """The EMS backtest's counterfactual rows per order, with the arrival they started from."""

    list_display = ("order", "version", "computed_at")
    readonly_fields = [f.name for f in OrderCounterfactuals._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
