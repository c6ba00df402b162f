"""From a chosen strategy to concrete parameters for this order: one planner per strategy,
looked up in PLANNERS, then the cost model prices the planned horizon.

A planner turns the order and the matching rule's parameter defaults into a Plan (horizon,
participation rate, the strategy's own parameters and the sentences that explain them);
plan_strategy adds what every strategy shares and the cost estimate."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from core.vocabulary import Strategy
from sor.domain import rationale
from sor.domain.cost import CostEstimate, estimate_cost
from sor.domain.inputs import SelectionInputs
from sor.domain.types import Number

# Default upper bound on the share of market volume a schedule may take (a rule may set a
# lower one): beyond half of the volume we would be the market, and the cost model's
# assumptions no longer hold.
MAX_PARTICIPATION_RATE = 0.5
# A schedule shorter than this is not a schedule; also the floor when time is up.
MIN_HORIZON_SECONDS = 60.0
DEFAULT_SLICE_SECONDS = 300.0
DEFAULT_DARK_HORIZON_SECONDS = 1800.0
DEFAULT_RFQ_SECONDS = 30.0
DEFAULT_RFQ_COUNTERPARTIES = 5
DEFAULT_PARTICIPATION_RATE = 0.1
# Liquidity providers price a block off the immediate square-root impact but can warehouse
# and hedge it over time; we assume they charge half of it. No exchange fees on an RFQ.
RFQ_IMPACT_SHARE = 0.5

# Keys a rule's parameter defaults may set, all read by the planners below:
#   participation_rate      target share of volume of a schedule
#   max_participation_rate  cap on it when time is short (the order runs late instead)
#   horizon_share           share of the time left a schedule may use
#   max_horizon_seconds     RFQ answer window; longest a dark order rests
#   slice_seconds           length of one schedule slice
#   display_fraction        iceberg clip as a share of the order
#   counterparties          liquidity providers asked in an RFQ
#   dark_fraction, expected_dark_fill  share sent dark and the share of it expected to fill
#   aggressive_fraction     share expected to take liquidity (pays half-spread and fees)
#   front_loading           IS urgency kappa*T (unit-free)
PARAMETER_KEYS = frozenset(
    {
        "participation_rate",
        "slice_seconds",
        "max_horizon_seconds",
        "horizon_share",
        "display_fraction",
        "counterparties",
        "dark_fraction",
        "expected_dark_fill",
        "aggressive_fraction",
        "front_loading",
        "max_participation_rate",
    }
)


@dataclass(frozen=True, slots=True)
class Plan:
    """One strategy's plan for this order, before it is priced."""

    horizon_seconds: float
    participation_rate: float  # share of market volume while trading, as the cost model sees it
    sentences: list[str]
    parameters: dict[str, Any] = field(default_factory=dict)  # this strategy's own parameters
    one_shot: bool = False  # DIRECT and RFQ trade at once: no participation rate to report
    aggressive_fraction: float | None = None  # None: the rule's default, else all of it
    fee_bps: float | None = None  # None: the order's taker fee
    impact_coef: float | None = None  # None: the instrument's coefficient


Planner = Callable[[Strategy, SelectionInputs, Mapping[str, float]], Plan]


def plan_strategy(
    strategy: Strategy, inputs: SelectionInputs, defaults: Mapping[str, float]
) -> tuple[dict[str, Any], list[str], CostEstimate]:
    """Turn a strategy and its rule defaults into concrete parameters for this order,
    the sentences that explain them, and the cost model's estimate for that horizon."""
    plan = PLANNERS[strategy](strategy, inputs, defaults)
    parameters: dict[str, Any] = {
        "horizon_seconds": round(plan.horizon_seconds),
        "participation_rate": None if plan.one_shot else round(min(plan.participation_rate, 1.0), 4),
        "slices": 1,
        "display_quantity": None,
        "counterparties": None,
        "limit_price": None if inputs.limit_price is None else str(inputs.limit_price),
        "dark_fraction": None,
        "half_life_seconds": None,
    }
    parameters.update(plan.parameters)
    aggressive = plan.aggressive_fraction
    cost = estimate_cost(
        quantity=float(inputs.quantity),
        price=float(inputs.price),
        adv=float(inputs.adv),
        daily_vol=inputs.daily_vol,
        spread_bps=inputs.spread_bps,
        horizon_seconds=plan.horizon_seconds,
        fee_bps=inputs.fee_bps if plan.fee_bps is None else plan.fee_bps,
        impact_coef=inputs.impact_coef if plan.impact_coef is None else plan.impact_coef,
        multiplier=float(inputs.multiplier),
        participation_rate=plan.participation_rate,
        aggressive_fraction=defaults.get("aggressive_fraction", 1.0) if aggressive is None else aggressive,
        trading_day_seconds=inputs.trading_day_seconds,
    )
    return parameters, list(plan.sentences), cost


# --------------------------------------------------------------------------------------
# One planner per strategy


def _plan_direct(strategy: Strategy, inputs: SelectionInputs, defaults: Mapping[str, float]) -> Plan:
    return Plan(0.0, 1.0, [rationale.sweep_sentence(inputs.quantity)], one_shot=True)


def _plan_rfq(strategy: Strategy, inputs: SelectionInputs, defaults: Mapping[str, float]) -> Plan:
    horizon = defaults.get("max_horizon_seconds", DEFAULT_RFQ_SECONDS)
    counterparties = int(defaults.get("counterparties", DEFAULT_RFQ_COUNTERPARTIES))
    return Plan(
        horizon,
        1.0,
        [rationale.rfq_sentence(counterparties, horizon)],
        {"counterparties": counterparties},
        one_shot=True,
        fee_bps=0.0,
        impact_coef=inputs.impact_coef * RFQ_IMPACT_SHARE,
    )


def _plan_dark(strategy: Strategy, inputs: SelectionInputs, defaults: Mapping[str, float]) -> Plan:
    horizon = min(_usable_seconds(inputs, defaults), defaults.get("max_horizon_seconds", DEFAULT_DARK_HORIZON_SECONDS))
    dark_fraction = defaults.get("dark_fraction", 1.0)
    expected_fill = defaults.get("expected_dark_fill", 0.5)
    return Plan(
        horizon,
        _rate_over(inputs, horizon),
        [rationale.dark_sentence(dark_fraction, inputs.venue_count_dark, horizon, expected_fill)],
        {"dark_fraction": dark_fraction},
        # Dark fills at the mid pay no half-spread and no taker fee; the residual does.
        aggressive_fraction=1.0 - dark_fraction * expected_fill,
    )


def _plan_schedule(strategy: Strategy, inputs: SelectionInputs, defaults: Mapping[str, float]) -> Plan:
    """TWAP, VWAP and POV: trade along a schedule at a participation rate."""
    horizon, rate, slices, notes = _schedule(inputs, defaults)
    return Plan(
        horizon, rate, [*notes, rationale.schedule_sentence(strategy.value, horizon, slices, rate)], {"slices": slices}
    )


def _plan_iceberg(strategy: Strategy, inputs: SelectionInputs, defaults: Mapping[str, float]) -> Plan:
    """A schedule that shows one small clip at a time."""
    horizon, rate, slices, notes = _schedule(inputs, defaults)
    display = _display_quantity(inputs, defaults.get("display_fraction", 0.1))
    return Plan(
        horizon,
        rate,
        [*notes, rationale.iceberg_sentence(display, inputs.quantity, horizon, rate)],
        {"slices": slices, "display_quantity": str(display)},
    )


def _plan_is(strategy: Strategy, inputs: SelectionInputs, defaults: Mapping[str, float]) -> Plan:
    """Implementation shortfall: a schedule whose holdings decay like sinh(kappa (T - t));
    the rule sets kappa*T, unit-free, and the schedule gets the half-life 1/kappa in seconds."""
    horizon, rate, slices, notes = _schedule(inputs, defaults)
    sentences = [*notes, rationale.schedule_sentence(strategy.value, horizon, slices, rate)]
    parameters: dict[str, Any] = {"slices": slices}
    front_loading = defaults.get("front_loading", 1.0)
    if front_loading > 0:
        half_life = horizon / front_loading
        parameters["half_life_seconds"] = round(half_life)
        sentences.append(rationale.front_loading_sentence(half_life, front_loading))
    return Plan(horizon, rate, sentences, parameters)


PLANNERS: dict[Strategy, Planner] = {
    Strategy.DIRECT: _plan_direct,
    Strategy.RFQ: _plan_rfq,
    Strategy.DARK: _plan_dark,
    Strategy.TWAP: _plan_schedule,
    Strategy.VWAP: _plan_schedule,
    Strategy.POV: _plan_schedule,
    Strategy.IS: _plan_is,
    Strategy.ICEBERG: _plan_iceberg,
}
if set(PLANNERS) != set(Strategy):
    raise RuntimeError(f"strategies without a planner: {sorted(set(Strategy) - set(PLANNERS))}")


# --------------------------------------------------------------------------------------
# Shared by the planners


def _usable_seconds(inputs: SelectionInputs, defaults: Mapping[str, float]) -> float:
    """How much of the time left a scheduled strategy may use (urgent orders use less)."""
    return max(inputs.time_left_seconds * defaults.get("horizon_share", 1.0), MIN_HORIZON_SECONDS)


def _rate_over(inputs: SelectionInputs, horizon_seconds: float) -> float:
    """Share of market volume that trades the whole order in `horizon_seconds`."""
    return inputs.participation / (horizon_seconds / inputs.trading_day_seconds)


def _schedule(inputs: SelectionInputs, defaults: Mapping[str, float]) -> tuple[float, float, int, list[str]]:
    """Horizon, participation rate and slices of a schedule at the rule's target rate,
    finishing in the usable time if the cap allows; plus a warning when it does not."""
    participation, day = inputs.participation, inputs.trading_day_seconds
    usable = _usable_seconds(inputs, defaults)
    horizon = participation / defaults.get("participation_rate", DEFAULT_PARTICIPATION_RATE) * day
    if horizon > usable:
        horizon = usable  # finish in time, trading faster than the target
    rate = _rate_over(inputs, horizon)
    notes = []
    # A patient order would rather run late than become a large share of the market.
    cap = defaults.get("max_participation_rate", MAX_PARTICIPATION_RATE)
    if rate > cap:
        notes.append(rationale.participation_cap_sentence(usable, rate, cap))
        rate = cap
        horizon = participation / rate * day
    slices = max(1, math.ceil(horizon / defaults.get("slice_seconds", DEFAULT_SLICE_SECONDS)))
    return horizon, rate, slices, notes


def _display_quantity(inputs: SelectionInputs, display_fraction: float) -> Decimal:
    """Visible clip: a fraction of the order, whole lots, at least one lot."""
    lot = _decimal(inputs.lot_size)
    quantity = _decimal(inputs.quantity)
    lots = (quantity * _decimal(display_fraction) / lot).to_integral_value(rounding=ROUND_DOWN)
    return min(max(lots, Decimal(1)) * lot, quantity)


def _decimal(value: Number) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))
