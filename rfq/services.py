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
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from core import metrics
from core.decimals import QUANTITY_PLACES, to_step
from core.decimals import price as stored_price
from core.errors import Conflict, DomainError, NotFound
from core.locks import lock_all, lock_many, lock_one
from core.vocabulary import QuoteEventType, QuoteStatus, RfqEventType, RfqExecutionMode, RfqStatus
from marketdata.selectors import mid_price, model_value
from marketdata.sim import liquidity_providers as lps
from oms.domain import states as order_states
from oms.models import Order, Package, PackageLeg
from oms.services import apply_fill
from rfq import fix_lp, pricing, push, selectors
from rfq.domain import ladder as ladder_domain
from rfq.domain import legs as legs_domain
from rfq.domain import selection
from rfq.domain.best_execution import improvement
from rfq.domain.states import apply_quote, apply_rfq
from rfq.models import (
    Counterparty,
    CounterpartyChange,
    Invitation,
    Quote,
    Rfq,
    RfqEvent,
    RfqExecution,
    RfqExecutionPart,
    RfqLeg,
)

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
    if (
        counterparty.connection
        and counterparty.connection not in lps.PROFILES
        and not fix_lp.is_fix(counterparty.connection)
    ):
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
    order_id: int | None = None,
    package_id: int | None = None,
    quantity: Decimal | None = None,
    counterparty_ids: list[int] | None = None,
    window_seconds: int | None = None,
    two_way: bool = False,
    auto_execute_price: Decimal | None = None,
    auto_execute_bps: Decimal | None = None,
    execution_mode: str | None = None,
    min_trade_quantity: Decimal | None = None,
    top_n: int | None = None,
    now: datetime | None = None,
) -> Rfq:
    """Open an RFQ for (part of) an order's unfilled quantity, or a package's unfilled
    units (`package_id`: one net price per package unit), and disseminate it after commit.

    The entry point for the trader's ticket and for the EMS (an execution whose strategy is
    RFQ). `counterparty_ids` None: automatic selection."""
    now = _now(now)
    if package_id is not None:
        return _package_open(
            actor=actor,
            package_id=package_id,
            quantity=quantity,
            counterparty_ids=counterparty_ids,
            window_seconds=window_seconds,
            two_way=two_way,
            auto_execute_price=auto_execute_price,
            auto_execute_bps=auto_execute_bps,
            execution_mode=execution_mode or RfqExecutionMode.ALL_OR_NONE,
            min_trade_quantity=min_trade_quantity,
            top_n=top_n,
            now=now,
        )
    if order_id is None:
        raise DomainError("an RFQ is for an order or a package")
    order = lock_one(Order, order_id, what="order")
    if not order_states.is_open(order.status) or order.status == order_states.NEW:
        raise Conflict(f"order {order.pk} is {order.status}: only an accepted, open order can be quoted")
    if Rfq.objects.filter(order=order, status__in=[RfqStatus.DRAFT, RfqStatus.SENT, RfqStatus.QUOTING]).exists():
        raise Conflict(f"order {order.pk} already has an open RFQ")
    leg = PackageLeg.objects.filter(order=order).select_related("package").first()
    if leg is not None and not leg.is_hedge and not leg.package.allow_leg_work:
        raise Conflict(
            f"order {order.pk} is a leg of package {leg.package_id} and the PM did not allow working a leg alone:"
            " quote the package"
        )
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
    chosen = _choose(counterparty_ids, asset_class=instrument.asset_class, notional=notional, top_n=top_n)

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


def _choose(counterparty_ids, *, asset_class: str, notional: Decimal, top_n: int | None) -> list:
    candidates = selectors.candidates()
    if counterparty_ids is None:
        top_n = settings.RFQ_TOP_N if top_n is None else top_n
        chosen = selection.select(candidates, asset_class=asset_class, notional=notional, top_n=top_n)
    else:
        by_id = {c.id: c for c in candidates}
        chosen = []
        for pk in dict.fromkeys(counterparty_ids):
            if pk not in by_id:
                raise DomainError(f"counterparty {pk} does not exist")
            why = selection.refusal(by_id[pk], asset_class=asset_class, notional=notional)
            if why:
                raise DomainError(why)
            chosen.append(by_id[pk])
    if not chosen:
        raise DomainError(f"no enabled counterparty quotes {asset_class} for {notional} notional")
    return chosen


def _package_open(
    *,
    actor,
    package_id: int,
    quantity,
    counterparty_ids,
    window_seconds,
    two_way,
    auto_execute_price,
    auto_execute_bps,
    execution_mode: str,
    min_trade_quantity,
    top_n,
    now: datetime,
) -> Rfq:
    """A package RFQ: one leg per package leg (the hedge leg outside the net price), sized in
    package units, each leg's model value recorded as it opens (the implied leg prices of
    every quote are taken from them)."""
    package = lock_one(Package, package_id, what="package")
    rows = list(PackageLeg.objects.filter(package=package).select_related("order", "order__instrument__underlying"))
    orders = lock_many(Order, [r.order_id for r in rows])
    by_id = {o.pk: o for o in orders}
    for r in rows:
        o = by_id[r.order_id]
        if not order_states.is_open(o.status) or o.status == order_states.NEW:
            raise Conflict(f"leg order {o.pk} is {o.status}: only a package of accepted, open orders can be quoted")
    open_statuses = [RfqStatus.DRAFT, RfqStatus.SENT, RfqStatus.QUOTING]
    if RfqLeg.objects.filter(order_id__in=list(by_id), rfq__status__in=open_statuses).exists():
        raise Conflict(f"package {package.pk} already has an open RFQ")
    if execution_mode not in RfqExecutionMode.__members__.values():
        raise DomainError(f"execution_mode must be one of {', '.join(RfqExecutionMode)}")
    priced = [r for r in rows if not r.is_hedge]
    # Unfilled package units: what every leg still has room for, in whole units.
    leaves = min(((by_id[r.order_id].quantity - by_id[r.order_id].filled_quantity) / r.ratio) for r in priced)
    leaves = leaves.to_integral_value(rounding="ROUND_DOWN")
    quantity = leaves if quantity is None else Decimal(quantity)
    if quantity <= 0 or quantity > leaves or quantity != quantity.to_integral_value():
        raise DomainError(
            f"quantity must be a whole number of package units, positive and at most the unfilled {leaves}"
        )
    min_trade = _decimal_or_none(min_trade_quantity)
    if min_trade is not None and not (0 < min_trade <= quantity):
        raise DomainError(f"min_trade_quantity must be positive and at most the quantity {quantity}")
    window = DEFAULT_WINDOW_SECONDS if window_seconds is None else int(window_seconds)
    if not 1 <= window <= MAX_WINDOW_SECONDS:
        raise DomainError(f"window_seconds must be between 1 and {MAX_WINDOW_SECONDS}")
    values = {r.pk: model_value(r.order.instrument) for r in rows}
    notional = sum(
        (quantity * r.ratio * abs(values[r.pk][0]) * r.order.instrument.multiplier for r in rows), Decimal(0)
    )
    asset_class = priced[0].order.instrument.asset_class
    chosen = _choose(counterparty_ids, asset_class=asset_class, notional=notional, top_n=top_n)
    first = priced[0].order
    mid = _mid_of(rows, values, package.side)
    rfq = Rfq.objects.create(
        order=first,
        package=package,
        quantity=quantity,
        side=package.side,
        two_way=two_way,
        execution_mode=execution_mode,
        min_trade_quantity=min_trade,
        window_seconds=window,
        auto_execute_price=_decimal_or_none(auto_execute_price),
        auto_execute_bps=_decimal_or_none(auto_execute_bps),
        mid_at_open=mid,
        created_by=actor,
    )
    RfqLeg.objects.bulk_create(
        [
            RfqLeg(
                rfq=rfq,
                index=r.index,
                instrument=r.order.instrument,
                side=r.order.side,
                ratio=r.ratio,
                order=r.order,
                is_hedge=r.is_hedge,
                model_price=stored_price(values[r.pk][0]),
            )
            for r in rows
        ]
    )
    RfqEvent.objects.create(
        rfq=rfq,
        actor=actor,
        at=now,
        event="OPEN",
        to_status=rfq.status,
        reason=f"package {package.pk}: {len(priced)} legs, {len(chosen)} counterparties",
    )
    metrics.rfq_opened(rfq, invited=len(chosen))
    for rank, c in enumerate(chosen):
        Invitation.objects.create(rfq=rfq, counterparty_id=c.id, token=secrets.token_hex(12), rank=rank)
    from rfq.tasks import rfq_disseminate_task

    rfq_disseminate_task.delay_on_commit(rfq.pk)
    return rfq


def _mid_of(rows, values, side: str) -> Decimal:
    legs = [legs_domain.Leg(r.index, r.order.side, r.ratio, values[r.pk][0]) for r in rows if not r.is_hedge]
    return legs_domain.model_mid(legs, side).quantize(pricing.MID_QUANTUM)


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
            if not leg.is_hedge
        ],
        "quantity": str(rfq.quantity),
        "side": None if rfq.two_way else rfq.side,
        "two_way": rfq.two_way,
        "respond_within_seconds": rfq.window_seconds,
        **(_package_message(rfq) if rfq.package_id else {}),
    }


def _package_message(rfq: Rfq) -> dict:
    """What a package request adds: how it may be filled and the hedge. Still nothing about
    the client (the package and its portfolio stay on our side)."""
    hedge = pricing.hedge_leg(rfq)
    return {
        "execution_mode": rfq.execution_mode,
        "min_trade_quantity": None if rfq.min_trade_quantity is None else str(rfq.min_trade_quantity),
        "price": "NET_PER_UNIT",
        "hedge": None
        if hedge is None
        else {
            "instrument": hedge.instrument.symbol,
            "ratio": str(hedge.ratio),
            **({} if rfq.two_way else {"side": hedge.side}),
        },
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
    if rfq.package_id is not None:
        scheduled = _package_disseminate(rfq, now)
        _push_snapshot(rfq, now)
        return scheduled
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
        if fix_lp.is_fix(inv.counterparty.connection):
            # The provider is asked over its FIX session (rfq.fix_lp) and answers on its own.
            fix_lp.quote_request_send(
                connection=inv.counterparty.connection, token=inv.token, invitation_id=inv.pk, message=inv.message
            )
            plan = []
        else:
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


def _plan_row(a: lps.ProviderAction) -> dict:
    return {
        "at": a.at,
        "kind": a.kind,
        "bid_bps": a.bid_offset_bps,
        "ask_bps": a.ask_offset_bps,
        "bid_offset": a.bid_offset,
        "ask_offset": a.ask_offset,
        "takes_hedge": a.takes_hedge,
        "size": a.size,
        "validity": a.validity_seconds,
    }


def _package_disseminate(rfq: Rfq, now: datetime) -> list[Scheduled]:
    """Each provider's plan for a package: priced from the legs' model values (gross premium
    and vega) with a spread that widens with size and vega (lps.package_half_spread)."""
    legs = pricing.priced_legs(rfq)
    gross_vega = Decimal(0)
    adv_pct = 0.0
    for leg in legs:
        _, _, vega = model_value(leg.instrument)
        gross_vega += leg.ratio * abs(vega)
        adv = float(leg.instrument.adv or 0)
        adv_pct = max(adv_pct, 100.0 * float(rfq.quantity * leg.ratio) / adv if adv > 0 else 100.0)
    gross = legs_domain.gross_premium(pricing.domain_legs(rfq))
    scheduled = []
    for inv in rfq.invitations.select_related("counterparty"):
        inv.message = provider_message(inv, rfq)
        inv.sent_at = now
        request = lps.PackageQuoteRequest(
            key=f"rfq{rfq.pk}-cp{inv.counterparty_id}",
            quantity=float(rfq.quantity),
            side=inv.message["side"],
            model_mid=float(rfq.mid_at_open),
            gross_premium=float(gross),
            gross_vega=float(gross_vega),
            adv_pct=adv_pct,
            window_seconds=float(rfq.window_seconds),
            parts_allowed=rfq.execution_mode == RfqExecutionMode.ANY_PART_OF,
            min_trade_quantity=float(rfq.min_trade_quantity or 0),
            hedge=pricing.hedge_leg(rfq) is not None,
        )
        plan = lps.provider(inv.counterparty.connection, PROVIDER_SEED).plan_package(request)
        inv.plan = [_plan_row(a) for a in plan]
        inv.save(update_fields=["message", "sent_at", "plan"])
        scheduled += [Scheduled(inv.pk, i, a.at) for i, a in enumerate(plan)]
    return scheduled


# --- Provider answers --------------------------------------------------------------------


def _accepting(rfq: Rfq, now: datetime) -> bool:
    return rfq.status in (RfqStatus.SENT, RfqStatus.QUOTING) and rfq.window_ends_at and now < rfq.window_ends_at


def _push_snapshot(rfq: Rfq, now: datetime) -> None:
    push.ladder_changed(rfq, selectors.rfq_snapshot(rfq.pk, now=now))


@dataclass(frozen=True)
class _Answering:
    """A provider's answer about to be applied: its RFQ, locked, and what the answer needs of
    its invitation, all from one query."""

    rfq: Rfq
    invitation_id: int
    counterparty_id: int
    provider: str
    answered_before: bool  # a first answer once recorded stays: True is certain, False a hint


# What an answer reads of its RFQ (a deferred field read later would cost a query per answer).
ANSWERING_FIELDS = (
    "status",
    "side",
    "quantity",
    "window_ends_at",
    "last_attempt_rejected",
    "seq",
    "package",
    "two_way",
    *(f"order__instrument__{f}" for f in ("symbol", "tick_size", "reference_price")),
)


def _lock_answering(invitation_ids: list[int]) -> dict[int, _Answering]:
    """The invitations' RFQ (one RFQ) locked, with its order's instrument (the mid a push is
    priced against) and each invitation's counterparty and first answer joined in the same
    query. The joined columns come from the statement's snapshot, which may predate the lock
    when it had to wait; the counterparty never changes, and a recorded first answer is never
    cleared, so only `answered_before=False` needs confirming (_first_answers_record does)."""
    rows = lock_all(
        Rfq.objects.filter(invitations__pk__in=invitation_ids)
        .select_related("order__instrument")
        .only(*ANSWERING_FIELDS)
        .annotate(
            answering_invitation_id=F("invitations__pk"),
            answering_counterparty_id=F("invitations__counterparty_id"),
            answering_provider=F("invitations__counterparty__name"),
            answering_first_response_at=F("invitations__first_response_at"),
        )
    )
    found = {r.answering_invitation_id: r for r in rows}
    missing = [pk for pk in invitation_ids if pk not in found]
    if missing:
        raise NotFound(f"invitation {missing[0]} does not exist")
    if len({r.pk for r in rows}) > 1:
        raise DomainError("answers written together must be for one RFQ")
    rfq = rows[0]  # the joined rows are one RFQ row: one instance serves them all
    return {
        pk: _Answering(
            rfq=rfq,
            invitation_id=pk,
            counterparty_id=r.answering_counterparty_id,
            provider=r.answering_provider,
            answered_before=r.answering_first_response_at is not None,
        )
        for pk, r in found.items()
    }


def _in(values: list) -> str:
    """Placeholders for an IN list. The raw UPDATE ... RETURNING below (the ORM's update()
    returns no rows) formats only table names and placeholders into its SQL."""
    return ", ".join(["%s"] * len(values))


def _first_answers_record(answering: list[tuple[_Answering, datetime]], *, passed: bool) -> set[int]:
    """Record the providers' first answers (quotes or passes), each at its own time; the
    invitations for which this was it. One conditional UPDATE, under the RFQ lock that every
    answer takes: two answers of one provider cannot both be first."""
    times = {a.invitation_id: at for a, at in answering if not a.answered_before}
    if not times:
        return set()
    table = Invitation._meta.db_table
    when = " ".join(["WHEN %s THEN %s"] * len(times))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET first_response_at = CASE id {when} END, passed = %s"
            f" WHERE first_response_at IS NULL AND id IN ({_in(list(times))}) RETURNING id",
            [*(v for pair in times.items() for v in pair), passed, *times],
        )
        return {row[0] for row in cursor.fetchall()}


def _live_quotes_end(invitation_ids: list[int], event: QuoteEventType) -> dict[int, int]:
    """Move the invitations' live quotes (at most one each: an update replaces it under the
    RFQ lock) through `event` in one statement: {invitation: quote}. The state table gives the
    new status, as for every quote transition."""
    if not invitation_ids:
        return {}
    table = Quote._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s"
            f" WHERE status = %s AND invitation_id IN ({_in(invitation_ids)}) RETURNING invitation_id, id",
            [apply_quote(QuoteStatus.LIVE, event), QuoteStatus.LIVE, *invitation_ids],
        )
        return dict(cursor.fetchall())


def _quote_event(rfq_id: int, quote_id: int, event: QuoteEventType, before: str, after: str, *, now, reason):
    return RfqEvent(
        rfq_id=rfq_id,
        quote_id=quote_id,
        at=now,
        event=f"QUOTE_{event}",
        from_status=before,
        to_status=after,
        reason=reason[:300],
    )


def _push_answers(
    rfq: Rfq,
    now: datetime,
    *,
    added: list[tuple[Quote, str]] = (),
    removed: list[int] = (),
    answered: list[tuple[str, bool]] = (),
    also: tuple[str, ...] = (),
) -> None:
    """The push of quotes, updates, a withdrawal or a pass: the RFQ's changed fields and the
    ladder's delta, from what the service has just written (no read: the ladder is the
    client's, kept by applying the deltas to its snapshot, see rfq.push)."""
    mid = pricing.rfq_mid(rfq)
    body, delta = selectors.ladder_delta(
        rfq, now=now, mid=mid, added=list(added), removed=list(removed), answered=list(answered)
    )
    push.ladder_changed(rfq, body, delta=delta, also=also)


def provider_act(*, invitation_id: int, index: int, now: datetime | None = None) -> Quote | None:
    """Carry out step `index` of a simulated provider's plan, pricing around the mid now. Its
    reads (the plan, the RFQ's side, the instrument) never change once the RFQ is sent, so
    they need no transaction: the one service it calls owns it."""
    now = _now(now)
    inv = Invitation.objects.select_related("rfq").get(pk=invitation_id)
    action = inv.plan[index]
    if action["kind"] == lps.PASS:
        return invitation_pass(invitation_id=invitation_id, now=now)
    if action["kind"] == lps.WITHDRAW:
        return quote_withdraw(invitation_id=invitation_id, now=now)
    if inv.rfq.package_id is not None:
        return _package_provider_act(inv, action, now)
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


def _package_provider_act(inv: Invitation, action: dict, now: datetime) -> Quote | None:
    """A simulated maker's net quote: the package's model mid now (each leg's model value on
    the underlying's mid now) less and plus its offsets, on the tick; the hedge at the
    underlying's mid when it takes it."""
    rfq = inv.rfq
    mid = pricing.model_mid_now(rfq)
    tick = pricing.tick(rfq)
    bid = to_step(mid - Decimal(str(action["bid_offset"])), tick)
    ask = to_step(mid + Decimal(str(action["ask_offset"])), tick)
    if ask <= bid:
        ask = bid + tick
    hedge = pricing.hedge_leg(rfq)
    hedge_price = None
    if hedge is not None and action.get("takes_hedge"):
        hedge_price = mid_price(hedge.instrument)
    return quote_submit(
        invitation_id=inv.pk,
        bid=bid if rfq.two_way or rfq.side == "SELL" else None,
        ask=ask if rfq.two_way or rfq.side == "BUY" else None,
        size=Decimal(str(action["size"])).to_integral_value(rounding="ROUND_DOWN"),
        validity_seconds=float(action["validity"]),
        hedge_price=hedge_price,
        now=now,
    )


@dataclass(frozen=True)
class Answer:
    """A provider's quote as it arrived: for `invitation_id`, at `at` (its receipt time).
    `hedge_price`: a package's maker takes the delta hedge at this price of the underlying."""

    invitation_id: int
    bid: Decimal | None
    ask: Decimal | None
    size: Decimal
    validity_seconds: float
    at: datetime
    hedge_price: Decimal | None = None


def answer_refusal(answer: Answer) -> str | None:
    """Why the quote cannot be taken whatever the RFQ's state, or None."""
    if (answer.bid is None and answer.ask is None) or answer.size <= 0:
        return "a quote needs a price and a positive size"
    return None


def quote_submit(
    *,
    invitation_id: int,
    bid: Decimal | None,
    ask: Decimal | None,
    size: Decimal,
    validity_seconds: float,
    hedge_price: Decimal | None = None,
    now: datetime | None = None,
) -> Quote | None:
    """A provider's quote, or its update (which replaces its live one). A quote after the
    window, or for an RFQ that ended, is ignored (None). One transaction (quotes_submit's)."""
    answer = Answer(invitation_id, bid, ask, size, validity_seconds, _now(now), hedge_price)
    return quotes_submit(answers=[answer], now=answer.at)[0]


@metrics.timed_quote
@transaction.atomic
def quotes_submit(*, answers: list[Answer], now: datetime | None = None) -> list[Quote | None]:
    """Quotes (or updates) of several providers for one RFQ, written together: those that
    arrived while the RFQ's previous ones were being written (rfq.intake). One per invitation.
    Each is taken if it arrived (`at`) within the window of an RFQ still quoting, else ignored
    (None in its place).

    The path of every quote, so its statements are few, and as few for many quotes as for
    one: the RFQ locked with what the quotes need (one read), the first answers recorded and
    the live quotes replaced (an UPDATE each when there are any), the quotes and their audit
    rows inserted (two INSERTs), the RFQ's status and push number (one UPDATE). The push is
    the ladder's delta, built from these rows, sent after commit."""
    now = _now(now)
    ids = [a.invitation_id for a in answers]
    if len(set(ids)) != len(ids):
        raise DomainError("one answer per invitation in a batch: an update follows its quote")
    answering = _lock_answering(ids)
    rfq = next(iter(answering.values())).rfq
    taken = [a for a in answers if _accepting(rfq, a.at)]
    if len(taken) < len(answers):
        late = sorted(set(ids) - {a.invitation_id for a in taken})
        log.info("RFQ %s: late quotes from invitations %s ignored", rfq.pk, late)
    if not taken:
        return [None] * len(answers)
    for a in taken:
        why = answer_refusal(a)
        if why:
            raise DomainError(why)
    first = _first_answers_record([(answering[a.invitation_id], a.at) for a in taken], passed=False)
    previous = _live_quotes_end(
        [a.invitation_id for a in taken if a.invitation_id not in first], QuoteEventType.REPLACE
    )
    quotes = [
        Quote(
            rfq=rfq,
            invitation_id=a.invitation_id,
            counterparty_id=answering[a.invitation_id].counterparty_id,
            # At the columns' precision, so the quote held here (and pushed) is the one stored.
            bid=None if a.bid is None else stored_price(a.bid),
            ask=None if a.ask is None else stored_price(a.ask),
            hedge_price=None if a.hedge_price is None else stored_price(a.hedge_price),
            size=Decimal(min(Decimal(a.size), rfq.quantity)).quantize(QUANTITY_QUANTUM),
            received_at=a.at,
            valid_until=a.at + timedelta(seconds=a.validity_seconds),
            status=apply_quote("", QuoteEventType.RECEIVE),
            replaces_id=previous.get(a.invitation_id),
        )
        for a in taken
    ]
    Quote.objects.bulk_create(quotes)
    replaced = apply_quote(QuoteStatus.LIVE, QuoteEventType.REPLACE)
    events = []
    for q in quotes:
        if q.replaces_id is not None:
            events.append(
                _quote_event(
                    rfq.pk,
                    q.replaces_id,
                    QuoteEventType.REPLACE,
                    QuoteStatus.LIVE,
                    replaced,
                    now=q.received_at,
                    reason="updated by the provider",
                )
            )
        events.append(
            _quote_event(
                rfq.pk,
                q.pk,
                QuoteEventType.RECEIVE,
                "",
                q.status,
                now=q.received_at,
                reason="update" if q.replaces_id else "quote",
            )
        )
    before = rfq.status
    rfq.status = apply_rfq(before, RfqEventType.QUOTE)
    if rfq.status != before:  # a further quote while quoting: the quote's own event is the audit
        events.append(
            RfqEvent(
                rfq=rfq,
                at=quotes[0].received_at,
                event=RfqEventType.QUOTE,
                from_status=before,
                to_status=rfq.status,
                reason=f"quote {quotes[0].pk}",
            )
        )
    RfqEvent.objects.bulk_create(events)
    _push_answers(
        rfq,
        now,
        added=[(q, answering[q.invitation_id].provider) for q in quotes],
        removed=[q.replaces_id for q in quotes if q.replaces_id is not None],
        answered=[(answering[q.invitation_id].provider, False) for q in quotes if q.invitation_id in first],
        also=("status",) if rfq.status != before else (),
    )
    by_invitation = {q.invitation_id: q for q in quotes}
    return [by_invitation.get(i) for i in ids]


@transaction.atomic
def quote_withdraw(*, invitation_id: int, now: datetime | None = None) -> Quote | None:
    now = _now(now)
    rfq = _lock_answering([invitation_id])[invitation_id].rfq
    if not rfq.is_open:
        return None
    quote = Quote.objects.filter(invitation_id=invitation_id, status=QuoteStatus.LIVE).first()
    if quote is None:
        return None
    _quote_transition(quote, QuoteEventType.WITHDRAW, now=now, reason="withdrawn by the provider")
    _rfq_transition(rfq, RfqEventType.QUOTE, now=now, reason=f"quote {quote.pk} withdrawn")
    _push_answers(rfq, now, removed=[quote.pk])
    return quote


@transaction.atomic
def invitation_pass(*, invitation_id: int, now: datetime | None = None) -> None:
    now = _now(now)
    a = _lock_answering([invitation_id])[invitation_id]
    if not _accepting(a.rfq, now):
        return None
    if _first_answers_record([(a, now)], passed=True):
        _push_answers(a.rfq, now, answered=[(a.provider, True)])
    return None


# --- Execution ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExecuteResult:
    rfq: Rfq
    quote: Quote
    accepted: bool  # False: the provider rejected on last look


def _ladder(rfq: Rfq, now: datetime, mid: Decimal | None, scale: Decimal | None = None):
    quotes = Quote.objects.filter(rfq=rfq, status=QuoteStatus.LIVE).select_related("counterparty")
    return ladder_domain.ladder(
        [selectors.ladder_quote(q) for q in quotes], client_side=rfq.side, mid=mid, now=now.timestamp(), scale=scale
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
    if rfq.package_id is not None:
        return _package_execute(rfq, quote, actor=actor, now=now, reason=reason)
    legs = list(rfq.legs.select_related("instrument", "order"))
    mid = mid_price(legs[0].instrument)
    price = quote.price_for(rfq.side)
    if price is None:
        raise Conflict(f"quote {quote.pk} has no {'ask' if rfq.side == 'BUY' else 'bid'}")
    quantity = min(quote.size, rfq.quantity)
    if fix_lp.is_fix(quote.counterparty.connection):
        provider = fix_lp.FixProvider(
            quote.counterparty.connection,
            token=quote.invitation.token,
            symbol=legs[0].instrument.symbol,
            quantity=quantity,
            cl_ord_id=f"rfq{rfq.pk}-q{quote.pk}",
        )
    else:
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


def _package_execute(rfq: Rfq, quote: Quote, *, actor, now: datetime, reason: str) -> ExecuteResult:
    """A package: all-or-none takes the whole size from `quote`; any-part-of fills the size
    from the live quotes best-first, down to `quote`'s price, each maker its part after its
    own last look. Every leg of every part is booked through apply_fill in this one
    transaction (so all legs or none), at the implied leg prices, whose ratio-weighted net
    equals the part's net price to the tick; the hedge leg at the maker's reference price of
    the underlying, or left on its order for the EMS when the maker does not take it."""
    side = rfq.side
    price = quote.price_for(side)
    if price is None:
        raise Conflict(f"quote {quote.pk} has no {'ask' if side == 'BUY' else 'bid'}")
    mid = pricing.model_mid_now(rfq)
    scale = pricing.rfq_scale(rfq)
    rows = _ladder(rfq, now, mid, scale)
    if rfq.execution_mode == RfqExecutionMode.ALL_OR_NONE:
        if quote.size < rfq.quantity:
            raise Conflict(f"all-or-none: quote {quote.pk} is for {quote.size} of the {rfq.quantity} package units")
        candidates = [(quote.pk, rfq.quantity)]
    else:
        candidates = [(r.quote, r.size) for r in rows if r.price == price or ladder_domain.better(r.price, price, side)]
    quotes = {
        q.pk: q
        for q in lock_all(Quote.objects.select_related("counterparty").filter(pk__in=[c for c, _ in candidates]))
    }
    rejected: list[Quote] = []

    def last_look(quote_id: int, quantity: Decimal) -> bool:
        q = quotes[quote_id]
        p = q.price_for(side)
        provider = lps.provider(q.counterparty.connection, PROVIDER_SEED)
        if provider.last_look(
            key=str(q.pk), client_side=side, quoted_price=float(p), mid_now=float(mid), scale=float(scale or 0) or None
        ):
            return True
        _quote_transition(q, QuoteEventType.LAST_LOOK_REJECT, now=now, actor=actor, reason="rejected on last look")
        rejected.append(q)
        return False

    parts = legs_domain.parts_best_first(
        candidates, quantity=rfq.quantity, min_trade=rfq.min_trade_quantity, accept=last_look
    )
    if not parts:
        names = ", ".join(q.counterparty.name for q in rejected) or "no quote"
        rfq.last_attempt_rejected = True
        _rfq_transition(
            rfq,
            RfqEventType.LAST_LOOK_REJECT,
            now=now,
            actor=actor,
            reason=f"{names} rejected on last look: nothing booked",
            also=("last_attempt_rejected",),
        )
        _push_snapshot(rfq, now)
        return ExecuteResult(rfq, quote, accepted=False)

    filled = sum((p.quantity for p in parts), Decimal(0))
    average = stored_price(sum((quotes[p.quote].price_for(side) * p.quantity for p in parts), Decimal(0)) / filled)
    others = [r.price for r in rows if r.quote not in {p.quote for p in parts}]
    second = others[0] if others else None
    imp = improvement(price=average, client_side=side, mid=mid, second_best=second)
    lead = quotes[parts[0].quote]
    for p in parts:
        _quote_transition(quotes[p.quote], QuoteEventType.EXECUTE, now=now, actor=actor, reason=reason)
    execution = RfqExecution.objects.create(
        rfq=rfq,
        quote=lead,
        price=average,
        quantity=filled,
        executed_at=now,
        executed_by=actor,
        reason=reason,
        mid=mid,
        second_best_price=second,
        improvement_vs_mid_bps=_bps_of(imp.vs_mid, scale),
        improvement_vs_second_bps=_bps_of(imp.vs_second, scale),
    )
    rfq.last_attempt_rejected = False
    rfq.closed_at = now
    makers = ", ".join(
        f"{p.quantity} @ {quotes[p.quote].price_for(side)} with {quotes[p.quote].counterparty.name}" for p in parts
    )
    _rfq_transition(
        rfq,
        RfqEventType.EXECUTE,
        now=now,
        actor=actor,
        reason=f"package {makers}: {reason}",
        also=("last_attempt_rejected", "closed_at"),
    )
    _close_quotes(rfq, now)
    execution.quotes_record = selectors.quotes_record(rfq, client_side=side)
    execution.save(update_fields=["quotes_record"])
    _score_invitations(rfq, mid, winner=lead, scale=scale)
    legs = pricing.domain_legs(rfq)
    by_index = {leg.index: leg for leg in pricing.priced_legs(rfq)}
    hedge = pricing.hedge_leg(rfq)
    tick = pricing.tick(rfq)
    single = len(parts) == 1 and rfq.execution_mode == RfqExecutionMode.ALL_OR_NONE
    # The hedge follows the package units filled so far (earlier RFQs' too), so its parts
    # add up to the whole hedge when the whole package has traded, never more.
    first_leg = pricing.priced_legs(rfq)[0]
    units_before = Order.objects.get(pk=first_leg.order_id).filled_quantity / first_leg.ratio
    for p in parts:
        q = quotes[p.quote]
        net = q.price_for(side)
        fills = legs_domain.leg_fills(legs, quantity=p.quantity, net_price=net, package_side=side, tick=tick)
        tag = f"rfq-{rfq.pk}" if single else f"rfq-{rfq.pk}-q{q.pk}"
        venue = f"RFQ {q.counterparty.name}"[:32]
        for f in fills:
            _book(by_index[f.index].order_id, f"{tag}-leg{f.index}", f.quantity, f.price, venue, now, actor)
        hedge_price = None
        if hedge is not None and q.hedge_price is not None:
            whole, lot = hedge.order.quantity / rfq.package.quantity, hedge.instrument.lot_size
            hedge_qty = to_step(whole * (units_before + p.quantity), lot, rounding="ROUND_DOWN") - to_step(
                whole * units_before, lot, rounding="ROUND_DOWN"
            )
            if hedge_qty > 0:
                hedge_price = to_step(q.hedge_price, hedge.instrument.tick_size)
                _book(hedge.order_id, f"{tag}-leg{hedge.index}", hedge_qty, hedge_price, venue, now, actor)
        units_before += p.quantity
        RfqExecutionPart.objects.create(
            execution=execution,
            quote=q,
            quantity=p.quantity,
            price=net,
            hedge_price=hedge_price,
            leg_prices={str(f.index): str(f.price) for f in fills},
        )
    _push_snapshot(rfq, now)
    return ExecuteResult(rfq, lead, accepted=True)


def _bps_of(value: Decimal | None, scale: Decimal | None) -> Decimal | None:
    if value is None or not scale:
        return None
    return (value / scale * ladder_domain.BPS).quantize(ladder_domain.BPS_QUANTUM)


def _book(order_id: int, fill_id: str, quantity: Decimal, price: Decimal, venue: str, now, actor) -> None:
    result = apply_fill(
        order_id=order_id, fill_id=fill_id, quantity=quantity, price=price, venue=venue, executed_at=now, actor=actor
    )
    if not result.applied:
        # Raised inside the execution's transaction: every leg booked so far is undone with it.
        raise Conflict(f"the fill of order {order_id} was refused: {result.fill.refused_reason}")


def _close_quotes(rfq: Rfq, now: datetime) -> None:
    for q in lock_all(Quote.objects.filter(rfq=rfq, status=QuoteStatus.LIVE)):
        if now >= q.valid_until:
            _quote_transition(q, QuoteEventType.EXPIRE, now=now, reason="validity ended")
        else:
            _quote_transition(q, QuoteEventType.CLOSE, now=now, reason=f"RFQ {rfq.status.lower()}")


def _score_invitations(rfq: Rfq, mid: Decimal | None, *, winner: Quote | None, scale: Decimal | None = None) -> None:
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
            inv.distance_from_best_bps = ladder_domain.bps_from_mid(p, best, side, scale)
            inv.distance_from_mid_bps = ladder_domain.bps_from_mid(p, mid, side, scale)
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
            mid = pricing.rfq_mid(rfq)
            candidates = [
                r.quote
                for r in _ladder(rfq, now, mid, pricing.rfq_scale(rfq))
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
    _score_invitations(rfq, pricing.rfq_mid(rfq), winner=None, scale=pricing.rfq_scale(rfq))
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
