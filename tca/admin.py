from django.contrib import admin

from tca.models import OrderTca


@admin.register(OrderTca)
class OrderTcaAdmin(admin.ModelAdmin):
    list_display = ("order", "strategy", "urgency", "notional", "shortfall_bps", "estimate_bps", "finished_at")
    list_filter = ("strategy", "urgency")
    readonly_fields = [f.name for f in OrderTca._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
