from decimal import Decimal

from django.conf import settings
from django.db import models

from core.choices import CashMovementKind, OrderEventType, OrderStatus, ReconciliationCheck, Side, Urgency
from core.fields import MoneyField, PriceField, QuantityField
from core.models import AppendOnlyModel
from marketdata.models import Instrument
from oms.domain import compliance, states


class Portfolio(models.Model):
    name = models.CharField(max_length=80)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="portfolios")
    base_currency = models.CharField(max_length=3, default="USD")
    # Moves only by fills (oms.services.apply_fill) and cash movements (oms.ledger).
    cash = MoneyField(default=Decimal("0"), editable=False)
    borrow_allowed = models.BooleanField(default=False, help_text="May sell short (a borrow is arranged).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="portfolio_unique_name_per_owner")]

    def __str__(self):
        return self.name


class Position(models.Model):
    portfolio = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="positions")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="positions")
    quantity = QuantityField(default=Decimal("0"))
    average_cost = PriceField(default=Decimal("0"))
    realised_pnl = MoneyField(default=Decimal("0"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["portfolio_id", "instrument__symbol"]
        constraints = [models.UniqueConstraint(fields=["portfolio", "instrument"], name="position_unique")]

    def __str__(self):
        return f"{self.portfolio} {self.instrument} {self.quantity}"


class Order(models.Model):
    """The parent order. Its status changes only through the commands of oms.services, each
    applying one event of the state table in oms.domain.states."""

    # Their lookups use the (portfolio|instrument, created_at, id) indexes below.
    portfolio = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="orders", db_index=False)
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="orders", db_index=False)
    side = models.CharField(max_length=4, choices=Side.choices)
    quantity = QuantityField()
    limit_price = PriceField(null=True, blank=True)
    urgency = models.CharField(max_length=6, choices=Urgency.choices, default=Urgency.MEDIUM)
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.NEW)
    # While a cancel is pending: the status a rejected cancel returns to.
    previous_status = models.CharField(max_length=16, choices=OrderStatus.choices, blank=True, editable=False)
    filled_quantity = QuantityField(default=Decimal("0"))
    average_fill_price = PriceField(null=True, blank=True)
    arrival_price = PriceField(null=True, blank=True)
    rejection_reasons = models.JSONField(default=list, blank=True)
    # NULL, not "", when absent: the unique constraint then ignores orders without one.
    client_order_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders_created")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The blotters and GET /api/orders/ read newest first by (created_at, id), a cursor
        # per page (core.api.KeysetPagination), unfiltered or filtered by status, portfolio
        # (a PM's lists) or instrument: one index each, so a page is one index range
        # whatever the history (tests/core/test_query_plans.py checks the plans).
        indexes = [
            models.Index(fields=["created_at", "id"], name="order_newest"),
            models.Index(fields=["status", "created_at", "id"], name="order_status_newest"),
            models.Index(fields=["portfolio", "created_at", "id"], name="order_portfolio_newest"),
            models.Index(fields=["instrument", "created_at", "id"], name="order_instrument_newest"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="order_quantity_positive"),
            models.CheckConstraint(condition=models.Q(filled_quantity__gte=0), name="order_filled_non_negative"),
            models.CheckConstraint(
                condition=models.Q(filled_quantity__lte=models.F("quantity")), name="order_no_overfill"
            ),
            models.UniqueConstraint(fields=["portfolio", "client_order_id"], name="order_unique_client_order_id"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.side} {self.quantity} {self.instrument_id} {self.status}"

    @property
    def is_open(self) -> bool:
        return states.is_open(self.status)

    @property
    def is_cancellable(self) -> bool:
        return states.is_cancellable(self.status)

    @property
    def leaves_quantity(self) -> Decimal:
        return self.quantity - self.filled_quantity

    @property
    def filled_percent(self) -> Decimal:
        return (self.filled_quantity / self.quantity * 100) if self.quantity else Decimal(0)


class OrderEvent(AppendOnlyModel):
    """Append-only audit trail: one row per state change, written in the same transaction."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    at = models.DateTimeField(auto_now_add=True)
    event = models.CharField(max_length=24, choices=OrderEventType.choices)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    reason = models.CharField(max_length=500, blank=True)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        # Time ranges (the audit console, the archive's cutoff) read by time, never the table.
        indexes = [models.Index(fields=["at"], name="orderevent_at")]


class OrderFill(models.Model):
    """An execution reported against a parent order, unique by its fill id so a resent report
    is applied once. An overfill is kept with `refused_reason` for review and never applied."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="fills")
    fill_id = models.CharField(max_length=80, unique=True)
    quantity = QuantityField()
    price = PriceField()
    fee = MoneyField(default=Decimal("0"))
    venue = models.CharField(max_length=32, blank=True)
    executed_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    refused_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0), name="fill_quantity_positive")]
        indexes = [models.Index(fields=["executed_at"], name="orderfill_executed_at")]

    @property
    def applied(self) -> bool:
        return not self.refused_reason


class ComplianceRule(models.Model):
    """One configured pre-trade rule. Scope: a portfolio and/or an instrument, or everything."""

    kind = models.CharField(
        max_length=24, choices=[(k, k.replace("_", " ").title()) for k in compliance.ALL_RULE_KINDS]
    )
    name = models.CharField(max_length=120, blank=True)
    portfolio = models.ForeignKey(Portfolio, null=True, blank=True, on_delete=models.CASCADE, related_name="rules")
    instrument = models.ForeignKey(Instrument, null=True, blank=True, on_delete=models.CASCADE, related_name="rules")
    limit = models.DecimalField(
        max_digits=28,
        decimal_places=8,
        null=True,
        blank=True,
        help_text="Notional for MAX_ORDER_NOTIONAL, units for MAX_POSITION, percent for PRICE_COLLAR.",
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "id"]

    def __str__(self):
        scope = " / ".join(str(s) for s in (self.portfolio, self.instrument) if s) or "all"
        return f"{self.kind} ({scope})"


class CashMovement(AppendOnlyModel):
    """Cash entering or leaving a portfolio other than by a fill: append-only, with who,
    when, why and the balance right after. A correction is a new movement pointing at the
    one it corrects; the original is never touched. Written only by oms.ledger."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="cash_movements")
    kind = models.CharField(max_length=16, choices=CashMovementKind.choices)
    amount = MoneyField(help_text="The change to cash: positive adds, negative takes away.")
    balance_after = MoneyField()
    reason = models.CharField(max_length=500)
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [models.CheckConstraint(condition=~models.Q(amount=0), name="cashmovement_amount_nonzero")]

    def __str__(self):
        return f"{self.kind} {self.amount} ({self.portfolio})"


class HoldingTransfer(AppendOnlyModel):
    """A holding that entered a portfolio other than by a fill (its opening holdings):
    a position is its transfers plus its fills. Append-only, written by oms.services.portfolio_seed."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="holding_transfers")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")
    quantity = QuantityField()
    average_cost = PriceField(default=Decimal("0"))
    reason = models.CharField(max_length=500)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class ReconciliationRun(AppendOnlyModel):
    """One reconciliation of every portfolio (oms.ledger.reconciliation_run), clean or not:
    the last clean run is when the books last reconciled."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(db_index=True)
    trigger = models.CharField(max_length=12, help_text="NIGHTLY (beat) or CONSOLE (an admin asked).")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    portfolios_checked = models.PositiveIntegerField()
    positions_checked = models.PositiveIntegerField()
    orders_checked = models.PositiveIntegerField()
    breaks_found = models.PositiveIntegerField()

    class Meta:
        ordering = ["-finished_at", "-id"]

    @property
    def clean(self) -> bool:
        return self.breaks_found == 0

    def __str__(self):
        return f"run {self.pk} at {self.finished_at:%Y-%m-%d %H:%M:%S} UTC: {self.breaks_found} breaks"


class ReconciliationBreak(AppendOnlyModel):
    """Where a run found the books disagree with their own history."""

    run = models.ForeignKey(ReconciliationRun, on_delete=models.PROTECT, related_name="breaks")
    kind = models.CharField(max_length=16, choices=ReconciliationCheck.choices)
    portfolio = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="+")
    subject = models.CharField(max_length=80, help_text="The instrument, 'cash' or the order.")
    expected = models.DecimalField(max_digits=32, decimal_places=8, help_text="What the history adds up to.")
    actual = models.DecimalField(max_digits=32, decimal_places=8, help_text="What the book says.")

    class Meta:
        ordering = ["run_id", "id"]

    @property
    def difference(self) -> Decimal:
        return self.actual - self.expected


class Package(models.Model):
    """Several parent orders entered as one structure, sized in package units: leg i is an
    order for quantity * ratio_i. Positions, fills and the audit trail stay per order; the
    package links them, was checked by compliance as a whole and is quoted as one net price."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="packages")
    template = models.CharField(max_length=20, blank=True)
    side = models.CharField(max_length=4, choices=Side.choices, help_text="The first leg's side: buying the structure.")
    quantity = QuantityField(help_text="Package units.")
    urgency = models.CharField(max_length=6, choices=Urgency.choices, default=Urgency.MEDIUM)
    allow_leg_work = models.BooleanField(default=False, help_text="The PM lets a trader work a leg alone.")
    rejection_reasons = models.JSONField(default=list, blank=True, help_text="The package-wide breaches.")
    net_premium = MoneyField(default=Decimal("0"))
    net_delta = models.DecimalField(max_digits=28, decimal_places=8, default=Decimal("0"))
    net_vega = MoneyField(default=Decimal("0"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0), name="package_quantity_positive")]

    def __str__(self):
        return f"package #{self.pk} {self.template or 'custom'} {self.quantity}"


class PackageLeg(models.Model):
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="legs")
    index = models.PositiveSmallIntegerField()
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="package_leg")
    ratio = models.DecimalField(max_digits=20, decimal_places=8, help_text="Units of the leg per package unit.")
    is_hedge = models.BooleanField(default=False, help_text="The delta hedge in the underlying.")
    model_price = PriceField(null=True, blank=True, help_text="Model value per unit at entry.")

    class Meta:
        ordering = ["package_id", "index"]
        constraints = [models.UniqueConstraint(fields=["package", "index"], name="package_leg_unique_index")]
