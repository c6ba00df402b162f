"""OMS services: every write to orders, fills and positions goes through here, in one
transaction, under row locks (core.locks), with the audit event written beside the change.

Each command applies one kind of event of the state table (oms.domain.states) and nothing
else: the EMS works, confirms, rejects and expires orders through `order_work`,
`order_cancel_confirm`, `order_cancel_reject` and `order_expire`, and fills reach an order
only through `apply_fill`, or `FillBatch` for many in one transaction (the same rules)."""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from core import metrics
from core.decimals import PRICE_QUANTUM, QUANTITY_PLACES, money
from core.decimals import price as round_price
from core.errors import Conflict
from core.locks import lock_all, lock_one
from core.vocabulary import OrderEventType, Side
from marketdata.models import Instrument
from marketdata.selectors import mid_price
from oms import ledger, push, selectors
from oms.domain import compliance, positions, states
from oms.models import ComplianceRule, Order, OrderEvent, OrderFill, Portfolio, Position

log = logging.getLogger(__name__)
QUANTITY_QUANTUM = Decimal(1).scaleb(-QUANTITY_PLACES)


def _record(
    order: Order, *, event: OrderEventType, from_status: str, actor=None, reason: str = "", payload: dict | None = None
) -> None:
    OrderEvent.objects.create(
        order=order,
        actor=actor,
        event=event,
        from_status=from_status,
        to_status=order.status,
        reason=reason[:500],
        payload=payload or {},
    )


def _transition(
    order: Order,
    event: OrderEventType,
    *,
    actor=None,
    reason: str = "",
    payload: dict | None = None,
    also_saved: tuple[str, ...] = (),
) -> Order:
    """Apply one event of the state table to a locked order, save it with the fields the
    caller changed (`also_saved`), write the audit row and push the change after commit.
    The only place that assigns Order.status."""
    before = order.status
    after = states.apply(states.OrderState(order.status, order.previous_status), event)
    order.status, order.previous_status = after.status, after.previous_status
    order.save(update_fields=["status", "previous_status", "updated_at", *also_saved])
    _record(order, event=event, from_status=before, actor=actor, reason=reason, payload=payload)
    push.order_changed(order)
    return order


def _locked(order_id: int) -> Order:
    return lock_one(Order, order_id, what="order")


def _draft(
    *,
    portfolio: Portfolio,
    instrument: Instrument,
    side: str,
    quantity: Decimal,
    limit_price: Decimal | None,
    reference_price: Decimal | None = None,
) -> compliance.OrderDraft:
    return compliance.OrderDraft(
        symbol=instrument.symbol,
        side=side,
        quantity=quantity,
        limit_price=limit_price,
        reference_price=mid_price(instrument) if reference_price is None else reference_price,
        tick_size=instrument.tick_size,
        lot_size=instrument.lot_size,
        multiplier=instrument.multiplier,
        position_quantity=selectors.position_quantity(portfolio, instrument),
        # Only the short-sell rule reads working sells, and only for a sell: a buy skips the query.
        open_sell_quantity=selectors.open_sell_quantity(portfolio, instrument) if side == Side.SELL else Decimal(0),
        borrow_allowed=portfolio.borrow_allowed,
        adv=instrument.adv,
    )


def order_preview(
    *,
    portfolio: Portfolio,
    instrument: Instrument,
    side: str,
    quantity: Decimal,
    limit_price: Decimal | None = None,
    reference_price: Decimal | None = None,
) -> list[compliance.Breach]:
    """The compliance verdict an order would get now, without storing anything."""
    draft = _draft(
        portfolio=portfolio,
        instrument=instrument,
        side=side,
        quantity=quantity,
        limit_price=limit_price,
        reference_price=reference_price,
    )
    return compliance.evaluate(draft, selectors.compliance_rules_for(portfolio, instrument))


@metrics.timed_intake
@transaction.atomic
def order_submit(
    *,
    actor,
    portfolio: Portfolio,
    instrument: Instrument,
    side: str,
    quantity: Decimal,
    urgency: str = "MEDIUM",
    limit_price: Decimal | None = None,
    start_time: datetime | None = None,
    end_time: datetime | None = None,
    client_order_id: str | None = None,
    confirmed: bool = False,
    on_accepted: Iterable[Callable[..., None]] = (),
    extra_breaches: Iterable[compliance.Breach] = (),
) -> Order:
    """Store a parent order and run pre-trade compliance: ACCEPTED, or REJECTED with its
    reasons. Idempotent on (portfolio, client_order_id). An order beyond soft limits only
    (fat finger) is refused with ConfirmationRequired, nothing stored, unless `confirmed`.

    `on_accepted` are the steps the layers above add to an order this call has just
    accepted (the router stores its decision), each called as `step(order=, actor=)` in this
    transaction: a replayed submission finds the stored order and runs none of them again.
    `extra_breaches`: breaches found beyond the order's own rules (a package's: oms.packages)."""
    # The portfolio lock serialises compliance for one portfolio: two concurrent sells cannot
    # both pass the short-sell check against the same position.
    lock_one(Portfolio, portfolio.pk, what="portfolio")
    if client_order_id:
        existing = Order.objects.filter(portfolio=portfolio, client_order_id=client_order_id).first()
        if existing:
            asked = (
                instrument.pk,
                side,
                Decimal(quantity),
                limit_price and Decimal(limit_price),
                urgency,
                start_time,
                end_time,
            )
            if asked != (
                existing.instrument_id,
                existing.side,
                existing.quantity,
                existing.limit_price,
                existing.urgency,
                existing.start_time,
                existing.end_time,
            ):
                raise Conflict(
                    f"client order id {client_order_id} was already used for order {existing.pk} with different terms"
                )
            return existing
    # One read of the market for the whole submission: compliance and the arrival price
    # see the same mid.
    arrival_price = mid_price(instrument)
    breaches = order_preview(
        portfolio=portfolio,
        instrument=instrument,
        side=side,
        quantity=quantity,
        limit_price=limit_price,
        reference_price=arrival_price,
    ) + list(extra_breaches)
    submitted = states.apply(states.OrderState(states.UNSUBMITTED), states.SUBMIT)
    soft = [b for b in breaches if b.soft]
    if soft and len(soft) == len(breaches) and not confirmed:
        raise compliance.ConfirmationRequired("; ".join(b.message for b in soft))
    breaches = [b for b in breaches if not b.soft]
    verdict = states.REJECT if breaches else states.ACCEPT
    decided = states.apply(submitted, verdict)
    reason = "; ".join(b.message for b in breaches) if breaches else "passed pre-trade compliance"
    if soft and not breaches:
        reason += "; confirmed by the user: " + "; ".join(b.message for b in soft)
    order = Order.objects.create(
        portfolio=portfolio,
        instrument=instrument,
        side=side,
        quantity=quantity,
        limit_price=limit_price,
        urgency=urgency,
        start_time=start_time,
        end_time=end_time,
        created_by=actor,
        arrival_price=arrival_price,
        client_order_id=client_order_id or None,
        rejection_reasons=[b.as_dict() for b in breaches],
        status=decided.status,
        previous_status=decided.previous_status,
    )
    # Both transitions of the table (SUBMIT, then ACCEPT or REJECT) are decided before the
    # insert, so the order is written once in its final status and its two audit events in
    # one statement, in the same transaction; one push after commit.
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(
                order=order,
                actor=actor,
                event=states.SUBMIT,
                from_status=states.UNSUBMITTED,
                to_status=submitted.status,
                payload={"side": side, "quantity": str(quantity)},
            ),
            OrderEvent(
                order=order,
                actor=actor,
                event=verdict,
                from_status=submitted.status,
                to_status=decided.status,
                reason=reason[:500],
            ),
        ]
    )
    if order.status == states.ACCEPTED:
        for step in on_accepted:
            step(order=order, actor=actor)
    metrics.order_decided(order)
    push.order_changed(order)
    return order


@transaction.atomic
def order_cancel(*, actor, order_id: int, reason: str = "cancel requested") -> Order:
    """Cancel now when nothing is out at a venue; otherwise CANCEL_PENDING until the EMS
    confirms. Asking again while pending changes nothing."""
    order = _locked(order_id)
    if order.status == states.CANCEL_PENDING:
        return order
    event = states.CANCEL_REQUEST if order.status in (states.WORKING, states.PARTIALLY_FILLED) else states.CANCEL
    return _transition(order, event, actor=actor, reason=reason)


@transaction.atomic
def order_work(*, order_id: int, actor=None, reason: str = "execution started", payload: dict | None = None) -> Order:
    """The EMS started working the order. Idempotent: an order already being worked is left as it is."""
    order = _locked(order_id)
    if order.status in (states.WORKING, states.PARTIALLY_FILLED):
        return order
    return _transition(order, states.WORK, actor=actor, reason=reason, payload=payload)


@transaction.atomic
def order_cancel_confirm(
    *, order_id: int, actor=None, reason: str = "cancel confirmed", payload: dict | None = None
) -> Order:
    """Nothing is left out at any venue: the order is cancelled (after a request, or when the
    EMS stops it on its own, e.g. the kill switch). Idempotent."""
    order = _locked(order_id)
    if order.status == states.CANCELLED:
        return order
    return _transition(order, states.CANCEL, actor=actor, reason=reason, payload=payload)


@transaction.atomic
def order_cancel_reject(*, order_id: int, reason: str, actor=None, payload: dict | None = None) -> Order:
    """The EMS could not cancel (a venue refused, the order is completing): the order returns
    to the status it had before the request, as moved on by fills received meanwhile."""
    return _transition(_locked(order_id), states.CANCEL_REJECT, actor=actor, reason=reason, payload=payload)


@transaction.atomic
def order_expire(*, order_id: int, actor=None, reason: str = "end time reached", payload: dict | None = None) -> Order:
    """The order's end time passed with quantity left. Idempotent."""
    order = _locked(order_id)
    if order.status == states.EXPIRED:
        return order
    return _transition(order, states.EXPIRE, actor=actor, reason=reason, payload=payload)


@dataclass(frozen=True)
class FillResult:
    fill: OrderFill
    applied: bool
    duplicate: bool


@transaction.atomic
def apply_fill(
    *,
    order_id: int,
    fill_id: str,
    quantity: Decimal,
    price: Decimal,
    venue: str = "",
    fee: Decimal = Decimal(0),
    executed_at: datetime | None = None,
    actor=None,
) -> FillResult:
    """Report one execution against a parent order: the only way fills reach the OMS.

    Idempotent by `fill_id`; refuses an overfill (kept for review, never applied); updates
    the order, its audit trail, the position and the cash in one transaction under the
    order's row lock."""
    quantity, price, fee = Decimal(quantity), Decimal(price), Decimal(fee)
    if quantity <= 0 or price <= 0:
        raise Conflict("a fill needs a positive quantity and price")
    _refuse_finer_than_stored(quantity=quantity, price=price)
    order = _locked(order_id)
    existing = OrderFill.objects.filter(fill_id=fill_id).first()
    if existing is not None:
        return _fill_replayed(existing, order, quantity=quantity, price=price, fee=fee, venue=venue)
    executed_at = executed_at or timezone.now()
    refused = ""
    if order.filled_quantity + quantity > order.quantity:
        refused = f"overfill: {order.filled_quantity} filled + {quantity} > {order.quantity}"
    try:
        # A savepoint: the same fill id sent to another order at the same moment loses the
        # unique constraint here, and is answered as the conflict it is.
        with transaction.atomic():
            fill = OrderFill.objects.create(
                order=order,
                fill_id=fill_id,
                quantity=quantity,
                price=price,
                fee=fee,
                venue=venue,
                executed_at=executed_at,
                refused_reason=refused,
            )
    except IntegrityError:
        existing = OrderFill.objects.filter(fill_id=fill_id).first()
        if existing is None:
            raise
        return _fill_replayed(existing, order, quantity=quantity, price=price, fee=fee, venue=venue)
    if refused:
        log.error("overfill refused on order %s: fill %s", order.pk, fill_id)
        metrics.overfill_refused(fill)
        return FillResult(fill, applied=False, duplicate=False)

    order.average_fill_price = round_price(
        positions.average_price(order.filled_quantity, order.average_fill_price, quantity, price)
    )
    order.filled_quantity += quantity
    _transition(
        order,
        states.fill_event(order.filled_quantity, order.quantity),
        actor=actor,
        reason=f"fill {quantity} @ {price} on {venue or 'venue'}",
        payload={"fill_id": fill_id, "quantity": str(quantity), "price": str(price), "venue": venue},
        also_saved=("filled_quantity", "average_fill_price"),
    )
    _position_apply(order, quantity=quantity, price=price, fee=fee)
    metrics.fill_applied(fill)
    return FillResult(fill, applied=True, duplicate=False)


def _refuse_finer_than_stored(*, quantity: Decimal, price: Decimal) -> None:
    """A quantity or price the database would round (a 0.000000001 fill stored as 0) is refused."""
    for name, value, quantum in (("quantity", quantity, QUANTITY_QUANTUM), ("price", price, PRICE_QUANTUM)):
        if value != value.quantize(quantum, rounding=ROUND_DOWN):
            raise Conflict(f"fill {name} {value} is finer than the stored precision {quantum}")


def _fill_replayed(
    existing: OrderFill, order: Order, *, quantity: Decimal, price: Decimal, fee: Decimal, venue: str
) -> FillResult:
    """A fill id seen before: the same report again is a duplicate (nothing changes); the
    same id with other terms, or for another order, is a conflict."""
    if existing.order_id != order.pk:
        raise Conflict(f"fill id {existing.fill_id} already belongs to order {existing.order_id}")
    if (existing.quantity, existing.price, existing.fee, existing.venue) != (quantity, price, money(fee), venue):
        raise Conflict(
            f"fill id {existing.fill_id} was already reported as {existing.quantity} @ {existing.price} "
            f"(fee {existing.fee}, venue {existing.venue or '-'}), now {quantity} @ {price} "
            f"(fee {fee}, venue {venue or '-'})"
        )
    return FillResult(existing, existing.applied, duplicate=True)


def _position_apply(order: Order, *, quantity: Decimal, price: Decimal, fee: Decimal) -> None:
    instrument = order.instrument
    pos_id = Position.objects.get_or_create(portfolio_id=order.portfolio_id, instrument=instrument)[0].pk
    pos = lock_one(Position, pos_id)
    after = positions.apply_trade(
        positions.PositionState(pos.quantity, pos.average_cost, pos.realised_pnl),
        side=order.side,
        quantity=quantity,
        price=price,
        multiplier=instrument.multiplier,
    )
    pos.quantity, pos.average_cost, pos.realised_pnl = (
        after.quantity,
        round_price(after.average_cost),
        money(after.realised_pnl),
    )
    pos.save(update_fields=["quantity", "average_cost", "realised_pnl", "updated_at"])
    notional = quantity * price * instrument.multiplier
    cash_delta = -(notional + fee) if order.side == Side.BUY else notional - fee
    Portfolio.objects.filter(pk=order.portfolio_id).update(cash=F("cash") + money(cash_delta))


@transaction.atomic
def portfolio_seed(
    *, owner, name: str, cash: Decimal, holdings: list[tuple[Instrument, Decimal, Decimal]]
) -> Portfolio:
    """A portfolio with its opening holdings (instrument, quantity, average cost), created once:
    seeding again must not undo trading. The opening cash and holdings are written to the
    ledgers (an opening cash movement, holding transfers), so the books reconcile from day one."""
    portfolio, created = Portfolio.objects.get_or_create(owner=owner, name=name, defaults={"cash": Decimal(0)})
    if created:
        if cash:
            ledger.cash_movement_record(
                actor=None, portfolio_id=portfolio.pk, kind="OPENING", amount=cash, reason="opening balance"
            )
            portfolio.refresh_from_db(fields=["cash"])
        Position.objects.bulk_create(
            Position(portfolio=portfolio, instrument=instrument, quantity=quantity, average_cost=cost)
            for instrument, quantity, cost in holdings
        )
        for instrument, quantity, cost in holdings:
            ledger.holding_transfer_record(
                portfolio=portfolio, instrument=instrument, quantity=quantity, cost=cost, reason="opening holding"
            )
    return portfolio


def compliance_rule_ensure(
    *,
    kind: str,
    name: str,
    portfolio: Portfolio | None = None,
    instrument: Instrument | None = None,
    limit: Decimal | None = None,
) -> ComplianceRule:
    """The one enabled rule of this kind and scope, with this limit (idempotent)."""
    rule, _ = ComplianceRule.objects.update_or_create(
        kind=kind,
        portfolio=portfolio,
        instrument=instrument,
        defaults={"limit": limit, "name": name, "enabled": True},
    )
    return rule


# --------------------------------------------------------------------------- amendments

KEEP = object()  # an amendment that leaves the limit price as it is (None makes it a market order)


@dataclass(frozen=True)
class AmendResult:
    order: Order
    amended: bool
    refusals: list[compliance.Breach]


def _amend_draft(order: Order, *, quantity: Decimal, limit_price: Decimal | None) -> compliance.OrderDraft:
    """The amended order as compliance sees a new one: its whole quantity, against the
    position as it was before this order's own fills and the other orders' open sells."""
    draft = _draft(
        portfolio=order.portfolio,
        instrument=order.instrument,
        side=order.side,
        quantity=quantity,
        limit_price=limit_price,
    )
    selling = order.side == Side.SELL
    own_fills = -order.filled_quantity if selling else order.filled_quantity
    own_open = order.quantity - order.filled_quantity if selling else Decimal(0)
    return replace(
        draft,
        position_quantity=draft.position_quantity - own_fills,
        open_sell_quantity=draft.open_sell_quantity - own_open,
    )


@transaction.atomic
def order_amend(
    *, actor, order_id: int, quantity: Decimal | None = None, limit_price=KEEP, confirmed: bool = False
) -> AmendResult:
    """Change an open order's quantity or limit price. The new terms go through pre-trade
    compliance as a new order would, under the portfolio lock; a breach refuses the
    amendment (audited as AMEND_REJECT, the order unchanged). A worked order's execution
    follows the new terms on its next tick. Asking for the terms it already has changes nothing."""
    order = _locked(order_id)
    order.portfolio = lock_one(Portfolio, order.portfolio_id, what="portfolio")
    # At the stored precision, so that the audit's old and new values read alike.
    new_quantity = order.quantity if quantity is None else Decimal(quantity).quantize(QUANTITY_QUANTUM)
    new_limit = order.limit_price if limit_price is KEEP else limit_price
    new_limit = None if new_limit is None else Decimal(new_limit).quantize(PRICE_QUANTUM)
    if (new_quantity, new_limit) == (order.quantity, order.limit_price):
        return AmendResult(order, amended=False, refusals=[])
    if order.status not in states.AMENDABLE_STATUSES:
        raise Conflict(f"order {order.pk} is {order.status}: only an accepted or working order can be amended")
    if new_quantity <= order.filled_quantity:
        raise Conflict(
            f"order {order.pk} has {order.filled_quantity} filled: the quantity must stay above it (cancel instead)"
        )
    breaches = compliance.evaluate(
        _amend_draft(order, quantity=new_quantity, limit_price=new_limit),
        selectors.compliance_rules_for(order.portfolio, order.instrument),
    )
    soft = [b for b in breaches if b.soft]
    hard = [b for b in breaches if not b.soft]
    if soft and not hard and not confirmed:
        raise compliance.ConfirmationRequired("; ".join(b.message for b in soft))
    terms = {
        "quantity": {"old": str(order.quantity), "new": str(new_quantity)},
        "limit_price": {
            "old": None if order.limit_price is None else str(order.limit_price),
            "new": None if new_limit is None else str(new_limit),
        },
    }
    if hard:
        reason = "amendment refused: " + "; ".join(b.message for b in hard)
        _transition(order, states.AMEND_REJECT, actor=actor, reason=reason, payload={"asked": terms})
        return AmendResult(order, amended=False, refusals=hard)
    order.quantity, order.limit_price = new_quantity, new_limit
    reason = "amended: passed pre-trade compliance"
    if soft:
        reason += "; confirmed by the user: " + "; ".join(b.message for b in soft)
    _transition(order, states.AMEND, actor=actor, reason=reason, payload=terms, also_saved=("quantity", "limit_price"))
    return AmendResult(order, amended=True, refusals=[])


class FillBatch:
    """`apply_fill` for many fills in one transaction (a batch of venue reports): the same
    rules (idempotent by fill id, an overfill kept refused, the order's transitions audited,
    position and cash moved), with the rows written together at the end (`write`) and each
    changed order pushed once, as it stands after the batch.

    The caller locks the orders (core.locks.LOCK_ORDER; `select_related` instrument,
    portfolio and created_by for the push) and passes them in; `prepare` then reads the
    fills already stored and locks the positions the batch moves. `apply` checks everything
    that can refuse a fill before it changes anything, so a fill that raises leaves the batch
    as it was and the caller can keep the report aside and go on with the others."""

    def __init__(self, orders, *, actor=None, now: datetime | None = None):
        self.orders: dict[int, Order] = {o.pk: o for o in orders}
        self.actor = actor
        self.now = now or timezone.now()
        self._known: dict[str, OrderFill] = {}
        self._positions: dict[tuple[int, int], Position] = {}
        self._fills: list[OrderFill] = []
        self._events: list[OrderEvent] = []
        self._changed: dict[int, Order] = {}
        self._moved: dict[tuple[int, int], Position] = {}
        self._cash: dict[int, Decimal] = {}

    def prepare(self, *, fill_ids: Iterable[str], order_ids: Iterable[int]) -> None:
        """Read the stored fills among `fill_ids`, and lock (creating if need be) the
        positions of `order_ids`: those the batch may fill."""
        self._known.update((f.fill_id, f) for f in OrderFill.objects.filter(fill_id__in=set(fill_ids)))
        keys = {(self.orders[pk].portfolio_id, self.orders[pk].instrument_id) for pk in set(order_ids)}
        missing = keys - set(self._positions)
        if not missing:
            return
        # Created beside a concurrent batch's creation: the unique constraint keeps one.
        Position.objects.bulk_create(
            [Position(portfolio_id=p, instrument_id=i) for p, i in missing], ignore_conflicts=True
        )
        match = Q()
        for portfolio_id, instrument_id in missing:
            match |= Q(portfolio_id=portfolio_id, instrument_id=instrument_id)
        for position in lock_all(Position.objects.filter(match)):
            self._positions[(position.portfolio_id, position.instrument_id)] = position

    def apply(
        self,
        *,
        order_id: int,
        fill_id: str,
        quantity: Decimal,
        price: Decimal,
        venue: str = "",
        fee: Decimal = Decimal(0),
        executed_at: datetime | None = None,
    ) -> FillResult:
        quantity, price, fee = Decimal(quantity), Decimal(price), Decimal(fee)
        if quantity <= 0 or price <= 0:
            raise Conflict("a fill needs a positive quantity and price")
        _refuse_finer_than_stored(quantity=quantity, price=price)
        order = self.orders[order_id]
        existing = self._known.get(fill_id)
        if existing is not None:
            return _fill_replayed(existing, order, quantity=quantity, price=price, fee=fee, venue=venue)
        refused = ""
        if order.filled_quantity + quantity > order.quantity:
            refused = f"overfill: {order.filled_quantity} filled + {quantity} > {order.quantity}"
        fill = OrderFill(
            order=order,
            fill_id=fill_id,
            quantity=quantity,
            price=price,
            fee=money(fee),
            venue=venue,
            executed_at=executed_at or self.now,
            refused_reason=refused,
        )
        if refused:
            log.error("overfill refused on order %s: fill %s", order.pk, fill_id)
            self._known[fill_id] = fill
            self._fills.append(fill)
            return FillResult(fill, applied=False, duplicate=False)
        # Everything that can refuse is computed before anything changes.
        filled = order.filled_quantity + quantity
        event = states.fill_event(filled, order.quantity)
        after = states.apply(states.OrderState(order.status, order.previous_status), event)
        average = round_price(positions.average_price(order.filled_quantity, order.average_fill_price, quantity, price))
        key = (order.portfolio_id, order.instrument_id)
        pos = self._positions[key]
        instrument = order.instrument
        trade = positions.apply_trade(
            positions.PositionState(pos.quantity, pos.average_cost, pos.realised_pnl),
            side=order.side,
            quantity=quantity,
            price=price,
            multiplier=instrument.multiplier,
        )
        notional = quantity * price * instrument.multiplier
        cash_delta = money(-(notional + fee) if order.side == Side.BUY else notional - fee)

        before = order.status
        order.status, order.previous_status = after.status, after.previous_status
        order.filled_quantity, order.average_fill_price = filled, average
        order.updated_at = self.now
        self._events.append(
            OrderEvent(
                order=order,
                actor=self.actor,
                event=event,
                from_status=before,
                to_status=order.status,
                reason=f"fill {quantity} @ {price} on {venue or 'venue'}"[:500],
                payload={"fill_id": fill_id, "quantity": str(quantity), "price": str(price), "venue": venue},
            )
        )
        pos.quantity, pos.average_cost, pos.realised_pnl = (
            trade.quantity,
            round_price(trade.average_cost),
            money(trade.realised_pnl),
        )
        pos.updated_at = self.now
        self._cash[order.portfolio_id] = self._cash.get(order.portfolio_id, Decimal(0)) + cash_delta
        self._known[fill_id] = fill
        self._fills.append(fill)
        self._changed[order.pk] = order
        self._moved[key] = pos
        return FillResult(fill, applied=True, duplicate=False)

    def write(self) -> None:
        """Insert the fills and audit rows, save the orders, positions and cash, and push each
        changed order once (after commit)."""
        from core.bulk import save_rows

        OrderFill.objects.bulk_create(self._fills)
        OrderEvent.objects.bulk_create(self._events)
        for fill in self._fills:
            (metrics.overfill_refused if fill.refused_reason else metrics.fill_applied)(fill)
        orders = sorted(self._changed.values(), key=lambda o: o.pk)
        save_rows(orders, ["status", "previous_status", "filled_quantity", "average_fill_price", "updated_at"])
        save_rows(
            sorted(self._moved.values(), key=lambda p: p.pk),
            ["quantity", "average_cost", "realised_pnl", "updated_at"],
        )
        for portfolio_id in sorted(self._cash):
            Portfolio.objects.filter(pk=portfolio_id).update(cash=F("cash") + self._cash[portfolio_id])
        with push.batched():
            for order in orders:
                push.order_changed(order)
        self._fills, self._events, self._changed, self._moved, self._cash = [], [], {}, {}, {}
