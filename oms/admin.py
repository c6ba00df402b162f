"""The OMS in the console. Ledgers cannot be edited here: positions have no add, change or
delete (they move only by fills); cash is read-only on the portfolio and moves only through
new cash movements (oms.ledger), a correction being one more movement. Every change made
here is recorded with its old and new values (core.admin.AuditedAdmin)."""

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from accounts import roles
from core.admin import AuditedAdmin, ReadOnlyAdmin, console_change_record
from core.decimals import currency_places, decimal_places, shown
from core.errors import DomainError
from core.vocabulary import CashMovementKind, ConsoleAction
from oms import ledger
from oms.domain import compliance
from oms.domain import ledger as ledger_rules
from oms.models import (
    CashMovement,
    ComplianceRule,
    HoldingTransfer,
    Order,
    OrderEvent,
    OrderFill,
    Portfolio,
    Position,
    ReconciliationBreak,
    ReconciliationRun,
)


def _money(value, currency: str) -> str:
    return shown(value, currency_places(currency))


def _price(value, instrument) -> str:
    return shown(value, decimal_places(instrument.tick_size)) if value is not None else "–"


def _qty(value, instrument) -> str:
    return shown(value, decimal_places(instrument.lot_size))


def _num(text: str):
    return format_html('<span class="num">{}</span>', text)


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


class PortfolioForm(forms.ModelForm):
    class Meta:
        model = Portfolio
        fields = ["name", "owner", "base_currency", "borrow_allowed"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A portfolio belongs to a portfolio manager.
        owners = self.fields["owner"].queryset.filter(groups__name=roles.PM, is_active=True).distinct()
        self.fields["owner"].queryset = owners


@admin.register(Portfolio)
class PortfolioAdmin(AuditedAdmin):
    form = PortfolioForm
    list_display = ["name", "owner", "base_currency", "cash_shown", "borrow_allowed"]
    list_filter = ["owner", "borrow_allowed"]
    search_fields = ["name", "owner__username"]
    readonly_fields = ["cash_shown", "movements"]

    def has_delete_permission(self, request, obj=None):
        return False  # orders, fills and movements refer to it

    @admin.display(description="cash", ordering="cash")
    def cash_shown(self, obj):
        return _num(_money(obj.cash, obj.base_currency))

    @admin.display(description="cash movements (newest first)")
    def movements(self, obj):
        # Shown, not a formset: a movement is added on its own page and never edited here.
        rows = [
            (
                m.pk,
                m.at.strftime("%Y-%m-%d %H:%M:%S UTC"),
                m.get_kind_display(),
                _money(m.amount, obj.base_currency),
                _money(m.balance_after, obj.base_currency),
                m.reason,
                f"#{m.corrects_id}" if m.corrects_id else "",
                m.actor.get_username() if m.actor else "system",
            )
            for m in obj.cash_movements.select_related("actor")[:50]
        ]
        add = reverse("admin:oms_cashmovement_add") + f"?portfolio={obj.pk}"
        link = format_html('<p><a class="addlink" href="{}">Add a cash movement</a></p>', add)
        if not rows:
            return format_html("{}<p>No cash movements.</p>", link)
        head = "".join(
            f"<th>{h}</th>" for h in ("#", "at", "kind", "amount", "balance after", "reason", "corrects", "by")
        )
        body = format_html_join(
            "",
            '<tr><td>{}</td><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td>'
            "<td>{}</td><td>{}</td><td>{}</td></tr>",
            rows,
        )
        return format_html('{}<table class="cash-movements"><tr>{}</tr>{}</table>', link, mark_safe(head), body)


@admin.register(Position)
class PositionAdmin(ReadOnlyAdmin):
    """Positions move only by fills: no add, change or delete here (nor in the API)."""

    list_display = ["portfolio", "instrument", "quantity_shown", "average_cost_shown", "pnl_shown", "updated_at"]
    list_filter = ["portfolio"]
    list_select_related = ["portfolio", "instrument"]

    @admin.display(description="quantity", ordering="quantity")
    def quantity_shown(self, obj):
        return _num(_qty(obj.quantity, obj.instrument))

    @admin.display(description="average cost")
    def average_cost_shown(self, obj):
        return _num(_price(obj.average_cost, obj.instrument))

    @admin.display(description="realised P&L")
    def pnl_shown(self, obj):
        return _num(_money(obj.realised_pnl, obj.instrument.currency))


class CashMovementForm(forms.ModelForm):
    """A new movement: the amount as people say it (a withdrawal of 500 takes 500 away)."""

    amount = forms.DecimalField(
        max_digits=28,
        decimal_places=4,
        help_text="Deposits and withdrawals: the size (positive). Fee adjustments and corrections: "
        "signed, what it does to cash.",
    )

    class Meta:
        model = CashMovement
        fields = ["portfolio", "kind", "amount", "reason", "corrects"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [
            (k, label) for k, label in self.fields["kind"].choices if k != CashMovementKind.OPENING
        ]
        self.fields["reason"].widget = forms.Textarea(attrs={"rows": 2})

    def clean(self):
        data = super().clean()
        kind, amount, corrects = data.get("kind"), data.get("amount"), data.get("corrects")
        if kind and amount is not None and not ledger_rules.SIGN_RULES[CashMovementKind(kind)](self.signed_amount()):
            self.add_error("amount", "This amount has the wrong sign for the kind of movement.")
        if kind == CashMovementKind.CORRECTION and corrects is None:
            self.add_error("corrects", "A correction names the movement it corrects.")
        if kind != CashMovementKind.CORRECTION and corrects is not None:
            self.add_error("corrects", "Only a correction corrects another movement.")
        if corrects is not None and data.get("portfolio") and corrects.portfolio_id != data["portfolio"].pk:
            self.add_error("corrects", "That movement belongs to another portfolio.")
        return data

    def signed_amount(self) -> Decimal:
        amount = self.cleaned_data["amount"]
        kind = self.cleaned_data["kind"]
        if kind == CashMovementKind.WITHDRAWAL:
            return -abs(amount)
        if kind == CashMovementKind.DEPOSIT:
            return abs(amount)
        return amount


@admin.register(CashMovement)
class CashMovementAdmin(admin.ModelAdmin):
    """Append-only: a movement is added (through oms.ledger), never changed or deleted."""

    form = CashMovementForm
    list_display = ["at", "portfolio", "kind", "amount_shown", "balance_shown", "reason", "corrects", "actor"]
    list_filter = ["kind", "portfolio"]
    search_fields = ["reason", "portfolio__name", "actor__username"]
    list_select_related = ["portfolio", "actor", "corrects"]
    date_hierarchy = "at"

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            movement = ledger.cash_movement_record(
                actor=request.user,
                portfolio_id=form.cleaned_data["portfolio"].pk,
                kind=form.cleaned_data["kind"],
                amount=form.signed_amount(),
                reason=form.cleaned_data["reason"],
                corrects_id=form.cleaned_data["corrects"].pk if form.cleaned_data.get("corrects") else None,
            )
        except DomainError as exc:  # the form checked the same rules; a race can still refuse
            raise ValidationError(str(exc)) from exc
        obj.pk = movement.pk
        console_change_record(
            actor=request.user,
            action=ConsoleAction.ADD,
            obj=movement,
            changes={"amount": ["-", str(movement.amount)], "balance after": ["-", str(movement.balance_after)]},
        )

    def save_related(self, request, form, formsets, change):
        pass  # nothing related; the movement was written by the ledger

    @admin.display(description="amount", ordering="amount")
    def amount_shown(self, obj):
        return _num(_money(obj.amount, obj.portfolio.base_currency))

    @admin.display(description="balance after")
    def balance_shown(self, obj):
        return _num(_money(obj.balance_after, obj.portfolio.base_currency))


@admin.register(HoldingTransfer)
class HoldingTransferAdmin(ReadOnlyAdmin):
    list_display = ["at", "portfolio", "instrument", "quantity", "average_cost", "reason"]
    list_filter = ["portfolio"]


@admin.register(ComplianceRule)
class ComplianceRuleAdmin(AuditedAdmin):
    form = ComplianceRuleForm
    list_display = ["kind", "name", "portfolio", "instrument", "limit", "enabled"]
    list_filter = ["kind", "enabled"]
    list_editable = ["limit", "enabled"]
    search_fields = ["name", "kind"]


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor", "event", "from_status", "to_status", "reason", "payload"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["id", "portfolio", "instrument", "side", "quantity_shown", "status", "filled_shown", "created_at"]
    list_filter = ["status", "side", "urgency"]
    search_fields = ["instrument__symbol", "client_order_id"]
    list_select_related = ["portfolio", "instrument"]
    inlines = [OrderEventInline]

    @admin.display(description="quantity", ordering="quantity")
    def quantity_shown(self, obj):
        return _num(_qty(obj.quantity, obj.instrument))

    @admin.display(description="filled", ordering="filled_quantity")
    def filled_shown(self, obj):
        return _num(_qty(obj.filled_quantity, obj.instrument))


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    list_display = ["order", "at", "actor", "event", "from_status", "to_status", "reason"]
    list_filter = ["event", "to_status"]


@admin.register(OrderFill)
class OrderFillAdmin(ReadOnlyAdmin):
    list_display = ["fill_id", "order", "quantity_shown", "price_shown", "venue", "executed_at", "refused_reason"]
    list_filter = ["venue"]
    list_select_related = ["order__instrument"]

    @admin.display(description="quantity")
    def quantity_shown(self, obj):
        return _num(_qty(obj.quantity, obj.order.instrument))

    @admin.display(description="price")
    def price_shown(self, obj):
        return _num(_price(obj.price, obj.order.instrument))


class ReconciliationBreakInline(admin.TabularInline):
    model = ReconciliationBreak
    extra = 0
    can_delete = False
    fields = ["kind", "portfolio", "subject", "expected", "actual"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    list_display = ["finished_at", "trigger", "actor", "portfolios_checked", "positions_checked", "breaks_found"]
    list_filter = ["trigger"]
    inlines = [ReconciliationBreakInline]
