"""Executions (the EMS working a parent order), their child orders at venues, the raw
execution reports venues send back, and the append-only audit of every transition.

Statuses change only through ems.services, each applying one event of the tables in
ems.domain.states. An execution works one parent order, or one block (several parent
orders of the same instrument and side worked as one: ems.blocks); fills reach parent
orders only through `ems.services.execution_fill_book`, which allocates a block's."""

from decimal import Decimal

from django.conf import settings
from django.db import models

from core import vocabulary
from core.choices import Side, Strategy, text_choices
from core.fields import MoneyField, PriceField, QuantityField
from core.models import AppendOnlyModel
from ems.algos.base import ChildType as ChildTypeEnum
from ems.domain import states

ExecutionStatus = text_choices(vocabulary.ExecutionStatus)
ExecutionEventType = text_choices(vocabulary.ExecutionEventType)
ChildOrderStatus = text_choices(vocabulary.ChildOrderStatus)
ChildOrderEventType = text_choices(vocabulary.ChildOrderEventType)
ChildType = text_choices(ChildTypeEnum)


class Completion(models.TextChoices):
    """Why an execution is winding down (COMPLETING) and how it will end."""

    NONE = "", "-"
    DONE = "DONE", "Algorithm done"
    FILLED = "FILLED", "Parent filled"
    CANCEL = "CANCEL", "Cancel requested"
    EXPIRE = "EXPIRE", "End time reached"
    KILL = "KILL", "Kill switch"


BlockStatus = text_choices(vocabulary.BlockStatus)
BlockAllocationMode = text_choices(vocabulary.BlockAllocationMode)


class Block(models.Model):
    """Open orders of one instrument and side, from one or several portfolios, worked as one
    by one execution (ems.blocks). Its members keep their own orders (compliance, limit,
    urgency, deadline); every fill of the block is allocated to them (BlockAllocation)."""

    instrument = models.ForeignKey("marketdata.Instrument", on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=4, choices=Side.choices)
    allocation = models.CharField(
        max_length=16, choices=BlockAllocationMode.choices, default=BlockAllocationMode.PRO_RATA
    )
    status = models.CharField(max_length=8, choices=BlockStatus.choices, default=BlockStatus.FORMED)
    # What the block works at: the most conservative of its members' limits (None: all market).
    limit_price = PriceField(null=True, blank=True)
    limit_note = models.CharField(max_length=300, blank=True)
    urgency = models.CharField(max_length=6, default="MEDIUM")  # the most urgent member's
    end_time = models.DateTimeField(null=True, blank=True)  # the earliest member deadline
    # The router's decision on the block's total, with its rationale.
    decision = models.ForeignKey(
        "sor.RoutingDecision", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Fill quantity no member could take (fills after members left for more than was left).
    unallocated_quantity = QuantityField(default=Decimal("0"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"block {self.pk} {self.side} {self.instrument_id} {self.status}"


class BlockMember(models.Model):
    """One order's membership of a block: active until `left_at` (its PM cancelled, the
    trader removed it, it closed). What it was allocated stays its own after it leaves."""

    block = models.ForeignKey(Block, on_delete=models.PROTECT, related_name="members")
    order = models.ForeignKey("oms.Order", on_delete=models.PROTECT, related_name="block_memberships")
    joined_at = models.DateTimeField(auto_now_add=True)
    quantity_at_join = QuantityField()  # the order's remaining quantity when it joined
    allocated_quantity = QuantityField(default=Decimal("0"))  # allocated so far (booked or pending)
    booked_quantity = QuantityField(default=Decimal("0"))  # of which booked to the order (apply_fill)
    left_at = models.DateTimeField(null=True, blank=True)
    left_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(left_at__isnull=True), name="blockmember_one_active_block"
            ),
        ]

    def __str__(self):
        return f"block {self.block_id} member order {self.order_id}"

    @property
    def is_active(self) -> bool:
        return self.left_at is None


class BlockFill(models.Model):
    """One venue fill of a block's execution and how it was allocated: the rule, its inputs
    (each member's remaining quantity, entry time and limit as they were) and what was left."""

    block = models.ForeignKey(Block, on_delete=models.PROTECT, related_name="fills")
    fill_id = models.CharField(max_length=80, unique=True)  # the venue execution id
    quantity = QuantityField()
    price = PriceField()
    fee = MoneyField(default=Decimal("0"))
    venue = models.CharField(max_length=32, blank=True)
    executed_at = models.DateTimeField()
    rule = models.CharField(max_length=40)
    inputs = models.JSONField(default=dict)
    unallocated_quantity = QuantityField(default=Decimal("0"))
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class BlockAllocation(models.Model):
    """A member's share of one block fill. Booked to the member's order through
    oms.services.apply_fill with `fill_id` (derived from the block fill's): at once (pro
    rata), or when the execution ends at the block's average price (`booked_price`)."""

    block_fill = models.ForeignKey(BlockFill, on_delete=models.PROTECT, related_name="allocations")
    member = models.ForeignKey(BlockMember, on_delete=models.PROTECT, related_name="allocations")
    order = models.ForeignKey("oms.Order", on_delete=models.PROTECT, related_name="block_allocations")
    fill_id = models.CharField(max_length=80, unique=True)
    quantity = QuantityField()
    price = PriceField()  # the block fill's price
    fee = MoneyField(default=Decimal("0"))
    booked_price = PriceField(null=True, blank=True)  # the price apply_fill booked
    booked_at = models.DateTimeField(null=True, blank=True)
    applied = models.BooleanField(default=False)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0), name="blockallocation_positive")]


class Execution(models.Model):
    # One parent order, or one block of them (`block`; `order` then null). An RFQ-driven
    # one links its RFQ through its memory.
    order = models.OneToOneField("oms.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="execution")
    block = models.OneToOneField(Block, null=True, blank=True, on_delete=models.PROTECT, related_name="execution")
    strategy = models.CharField(max_length=8, choices=Strategy.choices)
    parameters = models.JSONField(default=dict, blank=True)
    # No index of its own: `execution_due` leads with it. Every tick rewrites the row, and
    # each index is one more entry written per tick.
    status = models.CharField(max_length=12, choices=ExecutionStatus.choices, default=ExecutionStatus.PENDING)
    completion = models.CharField(max_length=8, choices=Completion.choices, blank=True, default="")
    reason = models.CharField(max_length=500, blank=True)  # why it ended / is ending
    decision = models.ForeignKey(
        "sor.RoutingDecision", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The quantity worked (the parent's remaining when started) and the algorithm's clock.
    quantity = QuantityField()
    side = models.CharField(max_length=4, choices=Side.choices)
    limit_price = PriceField(null=True, blank=True)
    arrival_price = PriceField(null=True, blank=True)
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    next_tick_at = models.DateTimeField()  # indexed by `execution_due`
    last_tick_at = models.DateTimeField(null=True, blank=True)
    # When the last tick was due: last_tick_at - last_tick_due_at is its lag behind schedule
    # (what the desk and bench/ems.py watch to know the workers keep up).
    last_tick_due_at = models.DateTimeField(null=True, blank=True)
    tick_count = models.PositiveIntegerField(default=0)
    child_seq = models.PositiveIntegerField(default=0)  # the last child order's sequence number
    filled_quantity = QuantityField(default=Decimal("0"))  # booked to the parent through execution_fill_book
    average_price = PriceField(null=True, blank=True)
    market_volume_at_start = QuantityField(null=True, blank=True)
    memory = models.JSONField(default=dict, blank=True)  # the algorithm's, kept verbatim
    # The market's mid as the ticks saw it, [seconds since start, price]: the execution page's
    # price path, kept with the execution because the market's own history is not stored.
    market_path = models.JSONField(default=list, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_tick_at"], name="execution_due"),
            # GET /api/executions/ newest first, a cursor per page (core.api.KeysetPagination).
            models.Index(fields=["created_at", "id"], name="execution_newest"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(filled_quantity__lte=models.F("quantity")), name="execution_no_overfill"
            ),
            models.CheckConstraint(
                condition=models.Q(order__isnull=False, block__isnull=True)
                | models.Q(order__isnull=True, block__isnull=False),
                name="execution_order_or_block",
            ),
        ]

    def __str__(self):
        if self.block_id is not None:
            return f"execution {self.pk} {self.strategy} block {self.block_id} {self.status}"
        return f"execution {self.pk} {self.strategy} order {self.order_id} {self.status}"

    @property
    def subject(self):
        """What it works: its order, or its block (both have instrument, limit_price, urgency)."""
        return self.block if self.block_id is not None else self.order

    @property
    def is_active(self) -> bool:
        return states.execution_is_active(self.status)


class ExecutionEvent(AppendOnlyModel):
    """Append-only audit: every transition and strategy switch, with who and why."""

    execution = models.ForeignKey(Execution, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    at = models.DateTimeField(auto_now_add=True)
    event = models.CharField(max_length=16, choices=ExecutionEventType.choices)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    reason = models.CharField(max_length=500, blank=True)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]


class ChildOrder(models.Model):
    """One order at one venue. Written NEW by the tick in the same transaction as its
    decision (the outbox), sent after commit; `client_order_id` = `{execution}-{seq}`, so a
    retried tick repeats the same id and the venue refuses it the second time."""

    execution = models.ForeignKey(Execution, on_delete=models.PROTECT, related_name="children")
    seq = models.PositiveIntegerField()
    client_order_id = models.CharField(max_length=40, unique=True)
    symbol = models.CharField(max_length=32)
    venue = models.CharField(max_length=32)
    side = models.CharField(max_length=4, choices=Side.choices)
    child_type = models.CharField(max_length=8, choices=ChildType.choices)
    quantity = QuantityField()
    limit_price = PriceField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=ChildOrderStatus.choices, default=ChildOrderStatus.NEW, db_index=True
    )
    previous_status = models.CharField(max_length=16, blank=True, editable=False)
    filled_quantity = QuantityField(default=Decimal("0"))
    average_price = PriceField(null=True, blank=True)
    fees = MoneyField(default=Decimal("0"))
    reason = models.CharField(max_length=200, blank=True)  # the algorithm's reason, or a rejection
    send_attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["execution", "seq"], name="child_unique_seq"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="child_quantity_positive"),
            models.CheckConstraint(
                condition=models.Q(filled_quantity__lte=models.F("quantity")), name="child_no_overfill"
            ),
        ]

    def __str__(self):
        return f"{self.client_order_id} {self.side} {self.quantity} {self.venue} {self.status}"

    @property
    def is_open(self) -> bool:
        return states.child_is_open(self.status)

    @property
    def open_quantity(self) -> Decimal:
        return self.quantity - self.filled_quantity if self.is_open else Decimal(0)


class ChildOrderEvent(AppendOnlyModel):
    """Append-only audit of child-order transitions."""

    child = models.ForeignKey(ChildOrder, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    event = models.CharField(max_length=16, choices=ChildOrderEventType.choices)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    reason = models.CharField(max_length=200, blank=True)
    report = models.ForeignKey("ExecutionReport", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["id"]


class ExecutionReport(models.Model):
    """A venue's report as received, applied at most once (unique venue execution id)."""

    venue_execution_id = models.CharField(max_length=80, unique=True)
    client_order_id = models.CharField(max_length=40, db_index=True)
    child = models.ForeignKey(ChildOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="reports")
    kind = models.CharField(max_length=12)
    raw = models.JSONField()
    quantity = QuantityField(null=True, blank=True)
    price = PriceField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    applied = models.BooleanField(default=False)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["received_at"], name="executionreport_received_at")]

    def __str__(self):
        return f"{self.venue_execution_id} {self.kind}"


class ExecutionArrival(models.Model):
    """The market as the execution found it when it started, recorded then (ems.arrival) and
    never rewritten: what TCA's counterfactuals start the EMS backtest from.

    The simulator is deterministic, so its state is recorded as what makes it: the seed,
    its parameters, the instrument's and venues' specs as they were, the simulator's clock
    of the published book (`sim_time`), the arrival mid, and the book as published then
    (for the record: the backtest rebuilds its own from the specs). Beside it the router's
    second choice for this order, computed from the decision's stored inputs at the start,
    so the counterfactual replays what the router would have done then."""

    execution = models.OneToOneField(Execution, on_delete=models.PROTECT, related_name="arrival")
    recorded_at = models.DateTimeField()
    feed = models.CharField(max_length=16, help_text="MARKETDATA_FEED's kind: simulator or replay.")
    seed = models.BigIntegerField(help_text="The market simulator's seed (MARKETDATA_SEED).")
    sim_time = models.FloatField(
        null=True, blank=True, help_text="The simulator's clock of the book published at arrival; none without one."
    )
    arrival_mid = PriceField(null=True, blank=True)
    # {params, instruments, venues, dark_fill_rates, book, book_age_seconds, second_choice}
    state = models.JSONField()

    def __str__(self):
        return f"arrival of execution {self.execution_id} at sim time {self.sim_time}"
