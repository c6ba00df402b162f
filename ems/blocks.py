"""Blocks: open orders of one instrument and side, from one or several portfolios, worked as
one by one execution, every fill allocated back to the members.

- `block_form` takes the compatible orders (same instrument and side, open, not worked
  elsewhere, limits within ems.conf.block_limit_collar_bps of each other) and refuses the
  others with the reason; the router decides on the block's total (sor.services.routing_decide)
  and its decision and rationale are stored with the block.
- `block_execution_start` starts the one execution that works it (Execution.block); the EMS's
  tick and report paths work it as they work an order, with three hooks into this module:
  `block_follow` (members leaving and joining, the execution resized), `block_fill_allocate`
  (from ems.services.execution_fill_book) and `block_close` (the members closed at the end).
- Allocation is the pure rule of ems.domain.allocation. Pro rata: each fill is allocated as
  it arrives and booked at once through oms.services.apply_fill; average price: the fills
  are allocated the same way as they arrive (so leaving and joining work the same), and
  booked when the execution ends, every member at the block's average price. Each booking's
  fill id is the block fill's venue execution id and the member's order id.

Locks (core.locks.LOCK_ORDER): the execution, then the block, then the member orders. While
a block works, its members and allocations change only under its execution's row lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core import metrics
from core.decimals import money
from core.decimals import price as round_price
from core.errors import Conflict, NotFound
from core.locks import lock_all, lock_one
from core.vocabulary import BlockAllocationMode, BlockEventType, BlockStatus, OrderStatus, Strategy, Urgency
from ems import algos, conf, push
from ems import services as ems
from ems.domain import allocation, states
from ems.models import Block, BlockAllocation, BlockFill, BlockMember, Completion, Execution, ExecutionEvent
from marketdata.selectors import latest_snapshot, mid_price
from oms import services as oms
from oms.models import Order
from sor.models import DecisionKind
from sor.services import routing_decide

E = states.E
JOINABLE_ORDER_STATUSES = frozenset({OrderStatus.ACCEPTED, OrderStatus.WORKING, OrderStatus.PARTIALLY_FILLED})
CLOSED_ORDER_STATUSES = ems.CLOSED_ORDER_STATUSES
URGENCY_RANK = {Urgency.LOW: 0, Urgency.MEDIUM: 1, Urgency.HIGH: 2}


@dataclass(frozen=True)
class Refusal:
    order: int
    reason: str


@dataclass
class Formed:
    block: Block
    refused: list[Refusal]


# --------------------------------------------------------------------------- reads


def active_members(block: Block) -> list[BlockMember]:
    return list(block.members.filter(left_at__isnull=True).order_by("pk"))


def _remaining(block: Block, member: BlockMember, order: Order) -> Decimal:
    """What a member may still be allocated: its order's leaves, less what was allocated to
    it and is still waiting to be booked (average-price blocks book at the end)."""
    pending = member.allocated_quantity - member.booked_quantity
    return max(order.quantity - order.filled_quantity - pending, Decimal(0))


def _in_active_block(order_ids) -> set[int]:
    members = BlockMember.objects.filter(order_id__in=list(order_ids), left_at__isnull=True)
    return set(members.values_list("order_id", flat=True))


# --------------------------------------------------------------------------- forming and joining


def _screen(block_side: str, instrument_id: int, orders: list[Order], limits: list) -> tuple[list, list[Refusal]]:
    """The orders that may join (in entry order) and the refused ones with why."""
    worked = set(Execution.objects.filter(order_id__in=[o.pk for o in orders]).values_list("order_id", flat=True))
    blocked = _in_active_block(o.pk for o in orders)
    taken, refused = [], []
    limits = list(limits)
    collar = conf.block_limit_collar_bps()
    for order in sorted(orders, key=lambda o: (o.created_at, o.pk)):
        reason = ""
        if order.instrument_id != instrument_id:
            reason = f"instrument {order.instrument.symbol} is not the block's"
        elif order.side != block_side:
            reason = f"side {order.side} is not the block's"
        elif order.status not in JOINABLE_ORDER_STATUSES:
            reason = f"order is {order.status}: only an accepted or working order can join"
        elif order.pk in worked:
            reason = "order already has its own execution"
        elif order.pk in blocked:
            reason = "order is already in a block"
        elif order.quantity - order.filled_quantity < order.instrument.lot_size:
            reason = "nothing left to fill"
        else:
            reason = allocation.limit_refusal(order.side, order.limit_price, limits, collar)
        if reason:
            refused.append(Refusal(order.pk, reason))
            continue
        taken.append(order)
        limits.append(order.limit_price)
    return taken, refused


def _limit_note(side: str, limit: Decimal | None, limits: list) -> str:
    if limit is None:
        return "every member is a market order: the block works at market"
    markets = sum(1 for x in limits if x is None)
    text = f"works at {limit}, the most conservative of its members' limits"
    if markets:
        text += f" ({markets} market order{'s' if markets > 1 else ''} among them take that limit too)"
    return text


def _terms(block: Block, orders: list[Order]) -> None:
    """The block's limit, urgency and deadline from its active members' orders."""
    limits = [o.limit_price for o in orders]
    block.limit_price = allocation.most_conservative_limit(block.side, limits)
    block.limit_note = _limit_note(block.side, block.limit_price, limits)[:300]
    block.urgency = max((o.urgency for o in orders), key=lambda u: URGENCY_RANK.get(u, 1), default=Urgency.MEDIUM)
    ends = [o.end_time for o in orders if o.end_time is not None]
    block.end_time = min(ends) if ends else None


def _decide(block: Block, orders: list[Order], actor):
    """The router on the block's total (RFQ excluded: an RFQ trades one order)."""
    total = sum((o.quantity - o.filled_quantity for o in orders), Decimal(0))
    return routing_decide(
        kind=DecisionKind.RECOMMENDATION,
        instrument=block.instrument,
        side=block.side,
        quantity=total,
        urgency=block.urgency,
        limit_price=block.limit_price,
        end_time=block.end_time,
        actor=actor,
        excluding=frozenset({Strategy.RFQ}),
    )


@transaction.atomic
def block_form(*, actor, order_ids: list[int], allocation_mode: str = BlockAllocationMode.PRO_RATA) -> Formed:
    """Form a block of the compatible orders among `order_ids` (at least two); the others are
    refused with the reason. The first order (by entry time) sets instrument and side."""
    ids = sorted(set(order_ids))
    orders = lock_all(Order.objects.filter(pk__in=ids).select_related("instrument"))
    missing = sorted(set(ids) - {o.pk for o in orders})
    if missing:
        raise NotFound(f"order {missing[0]} does not exist")
    if not orders:
        raise Conflict("a block needs orders")
    first = min(orders, key=lambda o: (o.created_at, o.pk))
    taken, refused = _screen(first.side, first.instrument_id, orders, [])
    if len(taken) < 2:
        why = "; ".join(f"order {r.order}: {r.reason}" for r in refused) or "only one order"
        raise Conflict(f"a block needs at least two compatible orders ({why})")
    block = Block(
        instrument=first.instrument, side=first.side, allocation=BlockAllocationMode(allocation_mode), created_by=actor
    )
    _terms(block, taken)
    block.decision = _decide(block, taken, actor)
    block.save()
    BlockMember.objects.bulk_create(
        BlockMember(block=block, order=o, quantity_at_join=o.quantity - o.filled_quantity) for o in taken
    )
    return Formed(block, refused)


def _lock_block(block_id: int) -> tuple[Execution | None, Block]:
    """The block's execution (if any) and the block, locked in LOCK_ORDER."""
    execution_id = Execution.objects.filter(block_id=block_id).values_list("pk", flat=True).first()
    execution = lock_one(Execution, execution_id, what="execution") if execution_id else None
    block = lock_one(Block, block_id, what="block", related=("instrument",))
    return execution, block


@transaction.atomic
def block_members_add(*, actor, block_id: int, order_ids: list[int]) -> Formed:
    """New orders join a block, formed or working (a working block's execution takes their
    quantity at its next tick). Incompatible ones are refused with the reason."""
    execution, block = _lock_block(block_id)
    if block.status == BlockStatus.CLOSED or (execution is not None and execution.status == states.COMPLETING):
        raise Conflict(f"block {block.pk} is closing: no order can join it")
    members = active_members(block)
    orders = lock_all(Order.objects.filter(pk__in={*order_ids, *(m.order_id for m in members)}))
    by_id = {o.pk: o for o in orders}
    missing = sorted(set(order_ids) - set(by_id))
    if missing:
        raise NotFound(f"order {missing[0]} does not exist")
    current = [by_id[m.order_id] for m in members]
    candidates = [by_id[i] for i in sorted(set(order_ids)) if i not in {m.order_id for m in members}]
    taken, refused = _screen(block.side, block.instrument_id, candidates, [o.limit_price for o in current])
    for order in taken:
        BlockMember.objects.create(block=block, order=order, quantity_at_join=order.quantity - order.filled_quantity)
        if execution is not None:
            oms.order_work(order_id=order.pk, actor=actor, payload={"execution": execution.pk, "block": block.pk})
    if taken:
        _terms(block, current + taken)
        block.save(update_fields=["limit_price", "limit_note", "urgency", "end_time", "updated_at"])
    if taken and execution is not None:
        # The execution takes their quantity at once (a fill may come before the next tick);
        # its next tick follows the new limit and the schedule.
        added = sum((o.quantity - o.filled_quantity for o in taken), Decimal(0))
        before = execution.quantity
        execution.quantity = before + added
        execution.next_tick_at = timezone.now()
        ems._transition(
            execution,
            E.AMEND,
            actor=actor,
            reason=f"{len(taken)} order(s) joined the block: quantity {before} -> {execution.quantity}",
            payload={"joined": [o.pk for o in taken], "quantity": {"old": str(before), "new": str(execution.quantity)}},
            also=("quantity", "next_tick_at"),
        )
    return Formed(block, refused)


@transaction.atomic
def block_member_remove(*, actor, block_id: int, order_id: int, reason: str = "removed by the trader") -> BlockMember:
    """The trader takes an order out of a block: its unfilled remainder leaves the block (the
    order stays open, to be worked on its own); what it was allocated stays its own."""
    execution, block = _lock_block(block_id)
    member = block.members.filter(order_id=order_id, left_at__isnull=True).first()
    if member is None:
        raise NotFound(f"order {order_id} is not in block {block.pk}")
    lock_one(Order, order_id, what="order")
    if block.allocation == BlockAllocationMode.AVERAGE_PRICE and member.allocated_quantity > member.booked_quantity:
        raise Conflict("its allocation waits for the block's average price: it can leave when the execution ends")
    _leave(member, reason)
    if execution is not None:
        Execution.objects.filter(pk=execution.pk).update(next_tick_at=timezone.now())
    return member


def _leave(member: BlockMember, reason: str) -> None:
    member.left_at = timezone.now()
    member.left_reason = reason[:300]
    member.save(update_fields=["left_at", "left_reason"])


# --------------------------------------------------------------------------- starting


@transaction.atomic
def block_execution_start(
    *, actor, block_id: int, strategy: str | None = None, parameters: dict | None = None, now: datetime | None = None
) -> Execution:
    """Start the one execution that works the block: the router's decision on its total, or
    the trader's override. Idempotent per block."""
    now = now or timezone.now()
    existing, block = _lock_block(block_id)
    if existing is not None:
        return existing
    if block.status != BlockStatus.FORMED:
        raise Conflict(f"block {block.pk} is {block.status}")
    members = active_members(block)
    orders = {o.pk: o for o in lock_all(Order.objects.filter(pk__in=[m.order_id for m in members]))}
    for member in members:
        order = orders[member.order_id]
        if order.status not in JOINABLE_ORDER_STATUSES:
            _leave(member, f"order {order.status.lower()} before the block started")
    members = [m for m in members if m.left_at is None]
    if not members:
        raise Conflict(f"block {block.pk} has no open member left")
    live = [orders[m.order_id] for m in members]
    _terms(block, live)
    quantity = sum((_remaining(block, m, orders[m.order_id]) for m in members), Decimal(0))
    decision = block.decision
    if decision is None or Decimal(str(decision.inputs.get("quantity", quantity))) != quantity:
        decision = _decide(block, live, actor)  # the members changed since it was formed
    chosen = Strategy(strategy) if strategy else Strategy(decision.strategy)
    if chosen not in algos.ALGORITHMS:
        raise Conflict(f"no execution algorithm for {chosen} on a block")
    base = dict(decision.parameters) if chosen == Strategy(decision.strategy) else {}
    merged = {**base, **(parameters or {})}
    horizon = merged.get("horizon_seconds")
    if block.end_time is not None:
        end_at = block.end_time
    else:
        end_at = now + timedelta(seconds=float(horizon) if horizon else conf.default_horizon_seconds())
    snapshot = latest_snapshot(block.instrument.symbol)
    volume = Decimal(snapshot["volume"]) if snapshot and snapshot.get("volume") else None
    block.decision = decision
    block.status = states.apply_block(block.status, BlockEventType.WORK)
    block.save()
    execution = Execution.objects.create(
        block=block,
        strategy=chosen,
        parameters=merged,
        quantity=quantity,
        side=block.side,
        limit_price=block.limit_price,
        arrival_price=mid_price(block.instrument),
        start_at=now,
        end_at=end_at,
        next_tick_at=now,
        decision=decision,
        market_volume_at_start=volume,
        started_by=actor,
    )
    metrics.execution_started(execution)
    ExecutionEvent.objects.create(
        execution=execution,
        actor=actor,
        event=E.START,
        from_status="",
        to_status=execution.status,
        reason=f"block {block.pk} of {len(members)} orders",
        payload={"decision": decision.pk, "block": block.pk, "members": [m.order_id for m in members]},
    )
    overridden = chosen != Strategy(decision.strategy) or bool(parameters)
    ems._transition(
        execution,
        E.START,
        actor=actor,
        reason=(
            f"trader override: {chosen} (router recommended {decision.strategy} for the block's {quantity})"
            if overridden
            else f"router recommendation for the block's {quantity}: {chosen}"
        ),
        payload={
            "decision": decision.pk,
            "recommended": decision.strategy,
            "strategy": chosen,
            "parameters": merged,
            "rationale": decision.rationale,
            "limit": block.limit_note,
        },
    )
    for member in members:
        oms.order_work(order_id=member.order_id, actor=actor, payload={"execution": execution.pk, "block": block.pk})
    ems._schedule_tick(execution.pk)
    return execution


# --------------------------------------------------------------------------- the EMS's hooks


def member_order_ids(executions) -> set[int]:
    """The orders of the active members of the block executions among `executions` (for the
    tick batch to lock with the others), reading their blocks and members once. No query
    when none is a block's."""
    blocks = [e for e in executions if e.block_id is not None]
    if not blocks:
        return set()
    members: dict[int, list[BlockMember]] = {e.block_id: [] for e in blocks}
    for member in BlockMember.objects.filter(block_id__in=list(members), left_at__isnull=True).order_by("pk"):
        members[member.block_id].append(member)
    rows = {b.pk: b for b in Block.objects.filter(pk__in=list(members)).select_related("instrument")}
    for execution in blocks:
        block = rows[execution.block_id]
        block.active = members[block.pk]
        execution.block = block
    return {m.order_id for ms in members.values() for m in ms}


def subject(execution: Execution, orders: dict[int, Order]) -> Block:
    """The block a tick batch works, with its members' orders (locked by the batch)."""
    block = execution.block
    block.orders = {m.order_id: orders[m.order_id] for m in block.active}
    return block


def block_lock(execution: Execution) -> Block:
    """The block of a locked execution, with its active members and their orders locked (a
    tick, a report, a control). The execution's lock guards the members and allocations."""
    block = Block.objects.select_related("instrument").get(pk=execution.block_id)
    block.active = active_members(block)
    block.orders = {
        o.pk: o
        for o in lock_all(
            Order.objects.filter(pk__in=[m.order_id for m in block.active]).select_related("instrument", "portfolio")
        )
    }
    execution.block = block
    return block


def block_follow(execution: Execution, block: Block, children, outbox, now: datetime) -> None:
    """The block's side of a tick (the order lifecycle's for one order): members whose order
    was cancelled or closed leave, the execution takes the members' total and strictest
    limit (cancelling the children the new terms no longer allow), and it winds down when
    nothing is left or its end time is reached."""
    for member in list(block.active):
        order = block.orders[member.order_id]
        pending = member.allocated_quantity > member.booked_quantity
        if order.status == OrderStatus.CANCEL_PENDING:
            _leave(member, "cancel requested on the order")  # the wall clock, under the lock: after every fill it saw
            if not pending:  # nothing of it is out: the block's children are the block's
                oms.order_cancel_confirm(
                    order_id=order.pk, reason="left the block", payload={"execution": execution.pk, "block": block.pk}
                )
        elif order.status in CLOSED_ORDER_STATUSES and order.status != OrderStatus.FILLED:
            _leave(member, f"order {order.status.lower()}")  # a filled member stays, with nothing left
        else:
            continue
        block.active.remove(member)
    left = sum((_remaining(block, m, block.orders[m.order_id]) for m in block.active), Decimal(0))
    quantity = execution.filled_quantity + left
    live_orders = [block.orders[m.order_id] for m in block.active]
    if live_orders:
        _terms(block, live_orders)
    if (quantity, block.limit_price) != (execution.quantity, execution.limit_price):
        _resize(execution, block, quantity, children, outbox)
    if not block.active:
        ems._begin_completion(execution, Completion.CANCEL, "every member left the block")
    elif left == 0:
        ems._begin_completion(execution, Completion.FILLED, "every member filled")
    elif now >= execution.end_at:
        ems._begin_completion(execution, Completion.EXPIRE, f"end time reached: {ems._unfilled(execution)}")


def _resize(execution: Execution, block: Block, quantity: Decimal, children, outbox) -> None:
    terms = {
        "quantity": {"old": str(execution.quantity), "new": str(quantity)},
        "limit_price": {
            "old": None if execution.limit_price is None else str(execution.limit_price),
            "new": None if block.limit_price is None else str(block.limit_price),
        },
        "members": [m.order_id for m in block.active],
    }
    execution.quantity, execution.limit_price = quantity, block.limit_price
    block.save(update_fields=["limit_price", "limit_note", "urgency", "end_time", "updated_at"])
    ems._transition(
        execution,
        E.AMEND,
        reason=f"block resized: quantity {terms['quantity']['old']} -> {terms['quantity']['new']}, "
        f"limit {terms['limit_price']['old'] or 'market'} -> {terms['limit_price']['new'] or 'market'}",
        payload=terms,
        also=("quantity", "limit_price"),
    )
    live = sorted((c for c in children if c.status != states.CANCEL_PENDING), key=lambda c: c.seq, reverse=True)
    out = sum((c.open_quantity for c in live), Decimal(0))
    left = quantity - execution.filled_quantity
    for child in live:
        unpriced_under_limit = child.limit_price is None and block.limit_price is not None
        if ems._crosses_limit(execution.side, block.limit_price, child.limit_price) or unpriced_under_limit:
            ems._child_cancel(child, "block resized: outside the new limit", outbox)
        elif out > left:
            ems._child_cancel(child, "block resized: more out than is left to do", outbox)
        else:
            continue
        out -= child.open_quantity


def _split_fee(fee: Decimal, quantity: Decimal, shares) -> dict[int, Decimal]:
    """Each share's part of the fee, in proportion to quantity, summing exactly to the fee's
    allocated part (the remainder of the rounding to the largest share, ties the first)."""
    if not shares or fee == 0:
        return {s.key: Decimal(0) for s in shares}
    allocated = sum((s.quantity for s in shares), Decimal(0))
    total = money(fee * allocated / quantity)
    parts = {s.key: money(total * s.quantity / allocated) for s in shares}
    largest = max(shares, key=lambda s: (s.quantity, -s.key)).key
    parts[largest] += total - sum(parts.values(), Decimal(0))
    return parts


def block_fill_allocate(
    *,
    execution: Execution,
    block: Block,
    fill_id: str,
    quantity: Decimal,
    price: Decimal,
    fee: Decimal,
    venue: str,
    executed_at: datetime,
) -> bool:
    """One venue fill of a block, allocated across its active members by the pure rule (ems.
    domain.allocation) with the rule and its inputs recorded, each share booked to its
    member through apply_fill with fill id `{fill_id}/{order id}` (pro rata) or kept for the
    end (average price). Called with the execution and the members' orders locked."""
    if BlockFill.objects.filter(fill_id=fill_id).exists():
        return True
    members = {m.pk: m for m in block.active}
    inputs = [
        allocation.Member(
            key=m.pk,
            remaining=_remaining(block, m, block.orders[m.order_id]),
            entered_at=block.orders[m.order_id].created_at.timestamp(),
            limit_price=block.orders[m.order_id].limit_price,
        )
        for m in block.active
    ]
    result = allocation.pro_rata(
        quantity=quantity, price=price, side=block.side, lot=block.instrument.lot_size, members=inputs
    )
    record = BlockFill.objects.create(
        block=block,
        fill_id=fill_id,
        quantity=quantity,
        price=price,
        fee=fee,
        venue=venue,
        executed_at=executed_at,
        rule=result.rule,
        inputs={
            "rule": allocation.RULE_TEXT,
            "lot": str(block.instrument.lot_size),
            "members": [
                {
                    "member": m.key,
                    "order": members[m.key].order_id,
                    "remaining": str(m.remaining),
                    "entered_at": m.entered_at,
                    "limit_price": None if m.limit_price is None else str(m.limit_price),
                }
                for m in inputs
            ],
            "ideal_lots": {str(s.key): f"{s.ideal.numerator}/{s.ideal.denominator}" for s in result.shares},
        },
        unallocated_quantity=result.unallocated,
    )
    if result.unallocated:
        block.unallocated_quantity += result.unallocated
        Block.objects.filter(pk=block.pk).update(unallocated_quantity=block.unallocated_quantity)
    fees = _split_fee(fee, quantity, result.shares)
    booked_now = block.allocation == BlockAllocationMode.PRO_RATA
    allocated = Decimal(0)
    for share in result.shares:
        member = members[share.key]
        row = BlockAllocation.objects.create(
            block_fill=record,
            member=member,
            order_id=member.order_id,
            fill_id=f"{fill_id}/{member.order_id}"[:80],
            quantity=share.quantity,
            price=price,
            fee=fees[share.key],
        )
        member.allocated_quantity += share.quantity
        if booked_now:
            _book(row, member, price, executed_at, venue)
        member.save(update_fields=["allocated_quantity", "booked_quantity"])
        allocated += share.quantity
    if allocated:
        before = execution.filled_quantity
        execution.filled_quantity = before + allocated
        execution.average_price = round_price(
            ((execution.average_price or 0) * before + price * allocated) / execution.filled_quantity
        )
        # A member's order amended up between ticks: the execution follows its members.
        execution.quantity = max(execution.quantity, execution.filled_quantity)
        execution.save(update_fields=["filled_quantity", "average_price", "quantity", "updated_at"])
        push.execution_changed(execution)
    return True


def _book(row: BlockAllocation, member: BlockMember, price: Decimal, executed_at: datetime, venue: str) -> None:
    result = oms.apply_fill(
        order_id=row.order_id,
        fill_id=row.fill_id,
        quantity=row.quantity,
        price=price,
        venue=venue,
        fee=row.fee,
        executed_at=executed_at,
    )
    row.booked_price, row.booked_at, row.applied = price, timezone.now(), result.applied
    row.outcome = "" if result.applied else f"refused by the OMS: {result.fill.refused_reason}"[:200]
    row.save(update_fields=["booked_price", "booked_at", "applied", "outcome"])
    member.booked_quantity += row.quantity


def _book_average(block: Block, execution: Execution) -> None:
    """Average price: every pending allocation is booked at the block's average price (one
    price for every member, the same fills)."""
    pending = list(
        BlockAllocation.objects.filter(block_fill__block=block, booked_at__isnull=True)
        .select_related("block_fill", "member")
        .order_by("pk")
    )
    if not pending:
        return
    fills = list(BlockFill.objects.filter(block=block).values_list("quantity", "unallocated_quantity", "price"))
    average = allocation.average_price([(q - u, p) for q, u, p in fills if q - u > 0])
    booked_price = round_price(average)
    members = {}
    for row in pending:
        member = members.setdefault(row.member_id, row.member)
        _book(row, member, booked_price, row.block_fill.executed_at, row.block_fill.venue)
    for member in members.values():
        member.save(update_fields=["booked_quantity"])


def block_close(execution: Execution, block: Block, *, actor=None) -> None:
    """Nothing is open any more: book what waits for the average price, close each member
    as the execution's completion calls for, end the execution and close the block."""
    members = list(block.members.order_by("pk"))
    if block.allocation == BlockAllocationMode.AVERAGE_PRICE:
        _book_average(block, execution)
    completion, reason = execution.completion, execution.reason
    payload = {"execution": execution.pk, "block": block.pk}
    for member in members:
        order = Order.objects.get(pk=member.order_id)  # as the bookings left it
        if member.left_at is not None and order.status != OrderStatus.CANCEL_PENDING:
            continue  # it left and is its own again
        if order.status in CLOSED_ORDER_STATUSES:
            pass
        elif completion in (Completion.CANCEL, Completion.KILL) or order.status == OrderStatus.CANCEL_PENDING:
            if order.status != OrderStatus.CANCEL_PENDING:
                oms.order_cancel(actor=actor, order_id=order.pk, reason=reason)
            oms.order_cancel_confirm(order_id=order.pk, actor=actor, reason=reason, payload=payload)
        else:
            oms.order_expire(order_id=order.pk, actor=actor, reason=reason, payload=payload)
        if member.left_at is None:
            _leave(member, f"block closed: {reason}")
    block.status = states.apply_block(block.status, BlockEventType.CLOSE)
    block.save(update_fields=["status", "updated_at"])
    if completion in (Completion.CANCEL, Completion.KILL):
        ems._transition(execution, E.CANCEL, actor=actor, reason=reason)
    else:
        ems._transition(execution, E.FINISH, actor=actor, reason=reason)
