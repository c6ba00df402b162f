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
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.locks import lock_one
from core.vocabulary import Side, Strategy, Urgency
from ems.domain.states import EXECUTION_TERMINAL
from ems.models import Execution, ExecutionArrival
from marketdata.models import Instrument
from marketdata.services import instrument_impact_coefficient_set
from oms.models import Order
from tca import selectors
from tca.domain import counterfactual
from tca.domain.analysis import VERSION, analyse
from tca.domain.counterfactual import CounterfactualOrder
from tca.domain.refit import ImpactObservation, refit_coefficient
from tca.models import ImpactRefit, OrderCounterfactuals, OrderTca

TWO = Decimal("0.01")


# ----------------------------------------------------------------------------- counterfactuals

COUNTERFACTUAL_QUEUED = "tca:counterfactuals:queued:{order}"
COUNTERFACTUAL_QUEUED_SECONDS = 600  # one task per order in flight; a lost one is re-queued after


def _counterfactual_order(execution: Execution) -> CounterfactualOrder:
    order = execution.order
    return CounterfactualOrder(
        order_id=order.pk,
        symbol=order.instrument.symbol,
        side=Side(execution.side),
        quantity=Decimal(format(execution.quantity.normalize(), "f")),  # 500000, not 500000.00000000
        window_seconds=max((execution.end_at - execution.start_at).total_seconds(), 0.0),
        strategy=Strategy(execution.strategy),
        parameters=dict(execution.parameters or {}),
        limit_price=execution.limit_price,
        urgency=Urgency(order.urgency),
    )


def _arrival_record(arrival: ExecutionArrival) -> dict:
    return {
        "seed": arrival.seed,
        "sim_time": arrival.sim_time,
        "arrival_mid": arrival.arrival_mid,
        "feed": arrival.feed,
        "state": arrival.state,
    }


def counterfactuals_compute(*, order_id: int) -> OrderCounterfactuals | None:
    """Run the order's counterfactuals in the EMS backtest from its recorded arrival and
    store them, once (a second call, or a retried task, returns the stored row); None when
    nothing was recorded at arrival (no execution, an RFQ, an execution older than the
    record). Seconds of CPU: a task's work, never a request's."""
    existing = OrderCounterfactuals.objects.filter(order_id=order_id).first()
    if existing is not None:
        return existing
    arrival = (
        ExecutionArrival.objects.select_related("execution__order__instrument")
        .filter(execution__order_id=order_id)
        .first()
    )
    if arrival is None:
        return None
    try:
        figures = counterfactual.compute(_arrival_record(arrival), _counterfactual_order(arrival.execution))
    except (ValueError, KeyError, TypeError) as error:  # a record the backtest cannot replay: say so, once
        figures = {"version": counterfactual.VERSION, "tick_seconds": None, "market": None, "rows": []}
        figures["error"] = f"{type(error).__name__}: {error}"[:300]
    try:
        with transaction.atomic():
            return OrderCounterfactuals.objects.create(
                order_id=order_id, arrival=arrival, version=counterfactual.VERSION, figures=figures
            )
    except IntegrityError:  # another worker stored it first: the same rows (deterministic)
        return OrderCounterfactuals.objects.get(order_id=order_id)


def counterfactuals_request(order_id: int) -> None:
    """Queue the order's counterfactuals, at most one task per order in flight."""
    from tca import tasks

    if cache.add(COUNTERFACTUAL_QUEUED.format(order=order_id), 1, timeout=COUNTERFACTUAL_QUEUED_SECONDS):
        # Robust: a broker down fails no request; the sweep queues it again after the timeout.
        transaction.on_commit(lambda: tasks.counterfactuals_compute_order.delay(order_id), robust=True)


def counterfactuals_pending(*, limit: int = 20) -> int:
    """Queue the counterfactuals of finished executions recorded at arrival that have none
    yet. Working ones wait (a TCA request still queues theirs): the backtests are post-trade
    work and should not compete with the trading. How many were looked at."""
    order_ids = list(
        ExecutionArrival.objects.filter(
            execution__order__counterfactuals__isnull=True, execution__status__in=EXECUTION_TERMINAL
        )
        .order_by("id")
        .values_list("execution__order_id", flat=True)[:limit]
    )
    for order_id in order_ids:
        counterfactuals_request(order_id)
    return len(order_ids)


def counterfactual_view(order: Order, *, request: bool = True) -> dict:
    """The order's counterfactuals as the API shows them: {status, rows, market,
    tick_seconds, computed_at}. status: computed; pending (recorded at arrival, queued now
    when `request`); unavailable (nothing was recorded at arrival)."""
    stored = OrderCounterfactuals.objects.filter(order=order).first()
    if stored is not None:
        return {
            "status": "computed",
            "rows": stored.figures["rows"],
            "market": stored.figures["market"],
            "tick_seconds": stored.figures["tick_seconds"],
            "computed_at": stored.computed_at.isoformat(),
            "error": stored.figures.get("error", ""),
        }
    recorded = ExecutionArrival.objects.filter(execution__order=order).exists()
    if recorded and request:
        counterfactuals_request(order.pk)
    return {
        "status": "pending" if recorded else "unavailable",
        "rows": [],
        "market": None,
        "tick_seconds": None,
        "computed_at": None,
        "error": "",
    }


def realised_from_arrival(order: Order, figures: dict) -> dict:
    """The realised shortfall as the counterfactuals measure theirs: from the arrival price
    (the decision-to-arrival delay left out), the unfilled part at the end mid, in bps of
    the arrival notional of the whole order: total - delay - s(Q - X)(Pa - Pd)m."""
    short, bench = figures["shortfall"], figures["benchmarks"]
    execution = selectors.order_execution(order)
    strategy = "" if execution is None else execution.strategy
    if bench["arrival"] is None or bench["decision"] is None:
        return {"strategy": strategy, "filled": None, "average_price": None, "cost": None, "shortfall_bps": None}
    sign = 1 if order.side == Side.BUY else -1
    arrival, decision, m = Decimal(bench["arrival"]), Decimal(bench["decision"]), order.instrument.multiplier
    ordered, filled = Decimal(figures["ordered_quantity"]), Decimal(short["filled_quantity"])
    cost = (
        Decimal(short["total"])
        - Decimal(short["parts"]["delay"])
        - sign * (ordered - filled) * (arrival - decision) * m
    )
    notional = ordered * arrival * m
    return {
        "strategy": strategy,
        "filled": short["filled_quantity"],
        "average_price": short["average_price"],
        "cost": str(cost.quantize(TWO)),
        "shortfall_bps": str((cost / notional * 10_000).quantize(TWO)) if notional else None,
    }


def _analysis(order: Order, *, now: datetime) -> tuple[dict, object]:
    facts = selectors.order_facts(order, now=now)
    figures = analyse(facts)
    view = counterfactual_view(order, request=False)
    figures["counterfactuals"] = view["rows"]  # stored with the TCA when they were ready
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
    # The counterfactuals are read from their own stored row: ready later than the TCA may be.
    view = counterfactual_view(order)
    view["realised"] = realised_from_arrival(order, figures)
    return {
        "order": order.pk,
        "instrument": order.instrument.symbol,
        "final": final,
        "computed_at": computed_at.isoformat(),
        **figures,
        "counterfactuals": view.pop("rows"),
        "counterfactual": view,
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
