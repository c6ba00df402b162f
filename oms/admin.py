from decimal import Decimal

from django import forms
from django.contrib import admin

from core.admin import ReadOnlyAdmin
from oms.domain import compliance
from oms.models import ComplianceRule, Order, OrderEvent, OrderFill, Portfolio, Position


def _shown(value) -> str:
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return "-" if value in (None, "") else str(value)


class OldAndNewHistory:
    """The admin history says what changed from what: "limit: 5 -> 10", not "Changed Limit."."""

    def construct_change_message(self, request, form, formsets, add=False):
        if add or not form.changed_data:
            return super().construct_change_message(request, form, formsets, add)
        changes = []
        for name in form.changed_data:
            field = form.fields[name]
            old = form.initial.get(name)
            if isinstance(field, forms.ModelChoiceField) and old is not None:
                old = field.queryset.filter(pk=old).first() or old
            changes.append(f"{field.label or name}: {_shown(old)} -> {_shown(form.cleaned_data.get(name))}")
        return "Changed " + "; ".join(changes) + "."


# Kinds whose limit is a size above zero (a 0% collar would refuse every limit order).
POSITIVE_LIMIT_KINDS = frozenset(
    {compliance.PRICE_COLLAR, compliance.FAT_FINGER_SOFT, compliance.FAT_FINGER_HARD, compliance.MAX_ORDER_NOTIONAL}
)
LIMITED_KINDS = POSITIVE_LIMIT_KINDS | {compliance.MAX_POSITION}


class ComplianceRuleForm(forms.ModelForm):
    class Meta:
        model = ComplianceRule
        fields = ["kind", "name", "portfolio", "instrument", "limit", "enabled"]

    def clean(self):
        data = super().clean()
        kind, limit = data.get("kind"), data.get("limit")
        if limit is not None and limit < 0:
            self.add_error("limit", "A limit cannot be negative.")
        elif kind in POSITIVE_LIMIT_KINDS and limit is not None and limit <= 0:
            self.add_error("limit", "This rule needs a limit above zero.")
        elif kind in LIMITED_KINDS and limit is None:
            self.add_error("limit", "This rule needs a limit.")
        return data


@admin.register(Portfolio)
class PortfolioAdmin(OldAndNewHistory, admin.ModelAdmin):
    list_display = ["name", "owner", "base_currency", "cash", "borrow_allowed"]
    list_filter = ["owner", "borrow_allowed"]


@admin.register(Position)
class PositionAdmin(admin.ModelAdmin):
    list_display = ["portfolio", "instrument", "quantity", "average_cost", "realised_pnl", "updated_at"]
    list_filter = ["portfolio"]
    readonly_fields = ["quantity", "average_cost", "realised_pnl"]  # positions move only by fills


@admin.register(ComplianceRule)
class ComplianceRuleAdmin(OldAndNewHistory, admin.ModelAdmin):
    form = ComplianceRuleForm
    list_display = ["kind", "name", "portfolio", "instrument", "limit", "enabled"]
    list_filter = ["kind", "enabled"]
    list_editable = ["limit", "enabled"]


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
