"""RFQ commands: curation of counterparties, opening an RFQ, dissemination, quotes, execution
and the window's close. Each command is atomic, locks the RFQ row first (an RFQ comes
before the orders it fills, like an execution), applies one event of the state tables in
rfq.domain.states and writes its RfqEvent row beside it.

Time is injected: every command takes `now` (default the wall clock), so tests move time by
hand and never sleep."""

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core import metrics
from core.decimals import QUANTITY_PLACES, to_step
from core.decimals import price as stored_price
from core.errors import Conflict, DomainError, NotFound
from core.locks import lock_all, lock_many, lock_one
from core.vocabulary import QuoteEventType, QuoteStatus, RfqEventType, RfqStatus
from marketdata.selectors import mid_price
from marketdata.sim import liquidity_providers as lps
from oms.domain import states as order_states
from oms.models import Order
from oms.services import apply_fill
from rfq import push, selectors
from rfq.domain import ladder as ladder_domain
from rfq.domain import legs as legs_domain
from rfq.domain import selection
from rfq.domain.best_execution import improvement
from rfq.domain.states import apply_quote, apply_rfq
from rfq.models import Counterparty, CounterpartyChange, Invitation, Quote, Rfq, RfqEvent, RfqExecution, RfqLeg

log = logging.getLogger(__name__)

DEFAULT_WINDOW_SECONDS = settings.RFQ_DEFAULT_WINDOW_SECONDS
MAX_WINDOW_SECONDS = 300
PROVIDER_SEED = settings.RFQ_PROVIDER_SEED
QUANTITY_QUANTUM = Decimal(1).scaleb(-QUANTITY_PLACES)
COUNTERPARTY_FIELDS = ("name", "asset_classes", "tier", "enabled", "max_notional", "connection", "notes")


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


# --- Counterparties ----------------------------------------------------------------------


def _value(v):
    return str(v) if isinstance(v, Decimal) else v


@transaction.atomic
def counterparty_save(*, actor, counterparty: Counterparty, action: str = "update") -> Counterparty:
    """Create or change a counterparty, auditing every field that changed (old and new)."""
    if counterparty.connection and counterparty.connection not in lps.PROFILES:
        raise DomainError(f"unknown connection {counterparty.connection!r}: one of {', '.join(lps.PROFILES)}")
    found = lock_many(Counterparty, [counterparty.pk]) if counterparty.pk else []
    before = found[0] if found else None
    changes = {
        f: [_value(getattr(before, f)) if before else None, _value(getattr(counterparty, f))]
        for f in COUNTERPARTY_FIELDS
        if before is None or getattr(before, f) != getattr(counterparty, f)
    }
    counterparty.save()
    if changes:
        CounterpartyChange.objects.create(
            counterparty=counterparty, actor=actor, action="create" if before is None else action, changes=changes
        )
    return counterparty


@transaction.atomic
def counterparties_update(*, actor, counterparty_ids: list[int], action: str, **values) -> int:
    """Bulk change (enable, disable, set tier), one audit row per counterparty that changed."""
    changed = 0
    for cp in lock_many(Counterparty, counterparty_ids):
        if all(getattr(cp, k) == v for k, v in values.items()):
            continue
        for k, v in values.items():
            setattr(cp, k, v)
        counterparty_save(actor=actor, counterparty=cp, action=action)
        changed += 1
    return changed


@transaction.atomic
def counterparties_seed(*, rows: list[dict]) -> dict[str, Counterparty]:
    """Idempotent by name: missing counterparties are created; existing ones are left as curated."""
    out = {}
    for row in rows:
        existing = Counterparty.objects.filter(name=row["name"]).first()
        out[row["name"]] = existing or counterparty_save(
            actor=None, counterparty=Counterparty(**{**row, "max_notional": Decimal(str(row["max_notional"]))})
        )
    return out


# --- Transitions -------------------------------------------------------------------------


def _rfq_transition(rfq: Rfq, event: RfqEventType, *, now, actor=None, reason="", also=()) -> None:
    before = rfq.status
    target = apply_rfq(before, event)
    if event == RfqEventType.QUOTE and target == before and not also:
        return  # a further quote while quoting: the quote's own event is the audit
    rfq.status = target
    rfq.save(update_fields=["status", *also])
    RfqEvent.objects.create(
        rfq=rfq, actor=actor, at=now, event=event, from_status=before, to_status=rfq.status, reason=reason[:300]
    )


def _quote_transition(
    quote: Quote, event: QuoteEventType, *, now, actor=None, reason="", events: list | None = None
) -> None:
    """`events` given: the audit row is appended to it, for the caller to insert with the
    others in one statement (a quote and the one it replaces)."""
    before = quote.status if quote.pk else ""
    quote.status = apply_quote(before, event)
    if quote.pk:
        quote.save(update_fields=["status"])
    else:
        quote.save()
    row = RfqEvent(
        rfq_id=quote.rfq_id,
        quote=quote,
        actor=actor,
        at=now,
        event=f"QUOTE_{event}",
        from_status=before,
        to_status=quote.status,
        reason=reason[:300],
    )
    if events is None:
        row.save()
    else:
        events.append(row)


# --- Opening -----------------------------------------------------------------------------


def _decimal_or_none(v) -> Decimal | None:
    return None if v is None else Decimal(v)


@transaction.atomic
def rfq_open(
    *,
    actor,
    order_id: int,
    quantity: Decimal | None = None,
    counterparty_ids: list[int] | None = None,
    window_seconds: int | None = None,
    two_way: bool = False,
    auto_execute_price: Decimal | None = None,
    auto_execute_bps: Decimal | None = None,
    top_n: int | None = None,
    now: datetime | None = None,
) -> Rfq:
    """Open an RFQ for (part of) an order's unfilled quantity and disseminate it after commit.

    The entry point for the trader's ticket and for the EMS (an execution whose strategy is
    RFQ). `counterparty_ids` None: automatic selection."""
    now = _now(now)
    order = lock_one(Order, order_id, what="order")
    if not order_states.is_open(order.status) or order.status == order_states.NEW:
        raise Conflict(f"order {order.pk} is {order.status}: only an accepted, open order can be quoted")
    if Rfq.objects.filter(order=order, status__in=[RfqStatus.DRAFT, RfqStatus.SENT, RfqStatus.QUOTING]).exists():
        raise Conflict(f"order {order.pk} already has an open RFQ")
    instrument = order.instrument
    leaves = order.quantity - order.filled_quantity
    quantity = leaves if quantity is None else Decimal(quantity)
    if quantity <= 0 or quantity > leaves:
        raise DomainError(f"quantity must be positive and at most the unfilled {leaves}")
    if to_step(quantity, instrument.lot_size) != quantity:
        raise DomainError(f"quantity must be a multiple of the lot size {instrument.lot_size}")
    window = DEFAULT_WINDOW_SECONDS if window_seconds is None else int(window_seconds)
    if not 1 <= window <= MAX_WINDOW_SECONDS:
        raise DomainError(f"window_seconds must be between 1 and {MAX_WINDOW_SECONDS}")
    mid = mid_price(instrument)
    notional = quantity * mid * instrument.multiplier
    candidates = selectors.candidates()
    if counterparty_ids is None:
        top_n = settings.RFQ_TOP_N if top_n is None else top_n
        chosen = selection.select(candidates, asset_class=instrument.asset_class, notional=notional, top_n=top_n)
    else:
        by_id = {c.id: c for c in candidates}
        chosen = []
        for pk in dict.fromkeys(counterparty_ids):
            if pk not in by_id:
                raise DomainError(f"counterparty {pk} does not exist")
            why = selection.refusal(by_id[pk], asset_class=instrument.asset_class, notional=notional)
            if why:
                raise DomainError(why)
            chosen.append(by_id[pk])
    if not chosen:
        raise DomainError(f"no enabled counterparty quotes {instrument.asset_class} for {notional} notional")

    rfq = Rfq.objects.create(
        order=order,
        quantity=quantity,
        side=order.side,
        two_way=two_way,
        window_seconds=window,
        auto_execute_price=_decimal_or_none(auto_execute_price),
        auto_execute_bps=_decimal_or_none(auto_execute_bps),
        mid_at_open=mid,
        created_by=actor,
    )
    RfqLeg.objects.create(rfq=rfq, index=0, instrument=instrument, side=order.side, ratio=Decimal(1), order=order)
    RfqEvent.objects.create(
        rfq=rfq, actor=actor, at=now, event="OPEN", to_status=rfq.status, reason=f"{len(chosen)} counterparties"
    )
    metrics.rfq_opened(rfq, invited=len(chosen))
    for rank, c in enumerate(chosen):
        Invitation.objects.create(rfq=rfq, counterparty_id=c.id, token=secrets.token_hex(12), rank=rank)
    from rfq.tasks import rfq_disseminate_task

    rfq_disseminate_task.delay_on_commit(rfq.pk)
    return rfq


def provider_message(invitation: Invitation, rfq: Rfq) -> dict:
    """Exactly what a provider receives: the instrument(s), size and (unless two-way) side.
    Nothing about the client, the order or the other providers."""
    return {
        "request": invitation.token,
        "legs": [
            {
                "instrument": leg.instrument.symbol,
                "ratio": str(leg.ratio),
                **({} if rfq.two_way else {"side": leg.side}),
            }
            for leg in rfq.legs.select_related("instrument")
        ],
        "quantity": str(rfq.quantity),
        "side": None if rfq.two_way else rfq.side,
        "two_way": rfq.two_way,
        "respond_within_seconds": rfq.window_seconds,
    }


@dataclass(frozen=True)
class Scheduled:
    invitation_id: int
    index: int
    delay: float


@transaction.atomic
def rfq_disseminate(*, rfq_id: int, now: datetime | None = None) -> list[Scheduled] | None:
    """Send the RFQ to every invited provider at once. Returns the provider actions to
    schedule, as seconds from now; None when it was sent already (idempotent)."""
    now = _now(now)
    rfq = lock_one(Rfq, rfq_id, what="RFQ")
    if rfq.status != RfqStatus.DRAFT:
        return None
    rfq.sent_at = now
    rfq.window_ends_at = now + timedelta(seconds=rfq.window_seconds)
    _rfq_transition(rfq, RfqEventType.SEND, now=now, reason="disseminated", also=("sent_at", "window_ends_at"))
    leg = rfq.legs.select_related("instrument").get(index=0)
    instrument = leg.instrument
    scheduled = []
    for inv in rfq.invitations.select_related("counterparty"):
        inv.message = provider_message(inv, rfq)
        inv.sent_at = now
        request = lps.QuoteRequest(
            # Seeded by the RFQ and counterparty, so a run repeats; the token the provider sees is random.
            key=f"rfq{rfq.pk}-cp{inv.counterparty_id}",
            symbol=instrument.symbol,
            quantity=float(rfq.quantity),
            side=inv.message["side"],
            mid=float(rfq.mid_at_open),
            adv=float(instrument.adv or 0),
            daily_volatility=float(instrument.daily_volatility or 0),
            window_seconds=float(rfq.window_seconds),
        )
        plan = lps.provider(inv.counterparty.connection, PROVIDER_SEED).plan(request)
        inv.plan = [
            {
                "at": a.at,
                "kind": a.kind,
                "bid_bps": a.bid_offset_bps,
                "ask_bps": a.ask_offset_bps,
                "size": a.size,
                "validity": a.validity_seconds,
            }
            for a in plan
        ]
        inv.save(update_fields=["message", "sent_at", "plan"])
        scheduled += [Scheduled(inv.pk, i, a.at) for i, a in enumerate(plan)]
    _push_snapshot(rfq, now)
    return scheduled


# --- Provider answers --------------------------------------------------------------------


def _accepting(rfq: Rfq, now: datetime) -> bool:
    return rfq.status in (RfqStatus.SENT, RfqStatus.QUOTING) and rfq.window_ends_at and now < rfq.window_ends_at


def _first_response(inv: Invitation, now: datetime) -> bool:
    """Record the provider's first answer; True when this was it."""
    if inv.first_response_at is not None:
        return False
    inv.first_response_at = now
    inv.save(update_fields=["first_response_at", "passed"])
    return True


def _lock_quoted_rfq(rfq_id: int) -> Rfq:
    """The RFQ locked, with its order's instrument read in the same query (for the mid its
    ladder push is priced against)."""
    return lock_one(Rfq, rfq_id, what="RFQ", related=("order__instrument",))


def _push_snapshot(rfq: Rfq, now: datetime) -> None:
    push.ladder_changed(rfq, selectors.rfq_snapshot(rfq.pk, now=now))


def _live_quotes(rfq: Rfq) -> list[Quote]:
    """The RFQ's live quotes, with their providers. Read, not locked: every change to an
    RFQ's quotes is made under the RFQ's row lock, which the caller holds."""
    return list(Quote.objects.filter(rfq=rfq, status=QuoteStatus.LIVE).select_related("counterparty"))


def _push_ladder(rfq: Rfq, now: datetime, live: list[Quote], *, counterparties: bool = False) -> None:
    """The push of a quote, an update, a withdrawal or a pass: the ladder of the live quotes
    as the service has just left them, no snapshot (this is the path every quote takes)."""
    mid = mid_price(rfq.order.instrument)
    body = selectors.ladder_patch(rfq, now=now, mid=mid, live=live, counterparties=counterparties)
    push.ladder_changed(rfq, body)


@transaction.atomic
def provider_act(*, invitation_id: int, index: int, now: datetime | None = None) -> Quote | None:
    """Carry out step `index` of a simulated provider's plan, pricing around the mid now."""
    now = _now(now)
    inv = Invitation.objects.select_related("rfq").get(pk=invitation_id)
    action = inv.plan[index]
    if action["kind"] == lps.PASS:
        return invitation_pass(invitation_id=invitation_id, now=now)
    if action["kind"] == lps.WITHDRAW:
        return quote_withdraw(invitation_id=invitation_id, now=now)
    leg = inv.rfq.legs.select_related("instrument").get(index=0)
    instrument = leg.instrument
    mid = mid_price(instrument)
    tick = instrument.tick_size
    bid = to_step(mid * (1 - Decimal(str(action["bid_bps"])) / 10000), tick)
    ask = to_step(mid * (1 + Decimal(str(action["ask_bps"])) / 10000), tick)
    if ask <= bid:
        ask = bid + tick
    two_way = inv.rfq.two_way
    return quote_submit(
        invitation_id=invitation_id,
        bid=bid if two_way or inv.rfq.side == "SELL" else None,
        ask=ask if two_way or inv.rfq.side == "BUY" else None,
        size=to_step(Decimal(str(action["size"])), instrument.lot_size),
        validity_seconds=float(action["validity"]),
        now=now,
    )


@metrics.timed_quote
@transaction.atomic
def quote_submit(
    *,
    invitation_id: int,
    bid: Decimal | None,
    ask: Decimal | None,
    size: Decimal,
    validity_seconds: float,
    now: datetime | None = None,
) -> Quote | None:
    """A provider's quote, or its update (which replaces its live quote). A quote after the
    window, or for an RFQ that ended, is ignored (None)."""
    now = _now(now)
    inv = Invitation.objects.select_related("counterparty").get(pk=invitation_id)
    rfq = _lock_quoted_rfq(inv.rfq_id)
    if not _accepting(rfq, now):
        log.info("RFQ %s: late quote from invitation %s ignored", rfq.pk, inv.pk)
        return None
    if (bid is None and ask is None) or size <= 0:
        raise DomainError("a quote needs a price and a positive size")
    live = _live_quotes(rfq)
    previous = next((q for q in live if q.invitation_id == inv.pk), None)
    events: list[RfqEvent] = []
    if previous is not None:
        _quote_transition(previous, QuoteEventType.REPLACE, now=now, reason="updated by the provider", events=events)
    quote = Quote(
        rfq=rfq,
        invitation=inv,
        counterparty=inv.counterparty,
        # At the columns' precision, so the quote held here (and pushed) is the one stored.
        bid=None if bid is None else stored_price(bid),
        ask=None if ask is None else stored_price(ask),
        size=Decimal(min(Decimal(size), rfq.quantity)).quantize(QUANTITY_QUANTUM),
        received_at=now,
        valid_until=now + timedelta(seconds=validity_seconds),
        replaces=previous,
    )
    _quote_transition(quote, QuoteEventType.RECEIVE, now=now, reason="update" if previous else "quote", events=events)
    RfqEvent.objects.bulk_create(events)
    first = _first_response(inv, now)
    _rfq_transition(rfq, RfqEventType.QUOTE, now=now, reason=f"quote {quote.pk}")
    _push_ladder(rfq, now, [q for q in live if q is not previous] + [quote], counterparties=first)
    return quote


@transaction.atomic
def quote_withdraw(*, invitation_id: int, now: datetime | None = None) -> Quote | None:
    now = _now(now)
    inv = Invitation.objects.get(pk=invitation_id)
    rfq = _lock_quoted_rfq(inv.rfq_id)
    live = _live_quotes(rfq)
    quote = next((q for q in live if q.invitation_id == inv.pk), None)
    if quote is None or not rfq.is_open:
        return None
    _quote_transition(quote, QuoteEventType.WITHDRAW, now=now, reason="withdrawn by the provider")
    _rfq_transition(rfq, RfqEventType.QUOTE, now=now, reason=f"quote {quote.pk} withdrawn")
    _push_ladder(rfq, now, [q for q in live if q is not quote])
    return quote


@transaction.atomic
def invitation_pass(*, invitation_id: int, now: datetime | None = None) -> None:
    now = _now(now)
    inv = Invitation.objects.get(pk=invitation_id)
    rfq = _lock_quoted_rfq(inv.rfq_id)
    if not _accepting(rfq, now) or inv.first_response_at is not None:
        return None
    inv.passed = True
    _first_response(inv, now)
    _push_ladder(rfq, now, _live_quotes(rfq), counterparties=True)
    return None


# --- Execution ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExecuteResult:
    rfq: Rfq
    quote: Quote
    accepted: bool  # False: the provider rejected on last look


def _ladder(rfq: Rfq, now: datetime, mid: Decimal | None):
    quotes = Quote.objects.filter(rfq=rfq, status=QuoteStatus.LIVE).select_related("counterparty")
    return ladder_domain.ladder(
        [selectors.ladder_quote(q) for q in quotes], client_side=rfq.side, mid=mid, now=now.timestamp()
    )


@transaction.atomic
def rfq_execute(
    *, actor, rfq_id: int, quote_id: int, now: datetime | None = None, reason: str = "chosen by the trader"
) -> ExecuteResult:
    """Execute one live quote of an open RFQ, subject to the provider's last look. An RFQ
    executes at most once: its row lock serialises concurrent clicks, the state table
    refuses a second EXECUTE, and RfqExecution is unique per RFQ."""
    now = _now(now)
    rfq = lock_one(Rfq, rfq_id, what="RFQ")
    found = lock_all(Quote.objects.select_related("counterparty", "invitation").filter(pk=quote_id))
    quote = found[0] if found else None
    if quote is None or quote.rfq_id != rfq.pk:
        raise NotFound(f"quote {quote_id} is not part of RFQ {rfq.pk}")
    if rfq.status != RfqStatus.QUOTING:
        raise Conflict(f"RFQ {rfq.pk} is {rfq.status}: it cannot be executed")
    if quote.status != QuoteStatus.LIVE:
        raise Conflict(f"quote {quote.pk} is {quote.status}")
    if now >= quote.valid_until:
        raise Conflict(f"quote {quote.pk} expired at {quote.valid_until.isoformat()}")
    legs = list(rfq.legs.select_related("instrument", "order"))
    mid = mid_price(legs[0].instrument)
    price = quote.price_for(rfq.side)
    if price is None:
        raise Conflict(f"quote {quote.pk} has no {'ask' if rfq.side == 'BUY' else 'bid'}")
    quantity = min(quote.size, rfq.quantity)
    provider = lps.provider(quote.counterparty.connection, PROVIDER_SEED)
    if not provider.last_look(key=str(quote.pk), client_side=rfq.side, quoted_price=float(price), mid_now=float(mid)):
        _quote_transition(quote, QuoteEventType.LAST_LOOK_REJECT, now=now, actor=actor, reason="rejected on last look")
        rfq.last_attempt_rejected = True
        _rfq_transition(
            rfq,
            RfqEventType.LAST_LOOK_REJECT,
            now=now,
            actor=actor,
            reason=f"{quote.counterparty.name} rejected quote {quote.pk} on last look",
            also=("last_attempt_rejected",),
        )
        _push_snapshot(rfq, now)
        return ExecuteResult(rfq, quote, accepted=False)

    rows = _ladder(rfq, now, mid)
    others = [r.price for r in rows if r.quote != quote.pk]
    second = others[0] if others else None
    imp = improvement(price=price, client_side=rfq.side, mid=mid, second_best=second)
    _quote_transition(quote, QuoteEventType.EXECUTE, now=now, actor=actor, reason=reason)
    execution = RfqExecution.objects.create(
        rfq=rfq,
        quote=quote,
        price=price,
        quantity=quantity,
        executed_at=now,
        executed_by=actor,
        reason=reason,
        mid=mid,
        second_best_price=second,
        improvement_vs_mid_bps=imp.vs_mid_bps,
        improvement_vs_second_bps=imp.vs_second_bps,
    )
    rfq.last_attempt_rejected = False
    rfq.closed_at = now
    _rfq_transition(
        rfq,
        RfqEventType.EXECUTE,
        now=now,
        actor=actor,
        reason=f"{quantity} @ {price} with {quote.counterparty.name}: {reason}",
        also=("last_attempt_rejected", "closed_at"),
    )
    _close_quotes(rfq, now)
    execution.quotes_record = selectors.quotes_record(rfq, client_side=rfq.side)
    execution.save(update_fields=["quotes_record"])
    _score_invitations(rfq, mid, winner=quote)
    fills = legs_domain.leg_fills(
        [legs_domain.Leg(leg.index, leg.side, leg.ratio) for leg in legs], quantity=quantity, net_price=price
    )
    by_index = {leg.index: leg for leg in legs}
    for f in fills:
        leg = by_index[f.index]
        result = apply_fill(
            order_id=leg.order_id,
            fill_id=f"rfq-{rfq.pk}-leg{leg.index}",
            quantity=f.quantity,
            price=to_step(f.price, leg.instrument.tick_size),
            venue=f"RFQ {quote.counterparty.name}"[:32],
            executed_at=now,
            actor=actor,
        )
        if not result.applied:
            raise Conflict(f"the fill of order {leg.order_id} was refused: {result.fill.refused_reason}")
    _push_snapshot(rfq, now)
    return ExecuteResult(rfq, quote, accepted=True)


def _close_quotes(rfq: Rfq, now: datetime) -> None:
    for q in lock_all(Quote.objects.filter(rfq=rfq, status=QuoteStatus.LIVE)):
        if now >= q.valid_until:
            _quote_transition(q, QuoteEventType.EXPIRE, now=now, reason="validity ended")
        else:
            _quote_transition(q, QuoteEventType.CLOSE, now=now, reason=f"RFQ {rfq.status.lower()}")


def _score_invitations(rfq: Rfq, mid: Decimal | None, *, winner: Quote | None) -> None:
    """Each provider's best price against the RFQ's best and the mid, for its scorecard."""
    side = rfq.side
    best_by_inv: dict[int, Decimal] = {}
    for q in Quote.objects.filter(rfq=rfq):
        p = q.price_for(side)
        if p is None:
            continue
        if q.invitation_id not in best_by_inv or ladder_domain.better(p, best_by_inv[q.invitation_id], side):
            best_by_inv[q.invitation_id] = p
    if not best_by_inv:
        return
    best = min(best_by_inv.values()) if side == "BUY" else max(best_by_inv.values())
    for inv in rfq.invitations.all():
        p = best_by_inv.get(inv.pk)
        inv.won = winner is not None and winner.invitation_id == inv.pk
        if p is not None:
            inv.was_best = p == best
            inv.distance_from_best_bps = ladder_domain.bps_from_mid(p, best, side)
            inv.distance_from_mid_bps = ladder_domain.bps_from_mid(p, mid, side)
        inv.save(update_fields=["won", "was_best", "distance_from_best_bps", "distance_from_mid_bps"])


@dataclass(frozen=True)
class CloseResult:
    status: str
    executed: ExecuteResult | None = None
    retry_in: float | None = None  # the window is not over yet


def rfq_close(*, rfq_id: int, now: datetime | None = None) -> CloseResult:
    """The window's end: auto-execute the best quote at or better than the threshold (the
    next one if a provider rejects on last look), else expire. Idempotent."""
    now = _now(now)
    with transaction.atomic():
        rfq = lock_one(Rfq, rfq_id, what="RFQ")
        if not rfq.is_open:
            return CloseResult(rfq.status)
        if rfq.window_ends_at is None:
            return CloseResult(rfq.status, retry_in=1.0)
        if now < rfq.window_ends_at:
            return CloseResult(rfq.status, retry_in=(rfq.window_ends_at - now).total_seconds())
        threshold = rfq.auto_execute_price is not None or rfq.auto_execute_bps is not None
        candidates = []
        if threshold and rfq.status == RfqStatus.QUOTING:
            mid = mid_price(rfq.legs.get(index=0).instrument)
            candidates = [
                r.quote
                for r in _ladder(rfq, now, mid)
                if ladder_domain.meets_threshold(
                    r.price,
                    client_side=rfq.side,
                    mid=mid,
                    threshold_price=rfq.auto_execute_price,
                    threshold_bps=rfq.auto_execute_bps,
                )
            ]
    for quote_id in candidates:
        # Each attempt in its own transaction: a last-look rejection is kept.
        try:
            result = rfq_execute(actor=None, rfq_id=rfq_id, quote_id=quote_id, now=now, reason=_auto_reason(rfq))
        except Conflict:  # executed meanwhile by a click, or this quote just went
            continue
        if result.accepted:
            return CloseResult(RfqStatus.EXECUTED, executed=result)
    return _expire(rfq_id, now)


def _auto_reason(rfq: Rfq) -> str:
    if rfq.auto_execute_price is not None:
        return f"auto-executed at the window's end: at or better than {rfq.auto_execute_price}"
    return f"auto-executed at the window's end: within {rfq.auto_execute_bps} bps of the mid"


@transaction.atomic
def _expire(rfq_id: int, now: datetime) -> CloseResult:
    rfq = lock_one(Rfq, rfq_id, what="RFQ")
    if not rfq.is_open:
        return CloseResult(rfq.status)
    rfq.closed_at = now
    if rfq.status == RfqStatus.DRAFT:
        _rfq_transition(rfq, RfqEventType.CANCEL, now=now, reason="never sent", also=("closed_at",))
    else:
        _rfq_transition(
            rfq, RfqEventType.EXPIRE, now=now, reason="window closed without an execution", also=("closed_at",)
        )
    _close_quotes(rfq, now)
    _score_invitations(rfq, mid_price(rfq.legs.get(index=0).instrument), winner=None)
    _push_snapshot(rfq, now)
    return CloseResult(rfq.status)


@transaction.atomic
def rfq_cancel(*, actor, rfq_id: int, now: datetime | None = None) -> Rfq:
    now = _now(now)
    rfq = lock_one(Rfq, rfq_id, what="RFQ")
    rfq.closed_at = now
    _rfq_transition(
        rfq, RfqEventType.CANCEL, now=now, actor=actor, reason="cancelled by the trader", also=("closed_at",)
    )
    _close_quotes(rfq, now)
    _push_snapshot(rfq, now)
    return rfq
