"""Writes of TCA: the one analysis of a finished order, stored once.

Why store at all, when every input is itself stored? Because the inputs outlive their
definitions: the market samples are purged after their retention, a formula gets corrected
(tca.domain.analysis.VERSION), and best execution must show what was shown then. So the
figures are computed from stored facts only, once the order is finished and its longest
markout horizon has passed, and the row is never rewritten. Before that the API answers a
live analysis marked `final: false`, stored nowhere."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from oms.models import Order
from tca import selectors
from tca.domain.analysis import VERSION, analyse
from tca.models import OrderTca

TWO = Decimal("0.01")


def counterfactual_rows(order: Order, facts) -> list[dict]:
    """The seam for the EMS backtest's counterfactuals (ems.backtest.counterfactuals: the
    same order as one market order, a one-venue TWAP and the router's second choice), each
    row {way, strategy, shortfall_bps, shortfall, ...}. Empty until it is wired here."""
    return []


def _analysis(order: Order, *, now: datetime) -> tuple[dict, object]:
    facts = selectors.order_facts(order, now=now)
    figures = analyse(facts)
    figures["counterfactuals"] = counterfactual_rows(order, facts)
    return figures, facts


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


@transaction.atomic
def _store(order: Order, figures: dict, finished_at: datetime) -> OrderTca:
    strategy = ""
    execution = selectors.order_execution(order)
    if execution is not None:
        strategy = execution.strategy
    elif figures["rfqs"]:
        strategy = "RFQ"
    short = figures["shortfall"]
    return OrderTca.objects.create(
        order=order,
        version=VERSION,
        finished_at=finished_at,
        strategy=strategy,
        urgency=order.urgency,
        notional=Decimal(short["paper_notional"]).quantize(TWO),
        shortfall=Decimal(short["total"]),
        shortfall_bps=_decimal(short["total_bps"]),
        realised_bps=_decimal(figures["pretrade"]["realised_cost_bps"]),
        estimate_bps=_decimal(figures["pretrade"]["estimated_cost_bps"]),
        figures=figures,
    )


def tca_compute(*, order_id: int, now: datetime | None = None) -> OrderTca | None:
    """Store the order's TCA if it is finished and past its markout horizon; the stored row
    if there is one already (a retried task or a second request changes nothing); None when
    it is too early."""
    now = now or timezone.now()
    existing = OrderTca.objects.filter(order_id=order_id).first()
    if existing is not None:
        return existing
    order = Order.objects.select_related("instrument").get(pk=order_id)
    execution = selectors.order_execution(order)
    finished_at = selectors.order_finished_at(order, execution)
    if finished_at is None or finished_at + selectors.AFTER > now:
        return None
    figures, _ = _analysis(order, now=now)
    try:
        return _store(order, figures, finished_at)
    except IntegrityError:  # another worker stored it first: theirs is the one
        return OrderTca.objects.get(order_id=order_id)


def tca_for_order(order: Order, *, now: datetime | None = None) -> dict:
    """The order's TCA as the API answers it: the stored figures when final, else a live
    analysis (stored once the order is finished and its markouts are known)."""
    now = now or timezone.now()
    stored = tca_compute(order_id=order.pk, now=now)
    if stored is not None:
        figures, final, computed_at = stored.figures, True, stored.computed_at
    else:
        figures, _ = _analysis(order, now=now)
        final, computed_at = False, now
    return {
        "order": order.pk,
        "instrument": order.instrument.symbol,
        "final": final,
        "computed_at": computed_at.isoformat(),
        **figures,
    }
