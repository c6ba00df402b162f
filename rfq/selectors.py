"""Reads of the RFQ app: what a user may see, the ladder snapshot (the same body for the API
and the pushes), candidates for selection with their scores, and scorecards."""

from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts import roles
from core.vocabulary import QuoteStatus
from rfq import pricing
from rfq.domain import ladder as ladder_domain
from rfq.domain import scorecard as scorecard_domain
from rfq.domain import selection
from rfq.domain.states import outcome
from rfq.models import Counterparty, Invitation, Quote, Rfq


def rfqs_visible_to(user) -> QuerySet[Rfq]:
    """The desk's RFQs, restricted to the orders the user may see."""
    if not roles.is_desk(user):
        return Rfq.objects.none()
    # The desk sees every order: no `order IN (every order)`, which read the order table per list.
    return Rfq.objects.select_related("order__instrument", "order__portfolio")


def ladder_quote(q: Quote) -> ladder_domain.LadderQuote:
    return ladder_domain.LadderQuote(
        id=q.pk,
        provider=q.counterparty.name,
        bid=q.bid,
        ask=q.ask,
        size=q.size,
        received_at=q.received_at.timestamp(),
        valid_until=q.valid_until.timestamp(),
    )


def _s(v) -> str | None:
    return None if v is None else str(v)


def _t(v: datetime | None) -> str | None:
    return None if v is None else v.isoformat()


def quotes_record(rfq: Rfq, *, client_side: str) -> list[dict]:
    """Every quote of the RFQ with its times and status: the best-execution record."""
    return [
        {
            "quote": q.pk,
            "provider": q.counterparty.name,
            "bid": _s(q.bid),
            "ask": _s(q.ask),
            "price": _s(q.price_for(client_side)),
            "size": _s(q.size),
            "received_at": _t(q.received_at),
            "valid_until": _t(q.valid_until),
            "status": q.status,
            "replaces": q.replaces_id,
        }
        for q in Quote.objects.filter(rfq=rfq).select_related("counterparty").order_by("pk")
    ]


def _ladder_json(
    rows: list[ladder_domain.LadderRow], times: dict[int, tuple[datetime, datetime]], rfq: Rfq | None = None
) -> list[dict]:
    """`times`: each quote's (received_at, valid_until), which a client orders and ages the
    rows by when it applies a push's delta. A package's rows also carry the distance from its
    model mid in currency and the implied leg prices (`rfq`)."""
    package = rfq is not None and rfq.package_id is not None
    return [
        {
            **({"distance": _s(r.distance), "implied_legs": pricing.implied_legs(rfq, r.price)} if package else {}),
            "id": r.quote,  # the quote's id, what POST /api/rfqs/{id}/execute/ {quote} takes
            "quote": r.quote,
            "provider": r.provider,
            "price": str(r.price),
            "size": str(r.size),
            "time_left": r.time_left,
            "received_at": _t(times[r.quote][0]),
            "valid_until": _t(times[r.quote][1]),
            "bps_from_mid": _s(r.bps_from_mid),
        }
        for r in rows
    ]


def _time_left(rfq: Rfq, now: datetime) -> float:
    if not (rfq.window_ends_at and rfq.is_open):
        return 0.0
    return max(0.0, round((rfq.window_ends_at - now).total_seconds(), 1))


def _counterparties(invitations) -> list[dict]:
    return [
        {"name": name, "responded": responded is not None, "passed": passed} for name, responded, passed in invitations
    ]


def _invitation_rows(rfq_id: int):
    return Invitation.objects.filter(rfq_id=rfq_id).values_list("counterparty__name", "first_response_at", "passed")


def ladder_delta(
    rfq: Rfq,
    *,
    now: datetime,
    mid,
    added: list[tuple[Quote, str]],
    removed: list[int],
    answered: list[tuple[str, bool]],
) -> tuple[dict, dict]:
    """The push of quotes, updates, a withdrawal or a pass of an open RFQ, without a query:
    the snapshot fields it changes (status, outcome, countdown, time, mid) and the ladder's
    delta (rfq.push says how a client applies it). `added`: the quotes just stored, each with
    its provider's name; `removed`: the quote ids that left the ladder; `answered`: the
    providers whose first answer this was, with whether they passed."""
    if not rfq.is_open:
        raise ValueError(f"RFQ {rfq.pk} is {rfq.status}: its changes are pushed as whole snapshots")
    body = {
        "id": rfq.pk,
        "status": rfq.status,
        # Open: the outcome does not depend on how many quotes came.
        "outcome": outcome(rfq.status, quotes_received=0, last_attempt_rejected=rfq.last_attempt_rejected),
        "time_left": _time_left(rfq, now),
        "as_of": _t(now),
        "mid": _s(mid),
    }
    quotes = [
        ladder_domain.LadderQuote(
            id=q.pk,
            provider=provider,
            bid=q.bid,
            ask=q.ask,
            size=q.size,
            received_at=q.received_at.timestamp(),
            valid_until=q.valid_until.timestamp(),
        )
        for q, provider in added
    ]
    # A quote not executable now (no price on the client's side, or no validity left) is no row.
    scale = pricing.rfq_scale(rfq)
    rows = ladder_domain.ladder(quotes, client_side=rfq.side, mid=mid, now=now.timestamp(), scale=scale)
    times = {q.pk: (q.received_at, q.valid_until) for q, _ in added}
    counterparties = [{"name": name, "responded": True, "passed": passed} for name, passed in answered]
    return body, {"add": _ladder_json(rows, times, rfq), "remove": removed, "counterparties": counterparties}


def rfq_snapshot(rfq: Rfq | int, *, now: datetime | None = None) -> dict:
    """The RFQ (or RFQ id) as the trader sees it: terms, status, outcome, countdown and the
    ladder, read fresh, with the number of the last push it holds (`seq`, read first: a
    change committed while the rest is read makes the snapshot newer than its number, never
    older, and re-applying that push changes nothing)."""
    now = now or timezone.now()
    rfq_id = rfq if isinstance(rfq, int) else rfq.pk
    rfq = Rfq.objects.select_related("order__instrument", "execution__quote__counterparty").get(pk=rfq_id)
    instrument = rfq.order.instrument
    mid = pricing.rfq_mid(rfq) if rfq.is_open else rfq.mid_at_open
    scale = pricing.rfq_scale(rfq)
    quotes = list(Quote.objects.filter(rfq=rfq).select_related("counterparty"))
    live = [ladder_quote(q) for q in quotes if q.status == QuoteStatus.LIVE] if rfq.is_open else []
    rows = ladder_domain.ladder(live, client_side=rfq.side, mid=mid, now=now.timestamp(), scale=scale)
    execution = getattr(rfq, "execution", None)
    rejected = [q for q in quotes if q.status == QuoteStatus.REJECTED]
    return {
        "id": rfq.pk,
        "seq": rfq.seq,
        "order": rfq.order_id,
        "instrument": instrument.symbol,
        "side": rfq.side,
        "quantity": str(rfq.quantity),
        "two_way": rfq.two_way,
        "execution_mode": rfq.execution_mode,
        "min_trade_quantity": _s(rfq.min_trade_quantity),
        "legs": [
            {
                "index": leg.index,
                "instrument": leg.instrument.symbol,
                "side": leg.side,
                "ratio": str(leg.ratio),
                "order": leg.order_id,
                **({"is_hedge": leg.is_hedge, "model_price": _s(leg.model_price)} if rfq.package_id else {}),
            }
            for leg in rfq.legs.select_related("instrument")
        ],
        "status": rfq.status,
        "outcome": outcome(rfq.status, quotes_received=len(quotes), last_attempt_rejected=rfq.last_attempt_rejected),
        "window_seconds": rfq.window_seconds,
        "sent_at": _t(rfq.sent_at),
        "window_ends_at": _t(rfq.window_ends_at),
        "time_left": _time_left(rfq, now),
        "as_of": _t(now),
        "auto_execute_price": _s(rfq.auto_execute_price),
        "auto_execute_bps": _s(rfq.auto_execute_bps),
        "mid": _s(mid),
        "counterparties": _counterparties(_invitation_rows(rfq.pk)),
        "ladder": _ladder_json(rows, {q.pk: (q.received_at, q.valid_until) for q in quotes}, rfq),
        "rejections": [
            {"quote": q.pk, "provider": q.counterparty.name, "price": _s(q.price_for(rfq.side))} for q in rejected
        ],
        "execution": None
        if execution is None
        else {
            "quote": execution.quote_id,
            "provider": execution.quote.counterparty.name,
            "price": str(execution.price),
            "quantity": str(execution.quantity),
            "executed_at": _t(execution.executed_at),
            "reason": execution.reason,
            "mid": _s(execution.mid),
            "second_best_price": _s(execution.second_best_price),
            "improvement_vs_mid_bps": _s(execution.improvement_vs_mid_bps),
            "improvement_vs_second_bps": _s(execution.improvement_vs_second_bps),
            **({"parts": _parts(execution)} if rfq.package_id else {}),
        },
        **(_package_fields(rfq, scale) if rfq.package_id else {}),
    }


def _parts(execution) -> list[dict]:
    return [
        {
            "quote": p.quote_id,
            "provider": p.quote.counterparty.name,
            "quantity": str(p.quantity),
            "price": str(p.price),
            "hedge_price": _s(p.hedge_price),
            "leg_prices": p.leg_prices,
        }
        for p in execution.parts.select_related("quote__counterparty")
    ]


def _package_fields(rfq: Rfq, scale) -> dict:
    """A package RFQ's terms beyond one instrument's: the package, the mid at open, what bps
    are of (its gross premium) and the legs' orders as they stand."""
    legs = list(rfq.legs.select_related("instrument", "order"))
    return {
        "package": rfq.package_id,
        "mid_at_open": _s(rfq.mid_at_open),
        "premium": _s(scale),
        "leg_orders": [
            {
                "index": leg.index,
                "order": leg.order_id,
                "instrument": leg.instrument.symbol,
                "side": leg.side,
                "is_hedge": leg.is_hedge,
                "status": leg.order.status,
                "quantity": str(leg.order.quantity),
                "filled_quantity": str(leg.order.filled_quantity),
                "average_fill_price": _s(leg.order.average_fill_price),
            }
            for leg in legs
        ],
    }


# --- Scorecards and selection ------------------------------------------------------------


def _records(invitations) -> list[scorecard_domain.InvitationRecord]:
    out = []
    for inv in invitations:
        quoted = inv.n_quotes > 0
        responded = inv.first_response_at is not None
        out.append(
            scorecard_domain.InvitationRecord(
                responded=responded,
                passed=inv.passed,
                response_seconds=(inv.first_response_at - inv.sent_at).total_seconds()
                if responded and inv.sent_at
                else None,
                quoted=quoted,
                won=inv.won,
                was_best=inv.was_best,
                distance_from_best_bps=inv.distance_from_best_bps,
                distance_from_mid_bps=inv.distance_from_mid_bps,
                last_look_rejections=inv.n_rejected,
                withdrawals=inv.n_withdrawn,
            )
        )
    return out


def _invitations():
    return Invitation.objects.filter(sent_at__isnull=False).annotate(
        n_quotes=Count("quotes"),
        n_rejected=Count("quotes", filter=Q(quotes__status=QuoteStatus.REJECTED)),
        n_withdrawn=Count("quotes", filter=Q(quotes__status=QuoteStatus.WITHDRAWN)),
    )


def scorecards(counterparty_ids=None) -> dict[int, scorecard_domain.Scorecard]:
    """Every counterparty's scorecard (or those of `counterparty_ids`) from its history."""
    ids = (
        list(Counterparty.objects.values_list("pk", flat=True)) if counterparty_ids is None else list(counterparty_ids)
    )
    by_cp: dict[int, list] = {pk: [] for pk in ids}
    for inv in _invitations().filter(counterparty_id__in=ids):
        by_cp[inv.counterparty_id].append(inv)
    return {pk: scorecard_domain.scorecard(_records(invs)) for pk, invs in by_cp.items()}


def scorecard_of(counterparty: Counterparty) -> scorecard_domain.Scorecard:
    return scorecards([counterparty.pk])[counterparty.pk]


def candidates() -> list[selection.Candidate]:
    rows = list(Counterparty.objects.all())
    cards = scorecards([c.pk for c in rows])
    return [
        selection.Candidate(
            id=c.pk,
            name=c.name,
            enabled=c.enabled,
            asset_classes=frozenset(c.asset_classes),
            max_notional=Decimal(c.max_notional),
            tier=c.tier,
            score=cards[c.pk].score,
        )
        for c in rows
    ]


def recent_rfqs_of(counterparty: Counterparty, limit: int = 20) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(counterparty=counterparty)
        .select_related("rfq__order__instrument")
        .order_by("-rfq_id")[:limit]
    )


def seq_visible_to(user, rfq_id: int) -> int | None:
    """The number of the RFQ's last push, None when the user may not see the RFQ."""
    return rfqs_visible_to(user).filter(pk=rfq_id).values_list("seq", flat=True).first()


def rfq_row(rfq: Rfq) -> dict:
    return {
        "id": rfq.pk,
        "order": rfq.order_id,
        "instrument": rfq.order.instrument.symbol,
        "side": rfq.side,
        "quantity": str(rfq.quantity),
        "status": rfq.status,
        "created_at": _t(rfq.created_at),
    }


def counterparty_row(c: Counterparty, card: scorecard_domain.Scorecard) -> dict:
    return {
        "id": c.pk,
        "name": c.name,
        "asset_classes": c.asset_classes,
        "tier": c.tier,
        "enabled": c.enabled,
        "max_notional": str(c.max_notional),
        "score": card.score,
        "response_rate": round(card.response_rate, 4),
        "hit_ratio": round(card.hit_ratio, 4),
        "last_look_rejections": card.last_look_rejections,
    }
