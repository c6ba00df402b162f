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

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.locks import lock_one
from marketdata.models import Instrument
from marketdata.services import instrument_impact_coefficient_set
from oms.models import Order
from tca import selectors
from tca.domain.analysis import VERSION, analyse
from tca.domain.refit import ImpactObservation, refit_coefficient
from tca.models import ImpactRefit, OrderTca

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


def tca_compute_pending(*, now: datetime | None = None, limit: int = 100) -> int:
    """Store the TCA of the finished orders that have none yet; how many were stored."""
    now = now or timezone.now()
    return sum(
        1 for order_id in selectors.orders_awaiting_tca(now=now, limit=limit) if tca_compute(order_id=order_id, now=now)
    )


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


def _observation(tca: OrderTca) -> ImpactObservation | None:
    """What one stored TCA says about impact, or None when it cannot say (no fills, no
    decision with a predicted impact, no stored samples, an RFQ: its price is a provider's,
    not the book's)."""
    execution = selectors.order_execution(tca.order)
    if tca.strategy == "RFQ" or execution is None or execution.decision is None:
        return None
    if tca.figures["price_path"]["source"] != "samples":
        return None  # without the quoted spread, impact cannot be told from the spread paid
    short, bench = tca.figures["shortfall"], tca.figures["benchmarks"]
    filled, arrival = Decimal(short["filled_quantity"]), Decimal(bench["arrival"] or 0)
    if not filled or not arrival:
        return None
    try:
        then = float(execution.decision.inputs["impact_coef"])
        predicted = float(execution.decision.cost_breakdown["impact_bps"])
    except (KeyError, TypeError, ValueError):
        return None
    moved = Decimal(short["parts"]["impact"]) + Decimal(short["parts"]["timing"])
    observed = moved / (filled * arrival * tca.order.instrument.multiplier) * 10_000
    return ImpactObservation(tca.order_id, then, predicted, float(observed))


def impact_refit(
    *, instrument_id: int, now: datetime | None = None, min_orders: int | None = None, max_step: float | None = None
) -> ImpactRefit | None:
    """Re-fit the instrument's impact coefficient from the TCA stored since its last refit
    (tca.domain.refit); the router's next decisions read the new value from the instrument.
    None, and nothing written, while too few orders have finished: they wait for the next
    run. Idempotent: a second run right after finds no new orders."""
    now = now or timezone.now()
    min_orders = settings.TCA_REFIT_MIN_ORDERS if min_orders is None else min_orders
    max_step = settings.TCA_REFIT_MAX_STEP if max_step is None else max_step
    with transaction.atomic():
        instrument = lock_one(Instrument, instrument_id, what="instrument")  # one refit at a time
        last = ImpactRefit.objects.filter(instrument_id=instrument_id).order_by("-last_tca_id").first()
        rows = list(
            OrderTca.objects.filter(order__instrument_id=instrument_id, pk__gt=last.last_tca_id if last else 0)
            .select_related("order__instrument", "order__execution__decision")
            .order_by("pk")
        )
        observations = [o for o in (_observation(t) for t in rows) if o is not None]
        fit = refit_coefficient(
            float(instrument.impact_coefficient), observations, min_orders=min_orders, max_step=max_step
        )
        if fit.target is None:
            return None
        refit = ImpactRefit.objects.create(
            instrument=instrument,
            at=now,
            previous=instrument.impact_coefficient,
            coefficient=Decimal(str(fit.coefficient)),
            target=Decimal(str(round(fit.target, 4))),
            bounded=fit.bounded,
            reason=fit.reason[:200],
            orders=[
                {
                    "order": o.order_id,
                    "coefficient_then": o.coefficient_then,
                    "predicted_impact_bps": round(o.predicted_impact_bps, 4),
                    "observed_impact_bps": round(o.observed_impact_bps, 4),
                    "implied": round(o.implied, 4),
                }
                for o in observations
            ],
            last_tca=rows[-1],
        )
        instrument_impact_coefficient_set(instrument_id=instrument_id, coefficient=refit.coefficient)
        return refit
