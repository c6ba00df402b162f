"""RFQ rows. Statuses change only through rfq.services, each applying one event of the
tables in rfq.domain.states and writing its RfqEvent in the same transaction."""

from decimal import Decimal

from django.conf import settings
from django.db import models

from core.choices import AssetClass, QuoteStatus, RfqExecutionMode, RfqStatus, Side
from core.fields import MoneyField, PriceField, QuantityField
from marketdata.models import Instrument
from oms.models import Order, Package
from rfq.domain import states


class Counterparty(models.Model):
    class Tier(models.IntegerChoices):
        ONE = 1, "Tier 1"
        TWO = 2, "Tier 2"
        THREE = 3, "Tier 3"

    name = models.CharField(max_length=80, unique=True)
    asset_classes = models.JSONField(default=list, help_text=f"Any of {', '.join(AssetClass.values)}.")
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.TWO)
    enabled = models.BooleanField(default=True)
    max_notional = MoneyField(help_text="The largest request it is sent, in the instrument's currency.")
    connection = models.CharField(max_length=40, help_text="A simulated provider profile now; a FIX session later.")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "counterparties"

    def __str__(self):
        return self.name


class CounterpartyChange(models.Model):
    """Append-only: who changed which fields of a counterparty, old and new values."""

    counterparty = models.ForeignKey(Counterparty, on_delete=models.PROTECT, related_name="changes")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=40)
    changes = models.JSONField(default=dict)  # field -> [old, new]

    class Meta:
        ordering = ["id"]


class Rfq(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="rfqs", help_text="The first leg's order.")
    package = models.ForeignKey(Package, null=True, blank=True, on_delete=models.PROTECT, related_name="rfqs")
    quantity = QuantityField(help_text="Package units (for one leg: the instrument's quantity).")
    side = models.CharField(max_length=4, choices=Side.choices, help_text="The client's side (hidden when two-way).")
    two_way = models.BooleanField(default=False)
    execution_mode = models.CharField(
        max_length=12, choices=RfqExecutionMode.choices, default=RfqExecutionMode.ALL_OR_NONE
    )
    min_trade_quantity = QuantityField(null=True, blank=True)
    window_seconds = models.PositiveIntegerField(default=10)
    auto_execute_price = PriceField(null=True, blank=True)
    auto_execute_bps = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    status = models.CharField(max_length=10, choices=RfqStatus.choices, default=RfqStatus.DRAFT, db_index=True)
    mid_at_open = PriceField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    window_ends_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_attempt_rejected = models.BooleanField(default=False)
    # The number of the last ladder push (rfq.push): bumped under this row's lock in the
    # transaction that makes the change, so a snapshot and its number are one read.
    seq = models.PositiveBigIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0), name="rfq_quantity_positive")]

    def __str__(self):
        return f"RFQ #{self.pk} {self.side} {self.quantity} {self.status}"

    @property
    def is_open(self) -> bool:
        return states.is_open(self.status)


class RfqLeg(models.Model):
    rfq = models.ForeignKey(Rfq, on_delete=models.CASCADE, related_name="legs")
    index = models.PositiveSmallIntegerField()
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT)
    side = models.CharField(max_length=4, choices=Side.choices)
    ratio = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal(1))
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="rfq_legs")
    is_hedge = models.BooleanField(default=False, help_text="The delta hedge: outside the net price.")
    model_price = PriceField(null=True, blank=True, help_text="The leg's model value per unit when the RFQ opened.")

    class Meta:
        ordering = ["rfq_id", "index"]
        constraints = [models.UniqueConstraint(fields=["rfq", "index"], name="rfq_leg_unique_index")]


class Invitation(models.Model):
    """One counterparty asked in one RFQ, with the exact message it was sent."""

    rfq = models.ForeignKey(Rfq, on_delete=models.CASCADE, related_name="invitations")
    counterparty = models.ForeignKey(Counterparty, on_delete=models.PROTECT, related_name="invitations")
    token = models.CharField(max_length=40, unique=True, help_text="Opaque request id the provider sees.")
    rank = models.PositiveSmallIntegerField(default=0)
    message = models.JSONField(default=dict, blank=True)
    plan = models.JSONField(default=list, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    passed = models.BooleanField(default=False)
    # Filled when the RFQ closes, for the scorecard.
    won = models.BooleanField(default=False)
    was_best = models.BooleanField(default=False)
    distance_from_best_bps = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    distance_from_mid_bps = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["rfq_id", "rank", "id"]
        constraints = [models.UniqueConstraint(fields=["rfq", "counterparty"], name="invitation_unique")]


class Quote(models.Model):
    """A net price per package unit with a size and a validity. An update is a new quote
    that replaces the provider's live one."""

    rfq = models.ForeignKey(Rfq, on_delete=models.CASCADE, related_name="quotes")
    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="quotes")
    counterparty = models.ForeignKey(Counterparty, on_delete=models.PROTECT, related_name="quotes")
    bid = PriceField(null=True, blank=True)
    ask = PriceField(null=True, blank=True)
    size = QuantityField()
    hedge_price = PriceField(
        null=True, blank=True, help_text="Package: the reference price of the underlying the hedge trades at (taken)."
    )
    received_at = models.DateTimeField()
    valid_until = models.DateTimeField()
    status = models.CharField(max_length=10, choices=QuoteStatus.choices, default=QuoteStatus.LIVE)
    replaces = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by")

    class Meta:
        ordering = ["id"]

    def price_for(self, client_side: str) -> Decimal | None:
        return self.ask if client_side == "BUY" else self.bid


class RfqEvent(models.Model):
    """Append-only audit of every RFQ and quote transition."""

    rfq = models.ForeignKey(Rfq, on_delete=models.CASCADE, related_name="events")
    quote = models.ForeignKey(Quote, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    at = models.DateTimeField()
    event = models.CharField(max_length=32)
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]


class RfqExecution(models.Model):
    """The one execution of an RFQ (unique: an RFQ executes at most once) and its
    best-execution record."""

    rfq = models.OneToOneField(Rfq, on_delete=models.PROTECT, related_name="execution")
    quote = models.OneToOneField(Quote, on_delete=models.PROTECT, related_name="execution")
    price = PriceField()
    quantity = QuantityField()
    executed_at = models.DateTimeField()
    executed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    reason = models.CharField(max_length=300)
    mid = PriceField(null=True, blank=True)
    second_best_price = PriceField(null=True, blank=True)
    improvement_vs_mid_bps = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    improvement_vs_second_bps = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    quotes_record = models.JSONField(default=list, help_text="Every quote of the RFQ with its times and status.")


class RfqExecutionPart(models.Model):
    """One maker's part of an RFQ's execution: the whole size for all-or-none, a part for
    any-part-of (the parts never add up to more than the RFQ's size)."""

    execution = models.ForeignKey(RfqExecution, on_delete=models.PROTECT, related_name="parts")
    quote = models.OneToOneField(Quote, on_delete=models.PROTECT, related_name="part")
    quantity = QuantityField()
    price = PriceField()
    hedge_price = PriceField(null=True, blank=True)
    leg_prices = models.JSONField(default=dict, help_text="Leg index -> the implied price it filled at.")

    class Meta:
        ordering = ["id"]
