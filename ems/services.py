"""EMS services: every write to executions, child orders and execution reports goes through
here, atomically, under row locks taken in core.locks.LOCK_ORDER (Execution, then the parent
Order, then ChildOrder), with the audit row beside each transition.

- `execution_start` moves the parent to WORKING (oms.services.order_work) and records the
  router decision it started from.
- `execution_tick` runs the algorithm on plain data and writes its child orders as NEW in
  the same transaction (the outbox); they are sent after commit. A retried tick repeats the
  same client order ids (`{execution}-{seq}`), the venue refuses an id it has seen.
- `report_apply` stores a venue report raw, applies it once by its venue execution id and
  books every fill to the parent through `execution_fill_book` (oms.services.apply_fill);
  `reports_apply` does the same for a batch read from the stream, in one transaction
  (oms.services.FillBatch), and falls back to `report_apply` one by one if the batch fails.
- The parent's lifecycle goes through the OMS commands only: a CANCEL_PENDING parent has its
  open children cancelled, then `order_cancel_confirm`; the end time `order_expire`s it.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from core import metrics
from core.bulk import save_rows
from core.decimals import price as round_price
from core.decimals import to_step
from core.errors import Conflict, DomainError, IllegalTransition, NotFound
from core.locks import lock_all, lock_many, lock_one
from core.vocabulary import AssetClass, OrderStatus, Side, Strategy, VenueKind
from ems import algos, arrival, conf, push
from ems.algos.base import (
    CancelChild,
    ChildType,
    Done,
    ExecutionState,
    MarketView,
    NewChild,
    OpenChild,
    Remember,
    ReplaceChild,
    VenueTop,
)
from ems.domain import states
from ems.gateways import gateway
from ems.models import ChildOrder, ChildOrderEvent, Completion, Execution, ExecutionEvent, ExecutionReport
from marketdata.models import Venue
from marketdata.selectors import is_fresh, latest_snapshot, latest_snapshots, mid_price
from oms import services as oms
from oms.models import Order
from rfq import services as rfq_services
from rfq.models import Rfq, RfqExecution
from sor.services import order_decision, order_recommend

log = logging.getLogger(__name__)

STARTABLE_ORDER_STATUSES = frozenset({OrderStatus.ACCEPTED, OrderStatus.WORKING, OrderStatus.PARTIALLY_FILLED})
CLOSED_ORDER_STATUSES = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.EXPIRED})
E = states.E
C = states.C
BLOCK_CHILD_PREFIX = "B"  # a block execution's child order ids: B{execution}-{seq}


def _blocks():
    from ems import blocks  # it builds on this module

    return blocks


def _lock_subject(execution):
    """What a locked execution works, locked: its parent order, or its block with the
    members' orders (ems.blocks.block_lock)."""
    if execution.block_id is None:
        return lock_one(Order, execution.order_id, what="order")
    return _blocks().block_lock(execution)


# --------------------------------------------------------------------------- audit


def _transition(
    execution: Execution, event, *, actor=None, reason: str = "", payload: dict | None = None, also=()
) -> Execution:
    """Apply one event of the execution table to a locked execution, save, audit, push.
    The only place that assigns Execution.status."""
    before = execution.status
    execution.status = states.apply_execution(before, event)
    if reason and event in (E.COMPLETE, E.FINISH, E.CANCEL, E.FAIL):
        execution.reason = reason[:500]
    execution.save(update_fields=["status", "reason", "updated_at", *also])
    ExecutionEvent.objects.create(
        execution=execution,
        actor=actor,
        event=event,
        from_status=before,
        to_status=execution.status,
        reason=reason[:500],
        payload=payload or {},
    )
    push.execution_changed(execution)
    return execution


def _child_apply(child: ChildOrder, event) -> str:
    """The only place that assigns ChildOrder.status: one event of the child table, in
    memory (the caller saves and audits); returns the status before."""
    before = child.status
    after = states.apply_child(states.ChildState(child.status, child.previous_status), event)
    child.status, child.previous_status = after.status, after.previous_status
    return before


def _child_transition(child: ChildOrder, event, *, reason: str = "", report=None, also=()) -> ChildOrder:
    """One child's transition, saved, audited and pushed."""
    before = _child_apply(child, event)
    child.save(update_fields=["status", "previous_status", "updated_at", *also])
    ChildOrderEvent.objects.create(
        child=child, event=event, from_status=before, to_status=child.status, reason=reason[:200], report=report
    )
    push.child_changed(child)
    return child


# --------------------------------------------------------------------------- start


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


@transaction.atomic
def execution_start(
    *,
    actor,
    order_id: int,
    strategy: str | None = None,
    parameters: dict | None = None,
    now: datetime | None = None,
) -> Execution:
    """Start working a parent order: the router's recommendation, or the trader's override
    of strategy and parameters. Idempotent per order: a second start returns the first."""
    now = now or timezone.now()
    existing = Execution.objects.filter(order_id=order_id).first()
    if existing is not None:
        return existing
    order = lock_one(Order, order_id, what="order")
    existing = Execution.objects.filter(order_id=order_id).first()  # started while we waited for the lock
    if existing is not None:
        return existing
    if order.status not in STARTABLE_ORDER_STATUSES:
        raise Conflict(f"order {order.pk} is {order.status}: only an accepted or working order can be worked")
    if order.block_memberships.filter(left_at__isnull=True).exists():
        raise Conflict(f"order {order.pk} is in a block: the block's execution works it")
    # The decision stored when the order was accepted is the record of why; a new one only
    # for an order that has none (or has traded since, so the old one sized another quantity).
    decision = order_decision(order) if order.filled_quantity == 0 else None
    decision = decision or order_recommend(order=order, actor=actor)
    chosen = Strategy(strategy) if strategy else Strategy(decision.strategy)
    if chosen != Strategy.RFQ and chosen not in algos.ALGORITHMS:
        raise Conflict(f"no execution algorithm for {chosen} yet")
    base = dict(decision.parameters) if chosen == Strategy(decision.strategy) else {}
    merged = {**base, **(parameters or {})}
    quantity = order.quantity - order.filled_quantity
    horizon = merged.get("horizon_seconds")
    if order.end_time is not None:
        end_at = order.end_time
    else:
        end_at = now + timedelta(seconds=float(horizon) if horizon else conf.default_horizon_seconds())
    start_at = max(now, order.start_time) if order.start_time else now
    snapshot = latest_snapshot(order.instrument.symbol)
    volume = Decimal(snapshot["volume"]) if snapshot and snapshot.get("volume") else None
    execution = Execution.objects.create(
        order=order,
        strategy=chosen,
        parameters=merged,
        quantity=quantity,
        side=order.side,
        limit_price=order.limit_price,
        arrival_price=mid_price(order.instrument),
        start_at=start_at,
        end_at=end_at,
        next_tick_at=start_at,
        decision=decision,
        market_volume_at_start=volume,
        started_by=actor,
    )
    arrival.arrival_record(execution=execution, snapshot=snapshot, now=now)  # TCA's counterfactuals start here
    metrics.execution_started(execution)
    ExecutionEvent.objects.create(
        execution=execution,
        actor=actor,
        event=E.START,
        from_status="",
        to_status=execution.status,
        reason="execution created",
        payload={"decision": decision.pk},
    )
    overridden = chosen != Strategy(decision.strategy) or bool(parameters)
    _transition(
        execution,
        E.START,
        actor=actor,
        reason=(
            f"trader override: {chosen} (router recommended {decision.strategy})"
            if overridden
            else f"router recommendation: {chosen}"
        ),
        payload={
            "decision": decision.pk,
            "recommended": decision.strategy,
            "strategy": chosen,
            "parameters": merged,
            "rationale": decision.rationale,
        },
    )
    oms.order_work(order_id=order.pk, actor=actor, payload={"execution": execution.pk, "strategy": chosen})
    _schedule_tick(execution.pk)
    return execution


def _schedule_tick(execution_id: int) -> None:
    from ems import tasks

    tasks.execution_tick_task.delay_on_commit(execution_id)


# --------------------------------------------------------------------------- the tick


@dataclass
class Outbox:
    """What a transaction decided to send; sent after it commits. Child orders the ticks
    decided are inserted together (`write`: two queries for all of them, whatever their
    number), before anything reads the open children again and at the latest before commit."""

    new: list[dict] = field(default_factory=list)
    cancel: list[dict] = field(default_factory=list)
    execution_id: int | None = None
    children: list[ChildOrder] = field(default_factory=list)
    # Cancels requested (the child already CANCEL_PENDING in memory): (child, status before,
    # reason), saved and audited together by `write`, like the new children.
    cancelled: list[tuple[ChildOrder, str, str]] = field(default_factory=list)
    senders: set[int] = field(default_factory=set)  # the executions of the new children

    def write(self) -> None:
        if self.cancelled:
            cancelled, self.cancelled = self.cancelled, []
            now = timezone.now()
            rows = [child for child, _, _ in cancelled]
            for child in rows:
                child.updated_at = now
            save_rows(rows, ["status", "previous_status", "updated_at"])
            ChildOrderEvent.objects.bulk_create(
                ChildOrderEvent(
                    child=child, event=C.CANCEL_REQUEST, from_status=before, to_status=child.status, reason=reason
                )
                for child, before, reason in cancelled
            )
            push.children_changed(rows)
        if not self.children:
            return
        children, self.children = self.children, []
        ChildOrder.objects.bulk_create(children)
        ChildOrderEvent.objects.bulk_create(
            ChildOrderEvent(child=c, event="", from_status="", to_status=c.status, reason=c.reason) for c in children
        )
        push.children_changed(children)
        self.new.extend(_command(child) for child in children)
        self.senders.update(child.execution_id for child in children)

    def flush_on_commit(self) -> None:
        self.write()
        if self.new or self.cancel:
            new, cancel, senders = list(self.new), list(self.cancel), sorted(self.senders)
            transaction.on_commit(lambda: _send(None, new, cancel, execution_ids=senders), robust=True)


def _command(child: ChildOrder) -> dict:
    return {
        "type": "NEW",
        "client_order_id": child.client_order_id,
        "symbol": child.symbol,
        "venue": child.venue,
        "side": child.side,
        "child_type": child.child_type,
        "quantity": str(child.quantity),
        "limit_price": None if child.limit_price is None else str(child.limit_price),
    }


def _cancel_command(child: ChildOrder) -> dict:
    return {"type": "CANCEL", "client_order_id": child.client_order_id, "venue": child.venue}


def _send(
    execution_id: int | None, new: list[dict], cancel: list[dict], *, execution_ids: list[int] | None = None
) -> None:
    """After commit: hand the commands to the venue gateway, then mark the children SENT.
    A crash in between leaves them NEW, and the sweep resends them. `execution_ids`: those
    of the new children, when the caller knows them."""
    gateway().send_many(new, cancel)  # one round trip for the batch's commands
    if new:
        child_mark_sent(client_order_ids=[c["client_order_id"] for c in new], execution_ids=execution_ids)


@transaction.atomic
def child_mark_sent(
    *, client_order_ids: list[str], execution_ids: list[int] | None = None, now: datetime | None = None
) -> int:
    """The children were handed to the gateway: NEW -> SENT (others only count the attempt).
    `execution_ids` (those of the children) saves reading them first."""
    now = now or timezone.now()
    if execution_ids is None:
        execution_ids = sorted(
            set(ChildOrder.objects.filter(client_order_id__in=client_order_ids).values_list("execution_id", flat=True))
        )
    lock_all(Execution.objects.filter(pk__in=execution_ids))
    marked, others, events = [], [], []
    for child in lock_all(ChildOrder.objects.filter(client_order_id__in=client_order_ids)):
        child.send_attempts += 1
        child.sent_at = child.sent_at or now
        if child.status in (states.NEW, states.SENT):
            before = _child_apply(child, C.SEND)
            child.updated_at = now
            events.append(ChildOrderEvent(child=child, event=C.SEND, from_status=before, to_status=child.status))
            marked.append(child)
        else:
            others.append(child)
    # A batch of ticks sends many children at once: saved and audited in a few queries.
    if marked:
        save_rows(marked, ["status", "previous_status", "updated_at", "send_attempts", "sent_at"])
        ChildOrderEvent.objects.bulk_create(events)
        with push.batched():
            push.children_changed(marked)
    save_rows(others, ["send_attempts", "sent_at"])
    return len(marked)


def _open_children(execution: Execution) -> list[ChildOrder]:
    return lock_all(ChildOrder.objects.filter(execution=execution, status__in=states.CHILD_OPEN))


def _decimal(value) -> float:
    return float(Decimal(value))


def _levels(book: dict, side: str) -> tuple[tuple[float, float], ...]:
    return tuple((_decimal(p), _decimal(q)) for p, q in book.get(side, []))


def _session_start(asset_class: str, now: datetime) -> float:
    """The start of today's session on the wall clock: 13:30 UTC for equities (09:30 New York
    in winter), midnight UTC for crypto."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if asset_class == AssetClass.CRYPTO:
        return day.timestamp()
    return (day + timedelta(hours=13, minutes=30)).timestamp()


class TickMarket:
    """The market as one batch of ticks sees it: per instrument, the latest snapshot and the
    algorithm's view of it are built once per batch (not once per execution), and the venue
    rows are read once. The executions of a batch decide on the same book."""

    def __init__(self) -> None:
        self._views: dict[str, tuple[MarketView, dict | None]] = {}
        self._venues: list[Venue] | None = None
        self._snapshots: dict[str, dict | None] = {}

    def prefetch(self, instruments, now: datetime) -> None:
        """Read the snapshots of these instruments in one round trip (a batch's orders)."""
        symbols = {i.symbol for i in instruments} - set(self._snapshots)
        found = latest_snapshots(symbols, now=now.timestamp()) if symbols else {}
        self._snapshots.update({symbol: found.get(symbol) for symbol in symbols})

    def venues(self) -> list[Venue]:
        if self._venues is None:
            self._venues = list(Venue.objects.filter(enabled=True, kind__in=[VenueKind.LIT, VenueKind.DARK]))
        return self._venues

    def view(self, instrument, now: datetime) -> tuple[MarketView, dict | None]:
        found = self._views.get(instrument.symbol)
        if found is None:
            if instrument.symbol in self._snapshots:
                snap = self._snapshots[instrument.symbol]
            else:
                snap = latest_snapshot(instrument.symbol, now=now.timestamp())
            found = self._views[instrument.symbol] = _market_view(instrument, now, self.venues(), snap)
        return found


def market_view(
    execution: Execution, now: datetime, market: TickMarket | None = None
) -> tuple[MarketView, dict | None]:
    """The algorithm's view of the market from the latest published consolidated book; with
    no fresh book, no venue is offered (nothing is sent on stale data)."""
    return (market or TickMarket()).view(execution.subject.instrument, now)


def _market_view(
    instrument, now: datetime, enabled_venues: list[Venue], snap: dict | None
) -> tuple[MarketView, dict | None]:
    fresh = is_fresh(snap) and bool(snap.get("mid"))
    venues: list[VenueTop] = []
    if fresh:
        books = snap.get("venues") or {}
        for venue in enabled_venues:
            if venue.kind == VenueKind.LIT:
                book = books.get(venue.name)
                if not book:
                    continue
                bids, asks = _levels(book, "bids"), _levels(book, "asks")
                venues.append(
                    VenueTop(
                        venue=venue.name,
                        kind=VenueKind.LIT,
                        bid=bids[0][0] if bids else None,
                        ask=asks[0][0] if asks else None,
                        bid_size=bids[0][1] if bids else 0.0,
                        ask_size=asks[0][1] if asks else 0.0,
                        taker_fee_bps=float(venue.taker_fee_bps),
                        maker_fee_bps=float(venue.maker_fee_bps),
                        min_quantity=float(venue.min_quantity),
                        bid_levels=bids,
                        ask_levels=asks,
                    )
                )
            else:
                venues.append(
                    VenueTop(
                        venue=venue.name,
                        kind=VenueKind.DARK,
                        bid=None,
                        ask=None,
                        bid_size=0.0,
                        ask_size=0.0,
                        taker_fee_bps=float(venue.taker_fee_bps),
                        maker_fee_bps=float(venue.maker_fee_bps),
                        min_quantity=float(venue.min_quantity),
                        fill_rate=float(venue.dark_fill_rate),
                    )
                )
    best_bid = _decimal(snap["best_bid"]["price"]) if fresh and snap.get("best_bid") else None
    best_ask = _decimal(snap["best_ask"]["price"]) if fresh and snap.get("best_ask") else None
    mid = _decimal(snap["mid"]) if fresh else float(instrument.reference_price)
    view = MarketView(
        mid=mid,
        best_bid=best_bid,
        best_ask=best_ask,
        venues=tuple(venues),
        adv=float(instrument.adv),
        daily_vol=float(instrument.daily_volatility),
        spread_bps=float(snap.get("spread_bps") or instrument.avg_spread_bps)
        if fresh
        else float(instrument.avg_spread_bps),
        volume_profile=_volume_profile(),
        session_start=_session_start(instrument.asset_class, now),
    )
    return view, snap if fresh else None


@functools.cache
def _volume_profile() -> tuple[float, ...]:  # a constant of the simulator's parameters
    from marketdata.sim.profile import volume_profile
    from marketdata.sim.specs import SimParams

    return tuple(float(x) for x in volume_profile(13, SimParams().u_shape))


def execution_state(execution: Execution, children: list[ChildOrder], snap: dict | None) -> ExecutionState:
    order = execution.subject  # the order, or the block (ems.blocks) it works
    instrument = order.instrument
    volume = 0.0
    if snap and snap.get("volume") and execution.market_volume_at_start is not None:
        volume = max(0.0, float(Decimal(snap["volume"]) - execution.market_volume_at_start))
    return ExecutionState(
        strategy=Strategy(execution.strategy),
        side=Side(execution.side),
        quantity=execution.quantity,
        filled=execution.filled_quantity,
        lot_size=instrument.lot_size,
        tick_size=instrument.tick_size,
        limit_price=order.limit_price,
        urgency=order.urgency,
        start=_epoch(execution.start_at),
        end=_epoch(execution.end_at),
        parameters=dict(execution.parameters),
        open_children=tuple(
            OpenChild(
                client_order_id=c.client_order_id,
                venue=c.venue,
                child_type=ChildType(c.child_type),
                quantity=c.quantity,
                filled=c.filled_quantity,
                limit_price=c.limit_price,
                sent_at=_epoch(c.sent_at or c.created_at),
                cancel_pending=c.status == states.CANCEL_PENDING,
            )
            for c in children
        ),
        market_volume_since_start=volume,
        memory=dict(execution.memory),
    )


def _crosses_limit(side: str, limit: Decimal | None, price: Decimal | None) -> bool:
    if limit is None or price is None:
        return False
    return price > limit if side == Side.BUY else price < limit


def _child_create(execution: Execution, action: NewChild, outbox: Outbox) -> ChildOrder:
    """A NEW child order, inserted with the others of the transaction (Outbox.write); its
    client order id follows from the execution's sequence, under the execution's row lock."""
    execution.child_seq += 1
    child = ChildOrder(
        execution=execution,
        seq=execution.child_seq,
        client_order_id=f"{BLOCK_CHILD_PREFIX if execution.block_id else ''}{execution.pk}-{execution.child_seq}",
        symbol=execution.subject.instrument.symbol,
        venue=action.venue,
        side=execution.side,
        child_type=action.child_type,
        quantity=action.quantity,
        limit_price=action.limit_price,
        reason=action.reason[:200],
    )
    outbox.children.append(child)
    return child


def _child_cancel(child: ChildOrder, reason: str, outbox: Outbox) -> None:
    """CANCEL_PENDING in memory; the outbox saves and audits it (Outbox.write, before the
    open children are read again) and sends the cancel after commit."""
    if child.status == states.CANCEL_PENDING:
        return
    before = _child_apply(child, C.CANCEL_REQUEST)
    outbox.cancelled.append((child, before, reason[:200]))
    outbox.cancel.append(_cancel_command(child))


def _apply_actions(
    execution: Execution, children: list[ChildOrder], actions: list, venues: set[str], outbox: Outbox
) -> str | None:
    """Persist the algorithm's actions after checking them again (defence in depth). Returns
    the reason of a Done, if any."""
    instrument = execution.subject.instrument
    by_id = {c.client_order_id: c for c in children}
    free = execution.quantity - execution.filled_quantity - sum((c.open_quantity for c in children), Decimal(0))
    done: str | None = None
    for action in actions:
        if isinstance(action, CancelChild | ReplaceChild):
            child = by_id.get(action.client_order_id)
            if child is not None and child.is_open:
                _child_cancel(child, action.reason or "algorithm cancel", outbox)
            if isinstance(action, ReplaceChild) and child is not None:
                # Replace = cancel + new; the new one must fit beside the one being cancelled.
                action = NewChild(
                    child.venue, ChildType(child.child_type), action.quantity, action.limit_price, action.reason
                )
            else:
                continue
        if isinstance(action, NewChild):
            quantity = action.quantity
            refused = None
            if quantity <= 0 or to_step(quantity, instrument.lot_size) != quantity:
                refused = f"quantity {quantity} is not a positive multiple of the lot {instrument.lot_size}"
            elif quantity > free:
                refused = f"quantity {quantity} exceeds what is free ({free})"
            elif _crosses_limit(execution.side, execution.limit_price, action.limit_price):
                refused = f"limit {action.limit_price} crosses the parent's limit {execution.limit_price}"
            elif action.child_type == ChildType.LIMIT and action.limit_price is None:
                refused = "a LIMIT child needs a price"
            elif action.venue not in venues:
                refused = f"venue {action.venue} is not offered"
            if refused:
                log.error("execution %s: child refused by the EMS guard: %s", execution.pk, refused)
                continue
            _child_create(execution, action, outbox)
            free -= quantity
        elif isinstance(action, Remember):
            execution.memory = json.loads(json.dumps({**execution.memory, **dict(action.values)}, default=str))
        elif isinstance(action, Done):
            done = action.reason or "done"
    return done


def _run_algorithm(execution: Execution, state: ExecutionState, market: MarketView, now: float):
    """(actions, switch) from the algorithms: `run_tick` (re-evaluation included) when the
    package has it, else `decide` alone."""
    run_tick = getattr(algos, "run_tick", None)
    if run_tick is None:
        return algos.decide(state, market, now), None
    result = run_tick(state, market, now)
    return list(result.actions), result


def _strategy_follow(execution: Execution, result) -> None:
    """Keep the strategy and parameters in force after the tick; a switch is audited with
    the router's reason and answer."""
    switch = getattr(result, "switch", None)
    strategy = str(result.strategy)
    parameters = json.loads(json.dumps(dict(result.parameters), default=str))
    if switch is None:
        execution.parameters = parameters  # saved with the tick's other fields
        return
    before = execution.strategy
    execution.strategy, execution.parameters = strategy, parameters
    _transition(
        execution,
        E.SWITCH,
        reason=switch.reason,
        payload={
            "from": str(before),
            "to": strategy,
            "parameters": parameters,
            "reevaluation": json.loads(json.dumps(dict(result.reevaluation or {}), default=str)),
        },
        also=("strategy", "parameters"),
    )


def _begin_completion(execution: Execution, completion: str, reason: str, *, actor=None) -> None:
    if execution.status == states.COMPLETING:
        return
    execution.completion = completion
    _transition(
        execution, E.COMPLETE, actor=actor, reason=reason, payload={"completion": completion}, also=("completion",)
    )


def _drive_completion(
    execution: Execution, order: Order, children: list[ChildOrder], outbox: Outbox, actor=None
) -> None:
    """Winding down: cancel every open child; once none is open, end the execution and close
    the parent through the OMS command its completion calls for."""
    rfq = Rfq.objects.filter(pk=execution.memory.get("rfq")).first() if execution.strategy == Strategy.RFQ else None
    if rfq is not None and rfq.is_open:  # nothing may trade for an execution that is ending
        rfq_services.rfq_cancel(actor=actor, rfq_id=rfq.pk)
    open_children = [c for c in children if c.is_open]
    for child in open_children:
        _child_cancel(child, execution.reason or "execution ending", outbox)
    if open_children:
        return
    if execution.block_id is not None:  # its members close through ems.blocks
        _blocks().block_close(execution, order, actor=actor)
        return
    order.refresh_from_db()
    completion, reason = execution.completion, execution.reason
    if completion in (Completion.CANCEL, Completion.KILL):
        if order.status == OrderStatus.FILLED:
            _transition(execution, E.FINISH, actor=actor, reason="filled before the cancel took effect")
            return
        if order.status != OrderStatus.CANCELLED:
            oms.order_cancel_confirm(order_id=order.pk, actor=actor, reason=reason, payload={"execution": execution.pk})
        _transition(execution, E.CANCEL, actor=actor, reason=reason)
        return
    if order.status not in CLOSED_ORDER_STATUSES and order.filled_quantity < order.quantity:
        oms.order_expire(order_id=order.pk, actor=actor, reason=reason, payload={"execution": execution.pk})
    _transition(execution, E.FINISH, actor=actor, reason=reason)


def _follow_amendment(execution: Execution, order: Order, children: list[ChildOrder], outbox: Outbox) -> None:
    """The parent was amended (oms.services.order_amend): take its new quantity and limit,
    and cancel the open children the new terms no longer allow (a limit now crossed, a dark
    peg with no limit under a parent that now has one, more out than is left to do); the
    algorithm re-places what it still wants."""
    filled_elsewhere = order.filled_quantity - execution.filled_quantity  # e.g. by an RFQ
    quantity = order.quantity - filled_elsewhere
    if (quantity, order.limit_price) == (execution.quantity, execution.limit_price):
        return
    terms = {
        "quantity": {"old": str(execution.quantity), "new": str(quantity)},
        "limit_price": {
            "old": None if execution.limit_price is None else str(execution.limit_price),
            "new": None if order.limit_price is None else str(order.limit_price),
        },
    }
    execution.quantity, execution.limit_price = quantity, order.limit_price
    _transition(
        execution,
        E.AMEND,
        reason=f"parent amended: quantity {terms['quantity']['old']} -> {terms['quantity']['new']}, "
        f"limit {terms['limit_price']['old'] or 'market'} -> {terms['limit_price']['new'] or 'market'}",
        payload=terms,
        also=("quantity", "limit_price"),
    )
    live = sorted((c for c in children if c.status != states.CANCEL_PENDING), key=lambda c: c.seq, reverse=True)
    out = sum((c.open_quantity for c in live), Decimal(0))
    left = quantity - execution.filled_quantity
    for child in live:
        unpriced_under_limit = child.limit_price is None and order.limit_price is not None
        if _crosses_limit(execution.side, order.limit_price, child.limit_price) or unpriced_under_limit:
            _child_cancel(child, "parent amended: outside the new limit", outbox)
        elif out > left:
            _child_cancel(child, "parent amended: more out than is left to do", outbox)
        else:
            continue
        out -= child.open_quantity


def _work_rfq(execution: Execution, order: Order) -> None:
    """An execution whose strategy is RFQ: open the RFQ on its first tick (the router's
    window and number of counterparties), then wait for it to close. What the RFQ traded is
    the execution's; what it leaves unfilled goes back to the router for an algorithm."""
    rfq_id = execution.memory.get("rfq")
    if rfq_id is None:
        parameters = execution.parameters
        window = int(float(parameters.get("horizon_seconds") or rfq_services.DEFAULT_WINDOW_SECONDS))
        try:
            rfq = rfq_services.rfq_open(
                actor=execution.started_by,
                order_id=order.pk,
                quantity=execution.quantity - execution.filled_quantity,
                window_seconds=min(max(window, 1), rfq_services.MAX_WINDOW_SECONDS),
                top_n=int(parameters["counterparties"]) if parameters.get("counterparties") else None,
            )
        except DomainError as exc:  # no counterparty for it, an RFQ already open, ...
            _rfq_fallback(execution, order, f"no RFQ could be opened ({exc})")
            return
        execution.memory = {**execution.memory, "rfq": rfq.pk}
        return
    rfq = Rfq.objects.get(pk=rfq_id)
    if rfq.is_open:
        return
    traded = _rfq_book(execution)
    if execution.filled_quantity >= execution.quantity:
        _begin_completion(execution, Completion.FILLED, f"filled by RFQ #{rfq.pk}")
        return
    outcome = f"RFQ #{rfq.pk} {rfq.status.lower()}" + (f" after {traded.quantity} traded" if traded else "")
    _rfq_fallback(execution, order, outcome)


def _rfq_book(execution: Execution) -> RfqExecution | None:
    """The execution's RFQ traded: the RFQ booked the fill to the order itself (apply_fill),
    so the execution only counts it, once. Runs first in the tick, before anything compares
    the execution's fills with the order's."""
    rfq_id = execution.memory.get("rfq")
    traded = RfqExecution.objects.filter(rfq_id=rfq_id).first() if rfq_id else None
    if traded is None or execution.memory.get("rfq_booked"):
        return traded
    before = execution.filled_quantity
    execution.filled_quantity = before + traded.quantity
    execution.average_price = round_price(
        ((execution.average_price or 0) * before + traded.price * traded.quantity) / execution.filled_quantity
    )
    execution.memory = {**execution.memory, "rfq_booked": True}
    execution.save(update_fields=["filled_quantity", "average_price", "memory"])
    push.execution_changed(execution)
    return traded


def _rfq_fallback(execution: Execution, order: Order, why: str) -> None:
    """The router picks an algorithm (never RFQ again) for what is left; the switch is audited."""
    decision = order_recommend(order=order, excluding=frozenset({Strategy.RFQ}))
    left = execution.quantity - execution.filled_quantity
    execution.strategy, execution.parameters = decision.strategy, dict(decision.parameters)
    _transition(
        execution,
        E.SWITCH,
        reason=f"{why}: {left} unfilled goes back to the router, which chose {decision.strategy}",
        payload={
            "from": Strategy.RFQ,
            "to": decision.strategy,
            "decision": decision.pk,
            "rfq": execution.memory.get("rfq"),
        },
        also=("strategy", "parameters"),
    )


MARKET_PATH_POINTS = 500


def _market_sample(execution: Execution, mid: float | None, now: datetime) -> None:
    """One point of the price path drawn on the execution page, spaced so that the whole
    horizon holds about MARKET_PATH_POINTS of them (at most one a tick)."""
    if mid is None:
        return
    at = (now - execution.start_at).total_seconds()
    spacing = (execution.end_at - execution.start_at).total_seconds() / MARKET_PATH_POINTS
    path = execution.market_path
    if path and at - path[-1][0] < spacing:
        return
    path.append([round(at, 3), str(round_price(Decimal(str(mid))))])


def _unfilled(execution: Execution) -> str:
    return f"{execution.quantity - execution.filled_quantity} of {execution.quantity} unfilled"


@dataclass(frozen=True)
class TickOutcome:
    execution_id: int
    status: str
    sent: int = 0
    cancelled: int = 0


TICK_CLOCK_FIELDS = ("tick_count", "last_tick_at", "last_tick_due_at", "next_tick_at", "child_seq")
# Rewritten only by the ticks that changed them (a batch saves the others without): the
# price path is kilobytes of JSON, and PostgreSQL stores a new copy of whatever it is sent.
TICK_DOCUMENT_FIELDS = ("memory", "parameters", "market_path")
TICK_FIELDS = (*TICK_CLOCK_FIELDS, *TICK_DOCUMENT_FIELDS)


def _next_tick(due: datetime, now: datetime) -> datetime:
    """The next tick on the execution's own grid (due + k periods, the first after `now`): a
    late tick does not push the schedule later and later, and ticks missed while the workers
    were behind are skipped rather than run back to back."""
    period = timedelta(seconds=conf.tick_seconds())
    return due + ((now - due) // period + 1) * period


@transaction.atomic
def execution_tick(*, execution_id: int, now: datetime | None = None, if_due: bool = False) -> TickOutcome:
    """One decision round of one execution, under its row lock: a second tick of the same
    execution waits for this one and then sees the children it wrote. (The beat ticks in
    batches: `executions_tick_batch`; this serves a start, a resume and the tests.) With
    `if_due`, an execution not due yet is left alone: a batch ticked it first."""
    now = now or timezone.now()
    execution = lock_one(Execution, execution_id, what="execution")
    if not execution.is_active or (if_due and execution.next_tick_at > now):
        return TickOutcome(execution.pk, execution.status)
    if execution.memory.get("rfq"):
        # core.locks.LOCK_ORDER: the RFQ before the order it trades (as rfq_execute takes them).
        lock_one(Rfq, execution.memory["rfq"], what="RFQ")
    order = _lock_subject(execution)
    outbox = Outbox(execution_id=execution.pk)
    outcome = _tick_locked(execution, order, _open_children(execution), TickMarket(), now, outbox)
    execution.updated_at = now
    execution.save(update_fields=[*TICK_FIELDS, "updated_at"])
    outbox.flush_on_commit()
    return outcome


def executions_due_count(*, due_by: datetime) -> int:
    """How many active executions are due by `due_by` (the beat round sizes its helpers)."""
    return Execution.objects.filter(status__in=states.EXECUTION_ACTIVE, next_tick_at__lte=due_by).count()


@transaction.atomic
def executions_tick_batch(
    *, due_by: datetime | None = None, now: datetime | None = None, limit: int | None = None
) -> list[TickOutcome]:
    """Claim up to `limit` executions due by `due_by` (FOR UPDATE SKIP LOCKED, by next tick
    time: other workers take the next ones) and tick them all in this one transaction, with
    the queries shared: their orders and open children are locked in one query each, each
    instrument's market view is built once, new child orders are inserted together, and the
    executions are saved in one UPDATE. `now` fixes every tick's clock (tests); by default
    each tick reads the wall clock when it decides, so its recorded lag is its own.

    The children are sent once the batch commits. A worker killed mid-batch commits nothing
    and sends nothing: the executions are still due and the next round ticks them."""
    due_by = due_by or now or timezone.now()
    executions = list(
        Execution.objects.filter(status__in=states.EXECUTION_ACTIVE, next_tick_at__lte=due_by)
        .order_by("next_tick_at", "pk")
        .select_for_update(skip_locked=True, of=("self",))[: limit or conf.tick_batch()]
    )
    if not executions:
        return []
    members = _blocks().member_order_ids(executions)  # the block executions' member orders
    # core.locks.LOCK_ORDER: the RFQs of RFQ executions before the orders they trade.
    lock_many(Rfq, [e.memory["rfq"] for e in executions if e.memory.get("rfq")])
    orders = {
        o.pk: o
        for o in lock_all(
            Order.objects.filter(pk__in={e.order_id for e in executions} | members).select_related("instrument")
        )
    }
    open_children: dict[int, list[ChildOrder]] = {e.pk: [] for e in executions}
    for child in lock_all(
        ChildOrder.objects.filter(execution_id__in=list(open_children), status__in=states.CHILD_OPEN)
    ):
        open_children[child.execution_id].append(child)
    market = TickMarket()
    market.prefetch((o.instrument for o in orders.values()), now or timezone.now())
    outbox = Outbox()
    outcomes = []
    documents = {e.pk: _documents(e) for e in executions}
    with push.batched():
        for execution in executions:
            moment = now or timezone.now()
            subject = _blocks().subject(execution, orders) if execution.block_id else orders[execution.order_id]
            outcomes.append(_tick_locked(execution, subject, open_children[execution.pk], market, moment, outbox))
            execution.updated_at = moment
        outbox.write()
    rewritten = [e for e in executions if _documents_changed(e, documents[e.pk])]
    kept = [e for e in executions if not _documents_changed(e, documents[e.pk])]
    save_rows(rewritten, [*TICK_FIELDS, "updated_at"])
    save_rows(kept, [*TICK_CLOCK_FIELDS, "updated_at"])
    outbox.flush_on_commit()
    return outcomes


def _documents(execution: Execution) -> tuple:
    """The JSON documents an execution holds, as they were: the objects themselves (a tick
    that changes memory or parameters assigns new ones) and the price path's length (it is
    appended to)."""
    return execution.memory, execution.parameters, len(execution.market_path)


def _documents_changed(execution: Execution, before: tuple) -> bool:
    memory, parameters, points = before
    return (
        execution.memory is not memory or execution.parameters is not parameters or len(execution.market_path) != points
    )


def executions_tick_each(*, due_by: datetime, limit: int | None = None) -> list[TickOutcome]:
    """The fallback when a batch failed (its transaction rolled back, nothing sent): tick
    the executions of that batch one by one, each in its own transaction, so the one that
    fails is alone; it is moved one period on, or it would head every batch and stop them
    all. Unexpected errors are caught on purpose here: this is the bulkhead."""
    ids = list(
        Execution.objects.filter(status__in=states.EXECUTION_ACTIVE, next_tick_at__lte=due_by)
        .order_by("next_tick_at", "pk")
        .values_list("pk", flat=True)[: limit or conf.tick_batch()]
    )
    outcomes = []
    for execution_id in ids:
        try:
            outcomes.append(execution_tick(execution_id=execution_id))
        except Exception:
            log.exception("execution %s: tick failed; next try in one period", execution_id)
            Execution.objects.filter(pk=execution_id).update(
                next_tick_at=timezone.now() + timedelta(seconds=conf.tick_seconds())
            )
    return outcomes


def _tick_locked(
    execution: Execution,
    order: Order,
    children: list[ChildOrder],
    market: TickMarket,
    now: datetime,
    outbox: Outbox,
) -> TickOutcome:
    """The tick of one execution whose row, parent order and open children are locked. Sets
    the tick fields (TICK_FIELDS) for the caller to save; transitions save themselves. For
    a block's execution, `order` is its Block (ems.blocks), with its members' orders."""
    if execution.block_id is None:
        execution.order = order
    sent, cancelled = len(outbox.new) + len(outbox.children), len(outbox.cancel)
    if execution.status == states.PENDING:
        _transition(execution, E.START, reason="started")
    if execution.strategy == Strategy.RFQ:
        _rfq_book(execution)
    if execution.status != states.COMPLETING and execution.block_id is not None:
        _blocks().block_follow(execution, order, children, outbox, now)
    elif execution.status != states.COMPLETING:
        _follow_amendment(execution, order, children, outbox)
        if order.status == OrderStatus.CANCEL_PENDING:
            _begin_completion(execution, Completion.CANCEL, "cancel requested on the parent order")
        elif order.status == OrderStatus.FILLED:
            _begin_completion(execution, Completion.FILLED, "parent filled")
        elif order.status in CLOSED_ORDER_STATUSES:
            _begin_completion(execution, Completion.CANCEL, f"parent order {order.status.lower()}")
        elif now >= execution.end_at:
            _begin_completion(execution, Completion.EXPIRE, f"end time reached: {_unfilled(execution)}")

    if execution.status == states.RUNNING and execution.strategy == Strategy.RFQ:
        _work_rfq(execution, order)
    elif execution.status == states.RUNNING:
        view, snap = market.view(order.instrument, now)
        _market_sample(execution, view.mid if snap else None, now)
        state = execution_state(execution, children, snap)
        actions, result = _run_algorithm(execution, state, view, now.timestamp())
        if result is not None:
            _strategy_follow(execution, result)
        done = _apply_actions(execution, children, actions, {v.venue for v in view.venues}, outbox)
        if done is not None:
            outbox.write()
            if done == "filled" or execution.filled_quantity >= execution.quantity:
                _begin_completion(execution, Completion.FILLED, "filled")
            else:
                _begin_completion(execution, Completion.DONE, done)

    if execution.status == states.COMPLETING:
        outbox.write()
        _drive_completion(execution, order, _open_children(execution), outbox)

    due = min(execution.next_tick_at, now)  # ticked early (a start, a resume): no lag
    metrics.tick_done(lag_seconds=(now - due).total_seconds())
    execution.tick_count += 1
    execution.last_tick_at = now
    execution.last_tick_due_at = due
    execution.next_tick_at = _next_tick(due, now)
    return TickOutcome(
        execution.pk,
        execution.status,
        len(outbox.new) + len(outbox.children) - sent,
        len(outbox.cancel) - cancelled,
    )


def children_resend(*, now: datetime | None = None) -> int:
    """The sweep: child orders still NEW a while after they were written were perhaps never
    sent (a crash between commit and send): send them again; the venue refuses an id it saw."""
    now = now or timezone.now()
    stale = list(
        ChildOrder.objects.filter(
            status=states.NEW, created_at__lte=now - timedelta(seconds=conf.resend_after_seconds())
        ).order_by("pk")[:500]
    )
    if stale:
        _send(None, [_command(c) for c in stale], [])
    cancels = list(
        ChildOrder.objects.filter(
            status=states.CANCEL_PENDING, updated_at__lte=now - timedelta(seconds=conf.resend_after_seconds())
        ).order_by("pk")[:500]
    )
    for child in cancels:
        gateway().cancel(_cancel_command(child))
    return len(stale) + len(cancels)


# --------------------------------------------------------------------------- trader controls


def _locked_active(execution_id: int) -> Execution:
    execution = lock_one(Execution, execution_id, what="execution")
    return execution


@transaction.atomic
def execution_pause(*, actor, execution_id: int) -> Execution:
    """Stop sending and cancel what is open; resume carries on from the schedule."""
    execution = _locked_active(execution_id)
    if execution.status == states.PAUSED:
        return execution
    order = _lock_subject(execution)
    _transition(execution, E.PAUSE, actor=actor, reason="paused by the trader")
    outbox = Outbox(execution_id=execution.pk)
    for child in _open_children(execution):
        _child_cancel(child, "execution paused", outbox)
    del order
    outbox.flush_on_commit()
    return execution


@transaction.atomic
def execution_resume(*, actor, execution_id: int, now: datetime | None = None) -> Execution:
    execution = _locked_active(execution_id)
    if execution.status == states.RUNNING:
        return execution
    execution.next_tick_at = now or timezone.now()
    _transition(execution, E.RESUME, actor=actor, reason="resumed by the trader", also=("next_tick_at",))
    _schedule_tick(execution.pk)
    return execution


@transaction.atomic
def execution_cancel(*, actor, execution_id: int, reason: str = "cancelled by the trader") -> Execution:
    """Cancel the execution and its parent order: the parent goes CANCEL_PENDING (OMS), the
    open children are cancelled, and the parent is confirmed CANCELLED once none is open."""
    execution = _locked_active(execution_id)
    if not execution.is_active:
        raise Conflict(f"execution {execution.pk} is {execution.status}")
    if execution.block_id is not None:  # its members are cancelled as it closes (ems.blocks.block_close)
        order = _blocks().block_lock(execution)
    else:
        order = lock_one(Order, execution.order_id, what="order")
    if execution.block_id is None and order.status not in CLOSED_ORDER_STATUSES:
        order = oms.order_cancel(actor=actor, order_id=order.pk, reason=reason)
    _begin_completion(execution, Completion.CANCEL, reason, actor=actor)
    outbox = Outbox(execution_id=execution.pk)
    _drive_completion(execution, order, _open_children(execution), outbox, actor=actor)
    outbox.flush_on_commit()
    return execution


@transaction.atomic
def killswitch_engage(*, actor, reason: str = "kill switch") -> int:
    """Stop every active execution and cancel every open child order, audited per execution
    with who engaged it. Parents are confirmed cancelled as their children close. Returns
    how many executions it stopped."""
    text = f"{reason} engaged by {getattr(actor, 'username', 'system')}"
    executions = lock_all(Execution.objects.filter(status__in=states.EXECUTION_ACTIVE))
    for execution in executions:
        order = _lock_subject(execution)
        if execution.status == states.COMPLETING:
            execution.completion = Completion.KILL
            execution.reason = text
            execution.save(update_fields=["completion", "reason"])
            ExecutionEvent.objects.create(
                execution=execution,
                actor=actor,
                event=E.COMPLETE,
                from_status=execution.status,
                to_status=execution.status,
                reason=text,
                payload={"completion": Completion.KILL},
            )
        else:
            _begin_completion(execution, Completion.KILL, text, actor=actor)
        outbox = Outbox(execution_id=execution.pk)
        _drive_completion(execution, order, _open_children(execution), outbox, actor=actor)
        outbox.flush_on_commit()
    log.warning("%s: %d executions stopped", text, len(executions))
    return len(executions)


# --------------------------------------------------------------------------- reports


REPORT_EVENTS = {"ACKED": C.ACK, "REJECTED": C.REJECT, "CANCELLED": C.CANCEL}


def _report_store(raw: dict, *, child=None, applied=False, outcome="", quantity=None, price=None) -> ExecutionReport:
    return ExecutionReport.objects.create(
        venue_execution_id=str(raw["exec_id"])[:80],
        client_order_id=str(raw.get("client_order_id", ""))[:40],
        child=child,
        kind=str(raw.get("type", ""))[:12],
        raw=raw,
        quantity=quantity,
        price=price,
        applied=applied,
        outcome=outcome[:200],
    )


def report_apply(*, raw: dict) -> ExecutionReport:
    """Store a venue report as received and apply it once (unique venue execution id).
    A duplicate, an unknown order or an out-of-order report changes nothing it should not."""
    if not raw.get("exec_id"):
        raise DomainError("a report needs an exec_id")
    existing = ExecutionReport.objects.filter(venue_execution_id=raw["exec_id"]).first()
    if existing is not None:
        return existing
    try:
        return _report_apply(raw)
    except IntegrityError:
        # Applied concurrently by another consumer: the unique id kept it to once.
        return ExecutionReport.objects.get(venue_execution_id=raw["exec_id"])
    except (DomainError, IllegalTransition, KeyError, TypeError, ValueError, ArithmeticError) as error:
        # A report that cannot be applied is kept as received, with why, and acknowledged:
        # retrying it would fail the same way and hold up every report behind it.
        log.exception("venue report %s not applied", raw.get("exec_id"))
        return _report_store(raw, outcome=f"not applied: {type(error).__name__}: {error}")


@transaction.atomic
def _report_apply(raw: dict) -> ExecutionReport:
    found = (
        ChildOrder.objects.filter(client_order_id=raw.get("client_order_id", ""))
        .values_list("pk", "execution_id", "execution__order_id")
        .first()
    )
    if found is None:
        return _report_store(raw, outcome="unknown client order id")
    child_id, execution_id, order_id = found
    execution = lock_one(Execution, execution_id, what="execution")
    order = lock_one(Order, order_id, what="order") if order_id is not None else _blocks().block_lock(execution)
    child = lock_one(ChildOrder, child_id, what="child order")
    existing = ExecutionReport.objects.filter(venue_execution_id=raw["exec_id"]).first()
    if existing is not None:
        return existing
    kind = raw.get("type")
    if kind == "FILLED":
        return _fill_apply(raw, execution, order, child)
    event = REPORT_EVENTS.get(kind)
    if event is None:
        return _report_store(raw, child=child, outcome=f"unknown report type {kind!r}")
    report = _report_store(raw, child=child)
    try:
        _child_transition(child, event, reason=raw.get("reason") or kind.lower(), report=report)
    except IllegalTransition as error:
        report.outcome = f"ignored: {error}"[:200]
        report.save(update_fields=["outcome"])
        return report
    report.applied = True
    report.save(update_fields=["applied"])
    if not child.is_open:
        _tick_soon(execution)
    return report


def _fill_terms(raw: dict, order: Order, child: ChildOrder) -> tuple[Decimal, Decimal, Decimal, str]:
    """A venue fill's quantity (on the lot grid), price and fee, and why it cannot be applied
    ("" when it can): one rule for the report paths one at a time and in batches."""
    quantity = to_step(Decimal(str(raw["quantity"])), order.instrument.lot_size)
    price = round_price(Decimal(str(raw["price"])))
    fee = Decimal(str(raw.get("fee") or "0")).quantize(Decimal("0.0001"))
    if quantity <= 0 or price <= 0:
        return quantity, price, fee, "a fill needs a positive quantity and price"
    if child.filled_quantity + quantity > child.quantity:
        log.error(
            "child %s: overfill refused (%s + %s > %s)", child.pk, child.filled_quantity, quantity, child.quantity
        )
        return quantity, price, fee, f"overfill refused: {child.filled_quantity} + {quantity} > {child.quantity}"
    return quantity, price, fee, ""


def _fill_refused(raw: dict, child: ChildOrder, quantity: Decimal, price: Decimal, refusal: str, store):
    if quantity <= 0 or price <= 0:
        return store(raw, child=child, outcome=refusal)
    return store(raw, child=child, quantity=quantity, price=price, outcome=refusal)


def _fill_apply(raw: dict, execution: Execution, order: Order, child: ChildOrder) -> ExecutionReport:
    quantity, price, fee, refusal = _fill_terms(raw, order, child)
    if refusal:
        return _fill_refused(raw, child, quantity, price, refusal, _report_store)
    report = _report_store(raw, child=child, quantity=quantity, price=price)
    before = child.filled_quantity
    child.filled_quantity = before + quantity
    child.average_price = round_price(((child.average_price or 0) * before + price * quantity) / child.filled_quantity)
    child.fees += fee
    executed_at = datetime.fromtimestamp(float(raw["ts"]), tz=UTC) if raw.get("ts") else timezone.now()
    _child_transition(
        child,
        states.child_fill_event(child.filled_quantity, child.quantity),
        reason=f"fill {quantity} @ {price}",
        report=report,
        also=("filled_quantity", "average_price", "fees"),
    )
    booked = execution_fill_book(
        execution=execution,
        order=order,
        fill_id=raw["exec_id"],
        quantity=quantity,
        price=price,
        fee=fee,
        venue=child.venue,
        executed_at=executed_at,
    )
    report.applied = booked
    report.outcome = "" if booked else "refused by the OMS"
    report.save(update_fields=["applied", "outcome"])
    if not child.is_open or execution.filled_quantity >= execution.quantity:
        _tick_soon(execution)
    return report


def execution_fill_book(
    *,
    execution: Execution,
    order: Order,
    fill_id: str,
    quantity: Decimal,
    price: Decimal,
    fee: Decimal,
    venue: str,
    executed_at: datetime,
    batch: oms.FillBatch | None = None,
) -> bool:
    """Book one venue fill of `execution` to its parent order(s): the one place fills reach
    the OMS. An order's execution books the whole fill to it through
    `apply_fill` with the venue execution id as fill id. A block's execution allocates it
    across the block's members (ems.blocks), each with its own fill id derived from this one.
    Call with the execution and the order locked. With `batch` (a batch of reports), the
    fill goes through the OMS's FillBatch and the caller saves and pushes the execution."""
    if execution.block_id is not None:  # `order` is the block: allocated across its members
        return _blocks().block_fill_allocate(
            execution=execution,
            block=order,
            fill_id=fill_id,
            quantity=quantity,
            price=price,
            fee=fee,
            venue=venue,
            executed_at=executed_at,
        )
    result = (batch.apply if batch is not None else oms.apply_fill)(
        order_id=order.pk,
        fill_id=fill_id,
        quantity=quantity,
        price=price,
        venue=venue,
        fee=fee,
        executed_at=executed_at,
    )
    if not result.applied or result.duplicate:
        return result.applied
    before = execution.filled_quantity
    execution.filled_quantity = before + quantity
    execution.average_price = round_price(
        ((execution.average_price or 0) * before + price * quantity) / execution.filled_quantity
    )
    if batch is None:
        execution.save(update_fields=["filled_quantity", "average_price", "updated_at"])
        push.execution_changed(execution)
    return True


REPORT_ERRORS = (DomainError, IllegalTransition, KeyError, TypeError, ValueError, ArithmeticError)


def reports_apply(*, raws: list[dict]) -> list[ExecutionReport]:
    """`report_apply` for a batch of reports, in the order received, in one transaction:
    the same outcome for each as applied alone (stored raw, applied once by its venue
    execution id, every fill to the parent through `execution_fill_book`), for about a tenth
    of the queries and one round of pushes. Should the batch fail as a whole (a concurrent
    writer took a unique id first, the database refused something), it is rolled back and
    its reports applied one at a time: each is idempotent. Returns the stored reports.
    A block's reports (their fills allocated across its members, ems.blocks) are applied
    one at a time after the others: their children's ids say so (BLOCK_CHILD_PREFIX)."""
    if any(str(r.get("client_order_id", "")).startswith(BLOCK_CHILD_PREFIX) for r in raws):
        ours = [r for r in raws if not str(r.get("client_order_id", "")).startswith(BLOCK_CHILD_PREFIX)]
        theirs = [r for r in raws if str(r.get("client_order_id", "")).startswith(BLOCK_CHILD_PREFIX)]
        return [*(reports_apply(raws=ours) if ours else []), *(report_apply(raw=r) for r in theirs if r.get("exec_id"))]
    try:
        with transaction.atomic():
            return _reports_apply_batch(raws)
    except Exception:  # the bulkhead: whatever broke the batch, the reports are still applied
        log.exception("a batch of %d venue reports failed: applying them one at a time", len(raws))
    return [report_apply(raw=raw) for raw in raws if raw.get("exec_id")]


@dataclass
class _Touched:
    """What a batch of reports changed, saved and pushed once each at the end."""

    reports: list[ExecutionReport] = field(default_factory=list)
    child_events: list[ChildOrderEvent] = field(default_factory=list)
    children: dict[int, ChildOrder] = field(default_factory=dict)
    executions: dict[int, Execution] = field(default_factory=dict)
    tick_soon: set[int] = field(default_factory=set)


def _reports_apply_batch(raws: list[dict]) -> list[ExecutionReport]:
    now = timezone.now()
    stored: dict[str, ExecutionReport] = {}  # by venue execution id: a duplicate in the batch is the first
    batch: list[dict] = []
    for raw in raws:
        if not raw.get("exec_id"):
            log.error("venue report without an exec_id dropped: %r", raw)  # it cannot be kept unique
            continue
        batch.append(raw)
    found = {
        coid: (child_id, execution_id, order_id)
        for child_id, coid, execution_id, order_id in ChildOrder.objects.filter(
            client_order_id__in={str(r.get("client_order_id", "")) for r in batch}
        ).values_list("pk", "client_order_id", "execution_id", "execution__order_id")
    }
    # core.locks.LOCK_ORDER: executions, then their orders, then the children, then positions.
    executions = {e.pk: e for e in lock_many(Execution, {f[1] for f in found.values()})}
    orders = {
        o.pk: o
        for o in lock_all(
            Order.objects.filter(pk__in={f[2] for f in found.values()}).select_related(
                "instrument", "portfolio", "created_by"
            )
        )
    }
    children = {c.pk: c for c in lock_many(ChildOrder, {f[0] for f in found.values()})}
    for execution in executions.values():
        execution.order = orders[execution.order_id]
    # Under the locks: a report another consumer applied meanwhile is found here.
    stored.update(
        (r.venue_execution_id, r)
        for r in ExecutionReport.objects.filter(venue_execution_id__in={str(r["exec_id"])[:80] for r in batch})
    )
    filled = [r for r in batch if r.get("type") == "FILLED" and str(r.get("client_order_id", "")) in found]
    fills = oms.FillBatch(orders.values(), now=now)
    fills.prepare(
        fill_ids=(str(r["exec_id"]) for r in filled),
        order_ids=(found[str(r["client_order_id"])][2] for r in filled),
    )
    touched = _Touched()
    out: list[ExecutionReport] = []
    for raw in batch:
        exec_id = str(raw["exec_id"])[:80]
        if exec_id in stored:
            out.append(stored[exec_id])
            continue
        ids = found.get(str(raw.get("client_order_id", "")))
        if ids is None:
            report = _report_row(raw, outcome="unknown client order id")
        else:
            child, execution = children[ids[0]], executions[ids[1]]
            try:
                report = _report_one(raw, execution, execution.order, child, fills, touched, now)
            except REPORT_ERRORS as error:
                # As report_apply keeps it: as received, with why; nothing of it was applied.
                log.exception("venue report %s not applied", raw.get("exec_id"))
                report = _report_row(raw, outcome=f"not applied: {type(error).__name__}: {error}")
        stored[exec_id] = report
        touched.reports.append(report)
        out.append(report)

    ExecutionReport.objects.bulk_create(touched.reports)
    ChildOrderEvent.objects.bulk_create(touched.child_events)
    # Read under the locks, not at the batch's start: updated_at orders a row's versions as
    # their commits do, and the pages drop a pushed row older than the one they show.
    written = timezone.now()
    changed_children = sorted(touched.children.values(), key=lambda c: c.pk)
    for child in changed_children:
        child.updated_at = written
    save_rows(changed_children, ["status", "previous_status", "filled_quantity", "average_price", "fees", "updated_at"])
    changed = sorted(touched.executions.values(), key=lambda e: e.pk)
    for execution in changed:
        execution.updated_at = written
    save_rows(changed, ["filled_quantity", "average_price", "updated_at"])
    if touched.tick_soon:  # something closed: the next beat round looks at these at once
        Execution.objects.filter(pk__in=touched.tick_soon).update(next_tick_at=now)
    with push.batched():
        fills.write()
        push.children_changed(changed_children)
        push.executions_changed(changed)
    return out


def _report_row(raw: dict, *, child=None, applied=False, outcome="", quantity=None, price=None) -> ExecutionReport:
    """An ExecutionReport as `_report_store` writes it, unsaved (the batch inserts them together)."""
    return ExecutionReport(
        venue_execution_id=str(raw["exec_id"])[:80],
        client_order_id=str(raw.get("client_order_id", ""))[:40],
        child=child,
        kind=str(raw.get("type", ""))[:12],
        raw=raw,
        quantity=quantity,
        price=price,
        applied=applied,
        outcome=outcome[:200],
    )


def _report_one(
    raw: dict,
    execution: Execution,
    order: Order,
    child: ChildOrder,
    fills: oms.FillBatch,
    touched: _Touched,
    now: datetime,
) -> ExecutionReport:
    """One report of a batch, on the batch's locked rows, as `_report_apply` applies it. It
    raises (REPORT_ERRORS) before changing anything, or changes everything it should."""
    kind = raw.get("type")
    if kind == "FILLED":
        return _fill_one(raw, execution, order, child, fills, touched, now)
    event = REPORT_EVENTS.get(kind)
    if event is None:
        return _report_row(raw, child=child, outcome=f"unknown report type {kind!r}")
    try:
        after = states.apply_child(states.ChildState(child.status, child.previous_status), event)
    except IllegalTransition as error:
        return _report_row(raw, child=child, outcome=f"ignored: {error}")
    report = _report_row(raw, child=child, applied=True)
    _child_changed(child, event, after, raw.get("reason") or kind.lower(), report, touched)
    if not child.is_open:
        touched.tick_soon.add(execution.pk)
    return report


def _fill_one(
    raw: dict,
    execution: Execution,
    order: Order,
    child: ChildOrder,
    fills: oms.FillBatch,
    touched: _Touched,
    now: datetime,
) -> ExecutionReport:
    quantity, price, fee, refusal = _fill_terms(raw, order, child)
    if refusal:
        return _fill_refused(raw, child, quantity, price, refusal, _report_row)
    executed_at = datetime.fromtimestamp(float(raw["ts"]), tz=UTC) if raw.get("ts") else now
    filled = child.filled_quantity + quantity
    event = states.child_fill_event(filled, child.quantity)
    after = states.apply_child(states.ChildState(child.status, child.previous_status), event)
    # The last step that can refuse; FillBatch changes nothing when it does.
    booked = execution_fill_book(
        execution=execution,
        order=order,
        fill_id=raw["exec_id"],
        quantity=quantity,
        price=price,
        fee=fee,
        venue=child.venue,
        executed_at=executed_at,
        batch=fills,
    )
    report = _report_row(
        raw, child=child, quantity=quantity, price=price, applied=booked, outcome="" if booked else "refused by the OMS"
    )
    before = child.filled_quantity
    child.filled_quantity = filled
    child.average_price = round_price(((child.average_price or 0) * before + price * quantity) / filled)
    child.fees += fee
    _child_changed(child, event, after, f"fill {quantity} @ {price}", report, touched)
    if booked:
        touched.executions[execution.pk] = execution
    if not child.is_open or execution.filled_quantity >= execution.quantity:
        touched.tick_soon.add(execution.pk)
    return report


def _child_changed(child: ChildOrder, event, after: states.ChildState, reason: str, report, touched: _Touched) -> None:
    """A child's transition inside a batch of reports: assigned, audited, saved at the end."""
    before = child.status
    child.status, child.previous_status = after.status, after.previous_status
    touched.child_events.append(
        ChildOrderEvent(
            child=child, event=event, from_status=before, to_status=child.status, reason=reason[:200], report=report
        )
    )
    touched.children[child.pk] = child


def _tick_soon(execution: Execution) -> None:
    """Something closed: let the next beat round look at this execution at once."""
    Execution.objects.filter(pk=execution.pk).update(next_tick_at=timezone.now())


def execution_get(execution_id: int) -> Execution:
    execution = Execution.objects.filter(pk=execution_id).select_related("order__instrument").first()
    if execution is None:
        raise NotFound(f"execution {execution_id} does not exist")
    return execution
