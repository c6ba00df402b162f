"""Reads of TCA: the facts of one order as the pure core's plain data, and stored results."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone

from core.vocabulary import OrderStatus
from ems.domain.states import EXECUTION_ACTIVE
from ems.models import Execution
from ems.selectors import schedule_points
from marketdata.models import SessionStats
from marketdata.selectors import market_samples
from oms.domain.states import TERMINAL_STATUSES
from oms.models import Order
from oms.selectors import orders_visible_to
from tca.domain.analysis import OrderFacts, RfqFacts
from tca.domain.markouts import HORIZONS
from tca.domain.path import MarketPoint, PricePath
from tca.domain.profile import Child
from tca.domain.rfq import QuoteSeen
from tca.domain.shortfall import Fill
from tca.models import OrderCounterfactuals, OrderTca

# The path read around the work: the leakage control window before, the longest markout after.
BEFORE = timedelta(seconds=120)
AFTER = timedelta(seconds=max(HORIZONS) + 5)  # a margin: samples land about once a second
RFQ_VENUE_PREFIX = "RFQ "  # rfq.services books an RFQ fill at venue "RFQ <provider>"


def tca_visible_to(user) -> QuerySet[OrderTca]:
    return OrderTca.objects.filter(order__in=orders_visible_to(user)).select_related("order__instrument")


def order_execution(order: Order) -> Execution | None:
    try:
        return order.execution
    except Execution.DoesNotExist:
        return None


def order_finished_at(order: Order, execution: Execution | None = None) -> datetime | None:
    """When the order's work ended, or None while it may still fill: a terminal order whose
    execution (if any) is no longer active. The time is its last fill's when fully filled,
    else the last change of the order or its execution."""
    if order.status not in TERMINAL_STATUSES or order.status == OrderStatus.REJECTED:
        return None
    if execution is not None and execution.is_active:
        return None
    last_fill = (
        order.fills.filter(refused_reason="").order_by("-executed_at").values_list("executed_at", flat=True).first()
    )
    if order.status == OrderStatus.FILLED and last_fill is not None:
        return last_fill
    moments = [order.updated_at] + ([execution.updated_at] if execution is not None else [])
    return max(moments)


def _rfqs(order: Order) -> list:
    from rfq.models import Rfq

    return list(
        Rfq.objects.filter(Q(order=order) | Q(legs__order=order))
        .distinct()
        .select_related("execution")
        .prefetch_related("quotes__counterparty")
        .order_by("pk")
    )


def _rfq_facts(rfq, side: str) -> RfqFacts:
    quotes = [
        QuoteSeen(q.pk, q.counterparty.name, q.price_for(side), q.received_at.timestamp(), q.status)
        for q in rfq.quotes.all()
    ]
    execution = getattr(rfq, "execution", None)
    requested = rfq.sent_at or rfq.created_at
    return RfqFacts(
        rfq_id=rfq.pk,
        requested_at=requested.timestamp(),
        quotes=quotes,
        chosen_quote_id=execution.quote_id if execution else None,
        chosen_reason=execution.reason if execution else "",
        executed_at=execution.executed_at.timestamp() if execution else None,
        executed_price=execution.price if execution else None,
        mid_at_execution=(execution.mid if execution else None) or rfq.mid_at_open,
        record=execution.quotes_record if execution else [],
    )


def order_facts(order: Order, *, now: datetime | None = None) -> OrderFacts:
    """Everything the analysis needs, read from what was stored when it happened."""
    now = now or timezone.now()
    execution = order_execution(order)
    rfqs = _rfqs(order)
    fills = [
        Fill(
            quantity=f.quantity,
            price=f.price,
            at=f.executed_at.timestamp(),
            fee=f.fee,
            venue=f.venue,
            counterparty=f.venue[len(RFQ_VENUE_PREFIX) :] if f.venue.startswith(RFQ_VENUE_PREFIX) else "",
        )
        for f in order.fills.filter(refused_reason="").order_by("executed_at", "id")
    ]
    if execution is not None:
        start = execution.start_at
    elif rfqs:
        start = rfqs[0].sent_at or rfqs[0].created_at
    else:
        start = order.created_at
    end = order_finished_at(order, execution) or now
    decision = (
        order.arrival_price or (execution.arrival_price if execution else None) or order.instrument.reference_price
    )
    arrival = (execution.arrival_price if execution else None) or (rfqs[0].mid_at_open if rfqs else None) or decision
    samples = market_samples(order.instrument_id, min(order.created_at, start) - BEFORE, end + AFTER)
    if samples:
        path = PricePath(
            [MarketPoint(s["at"].timestamp(), s["mid"], s["volume"], s["best_bid"], s["best_ask"]) for s in samples]
        )
        source = "samples"
    elif execution is not None and execution.market_path:
        # No stored history for the window (sampling off, or older than its retention): the
        # mids the ticks saw, which carry no volume and no spread.
        t0 = execution.start_at.timestamp()
        path = PricePath([MarketPoint(t0 + float(t), Decimal(str(m))) for t, m in execution.market_path])
        source = "execution"
    else:
        path, source = PricePath([]), "none"
    children, schedule, estimate = [], [], None
    if execution is not None:
        children = [
            Child(c.venue, c.child_type, c.quantity, c.filled_quantity, c.fees)
            for c in execution.children.all().order_by("id")
        ]
        t0 = execution.start_at
        schedule = [
            ((datetime.fromisoformat(p["at"]) - t0).total_seconds(), Decimal(p["quantity"]))
            for p in schedule_points(execution)
        ]
        if execution.decision_id:
            estimate = execution.decision.estimated_cost_bps
    if estimate is None:
        estimate = (
            order.routing_decisions.order_by("created_at", "id").values_list("estimated_cost_bps", flat=True).first()
        )
    close = (
        SessionStats.objects.filter(instrument_id=order.instrument_id, session_date=end.date())
        .values_list("close", flat=True)
        .first()
    )
    return OrderFacts(
        side=order.side,
        ordered_quantity=order.quantity,
        decision_price=decision,
        arrival_price=arrival,
        decided_at=order.created_at.timestamp(),
        start=start.timestamp(),
        end=end.timestamp(),
        fills=fills,
        path=path,
        multiplier=order.instrument.multiplier,
        children=children,
        schedule=schedule,
        estimate_bps=estimate,
        closing_price=close,
        rfqs=[_rfq_facts(r, order.side) for r in rfqs],
        path_source=source,
    )


def orders_awaiting_tca(*, now: datetime | None = None, limit: int = 100) -> list[int]:
    """Finished orders without stored TCA, oldest first: candidates for tca_compute (which
    checks each is finished and past its markout horizon)."""
    now = now or timezone.now()
    terminal = [s for s in TERMINAL_STATUSES if s != OrderStatus.REJECTED]
    return list(
        Order.objects.filter(status__in=terminal, tca__isnull=True, updated_at__lte=now - AFTER)
        # An execution still winding down would keep the order at the head of every sweep.
        .exclude(execution__status__in=EXECUTION_ACTIVE)
        .order_by("updated_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def report_rows(user, start: datetime, end: datetime) -> list[dict]:
    """One plain row per stored TCA the user may see with start <= finished_at < end, as
    tca.domain.report.summarise reads them."""
    rows = []
    stored = list(
        tca_visible_to(user).filter(finished_at__gte=start, finished_at__lt=end).order_by("finished_at", "id")
    )
    simulated = {
        order_id: {
            r["way"]: _decimal(str(r["shortfall_bps"])) for r in figures["rows"] if r["shortfall_bps"] is not None
        }
        for order_id, figures in OrderCounterfactuals.objects.filter(order_id__in=[t.order_id for t in stored])
        .values_list("order_id", "figures")
        .iterator()
    }
    for tca in stored:
        figures = tca.figures
        venues = [v["venue"] for v in figures["profile"]["venues"] if Decimal(v["filled_quantity"])]
        quoted, won, rfq = set(), set(), None
        for r in figures["rfqs"]:
            quoted.update(q["provider"] for q in r["quotes"])
            won.update(q["provider"] for q in r["quotes"] if q["chosen"])
            rfq = {
                "won": r["chosen_quote"] is not None,
                "improvement_vs_mid_bps": _decimal(r["improvement_vs_mid_bps"]),
                "improvement_vs_second_bps": _decimal(r["improvement_vs_second_bps"]),
            }
        rows.append(
            {
                "order": tca.order_id,
                "strategy": tca.strategy,
                "urgency": tca.urgency,
                "venues": venues,
                "counterparties": sorted(quoted),
                "rfq_won_by": won,
                "notional": tca.notional,
                "shortfall_bps": tca.shortfall_bps,
                "realised_bps": tca.realised_bps,
                "estimate_bps": tca.estimate_bps,
                "markouts": {h: _decimal(v) for h, v in figures["markouts"]["overall"].items()},
                "rfq": rfq,
                "counterfactuals": simulated.get(tca.order_id),
            }
        )
    return rows


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(value)


def execution_quality_by_party(start: datetime, end: datetime) -> dict[str, dict[str, dict]]:
    """For the venue and counterparty scorecards: per venue and per RFQ provider, over the
    stored TCA of orders finished in [start, end), the number of orders, the mean markouts
    at 1, 10 and 60 s (bps, positive = good for us) and, for providers, the mean leakage
    (bps, positive = the mid moved against us after they were asked). The desk's view: all
    orders, whoever owns them."""
    sums: dict[tuple[str, str], dict] = {}

    def add(kind: str, name: str, key: str, value):
        if value is None:
            return
        row = sums.setdefault((kind, name), {"orders": set(), "values": {}})
        row["values"].setdefault(key, []).append(Decimal(value))

    for tca in OrderTca.objects.filter(finished_at__gte=start, finished_at__lt=end).only("order_id", "figures"):
        marks = tca.figures["markouts"]
        for kind, groups in (("venue", marks["by_venue"]), ("counterparty", marks["by_counterparty"])):
            for name, by_horizon in groups.items():
                sums.setdefault((kind, name), {"orders": set(), "values": {}})["orders"].add(tca.order_id)
                for h, v in by_horizon.items():
                    add(kind, name, f"markout_{h}s_bps", v)
        for r in tca.figures["rfqs"]:
            for leak in r["leakage"]["providers"]:
                sums.setdefault(("counterparty", leak["provider"]), {"orders": set(), "values": {}})["orders"].add(
                    tca.order_id
                )
                add("counterparty", leak["provider"], "leakage_bps", leak["leakage_bps"])
    out: dict[str, dict[str, dict]] = {"venue": {}, "counterparty": {}}
    for (kind, name), row in sorted(sums.items()):
        out[kind][name] = {
            "orders": len(row["orders"]),
            **{
                key: str((sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01")))
                for key, values in sorted(row["values"].items())
            },
        }
    return out
