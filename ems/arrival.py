"""The market state at an execution's arrival, recorded when the execution starts
(ems.models.ExecutionArrival): what TCA's counterfactuals replay in the virtual-time
backtest (ems.backtest.MarketState, tca.domain.counterfactual).

The live simulator runs in the market-data process; what makes its state is known here:
the seed and parameters it was built with (marketdata.conversion.build_simulator), the
instrument's and venues' rows as specs, and its clock, which every published book carries
(`ts`). Those are recorded, with the arrival mid and the book as published. The router's
second choice is recorded too, from the decision's stored inputs and the selection rules
active now: what the router would have done instead, at the time it decided."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal

from django.conf import settings

from core.vocabulary import AssetClass, VenueKind
from ems.models import Execution, ExecutionArrival
from marketdata.conversion import instrument_spec, parse_feed, simulated_session_seconds, venue_spec
from marketdata.models import Venue
from marketdata.selectors import is_fresh
from marketdata.sim import SimParams
from sor.domain import DEFAULT_RULES, NoMatchingRule, SelectionInputs, runner_up
from sor.models import RoutingDecision
from sor.services import active_rules

_DECIMAL_INPUTS = ("quantity", "price", "adv", "displayed_depth", "limit_price", "lot_size", "multiplier")
_FLOAT_INPUTS = ("daily_vol", "spread_bps", "time_left_seconds", "impact_coef", "fee_bps")


def simulator_params() -> SimParams:
    """The parameters the live simulator is built with (marketdata.conversion.build_simulator)."""
    return SimParams(session_seconds=simulated_session_seconds())


def decision_inputs(decision: RoutingDecision) -> SelectionInputs | None:
    """The SelectionInputs a stored decision was made from (its `inputs`, numbers as strings)."""
    stored = decision.inputs or {}
    try:
        values = {f.name: stored[f.name] for f in dataclasses.fields(SelectionInputs) if f.name in stored}
        for name in _DECIMAL_INPUTS:
            if values.get(name) is not None:
                values[name] = Decimal(values[name])
        for name in _FLOAT_INPUTS:
            if values.get(name) is not None:
                values[name] = float(values[name])
        if values.get("venue_count_dark") is not None:
            values["venue_count_dark"] = int(values["venue_count_dark"])
        return SelectionInputs(**values)
    except (KeyError, TypeError, ValueError, ArithmeticError):
        return None  # a decision stored before its inputs were complete


def second_choice(decision: RoutingDecision | None) -> dict | None:
    """The router's runner-up for the decision's inputs: {strategy, rule, parameters}, or None."""
    inputs = None if decision is None else decision_inputs(decision)
    if inputs is None:
        return None
    try:
        second = runner_up(inputs, active_rules() or DEFAULT_RULES)
    except NoMatchingRule:
        second = runner_up(inputs, DEFAULT_RULES)
    if second is None:
        return None
    parameters = {k: v for k, v in second.parameters.items() if v is not None}
    return {"strategy": str(second.strategy), "rule": second.rule, "parameters": parameters}


def arrival_record(*, execution: Execution, snapshot: dict | None, now: datetime) -> ExecutionArrival:
    """Record the market state at the execution's start (once: its start is once).
    `snapshot` is the book the start read (marketdata.selectors.latest_snapshot)."""
    instrument = execution.order.instrument
    specs = [instrument_spec(instrument, now.date())]
    if instrument.asset_class == AssetClass.OPTION and instrument.underlying_id is not None:
        specs.insert(0, instrument_spec(instrument.underlying, now.date()))  # options price from it
    venues = list(Venue.objects.filter(kind__in=[VenueKind.LIT, VenueKind.DARK]).order_by("id"))
    fresh = is_fresh(snapshot)
    book = None
    if snapshot is not None:
        book = {k: snapshot.get(k) for k in ("ts", "mid", "best_bid", "best_ask", "spread_bps", "venues", "volume")}
    return ExecutionArrival.objects.create(
        execution=execution,
        recorded_at=now,
        feed=parse_feed(settings.MARKETDATA_FEED)[0],
        seed=settings.MARKETDATA_SEED,
        sim_time=float(snapshot["ts"]) if fresh and snapshot.get("ts") is not None else None,
        arrival_mid=execution.arrival_price,
        state={
            "params": dataclasses.asdict(simulator_params()),
            "instruments": [dataclasses.asdict(s) for s in specs],
            "venues": [dataclasses.asdict(venue_spec(v)) for v in venues],
            "dark_fill_rates": {v.name: float(v.dark_fill_rate) for v in venues if v.kind == VenueKind.DARK},
            "book": book,
            "book_fresh": fresh,
            "book_age_seconds": None if snapshot is None else snapshot.get("age_seconds"),
            "second_choice": second_choice(execution.decision),
        },
    )
