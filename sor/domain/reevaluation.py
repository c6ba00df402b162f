"""Re-evaluation of a working strategy on each tick: keep it, or switch and say why.

Checks run in order and the first one that calls for a different strategy wins:
1. the limit is now far behind the market (taking cannot fill): rest as an iceberg;
2. liquidity is gone (displayed depth collapsed or spread blew out): stop crossing the
   spread, go dark, to an RFQ, or rest passively;
3. a volatility spike: cut timing risk with a front-loaded IS;
4. far behind schedule: catch up with POV at the rate that finishes in time;
5. a passive limit the market has come through: the reason for resting is gone, re-select.

`inputs_now.quantity` is the quantity still to do; the other fields describe the market now.
A SWITCH whose new strategy equals the current one (POV behind schedule) means: same
strategy, the new parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.vocabulary import AssetClass, Strategy, parse_enum
from sor.domain.inputs import SelectionInputs
from sor.domain.planning import MAX_PARTICIPATION_RATE, plan_strategy
from sor.domain.rules import SelectionRule
from sor.domain.selection import select_strategy
from sor.domain.types import SCHEDULED_STRATEGIES

# Volatility now above this multiple of the volatility at start is a spike.
VOLATILITY_SPIKE_RATIO = 2.0
# Liquidity is gone when the displayed depth ratio falls below this share of its value at
# start while also no longer covering the order, or the spread widens this many times and
# by at least SPREAD_BLOWOUT_MIN_BPS (so 1 -> 3 bps noise in a tight market does not count).
DEPTH_COLLAPSE_RATIO = 0.25
SPREAD_BLOWOUT_RATIO = 3.0
SPREAD_BLOWOUT_MIN_BPS = 5.0
# Remaining quantity above this share of ADV goes to an RFQ rather than dark when liquidity
# is gone (dark pools rarely absorb that much).
RFQ_REMAINING_PARTICIPATION = 0.05
# Filled fraction more than this far behind the schedule's expected fraction (20 points).
BEHIND_SCHEDULE_POINTS = 0.20
CATCH_UP_MIN_RATE = 0.15
# A limit this far behind the mid on the passive side will not fill by taking liquidity.
LIMIT_FAR_BPS = 100.0
# A passive limit that is now this far through the mid has become marketable.
LIMIT_THROUGH_BPS = 10.0

_ONE_SHOT = frozenset({Strategy.DIRECT, Strategy.RFQ})
_RISK_CUTTING = frozenset({Strategy.IS, Strategy.POV}) | _ONE_SHOT
_LIQUIDITY_SAFE = frozenset({Strategy.DARK, Strategy.RFQ})
_PLAN_DEFAULTS: dict[Strategy, dict[str, float]] = {
    Strategy.IS: {"participation_rate": 0.25, "horizon_share": 0.5, "front_loading": 3.0},
    Strategy.ICEBERG: {
        "participation_rate": 0.05,
        "display_fraction": 0.1,
        "aggressive_fraction": 0.0,
        "max_participation_rate": 0.25,
    },
    Strategy.DARK: {"dark_fraction": 1.0, "expected_dark_fill": 0.5},
    Strategy.RFQ: {"counterparties": 5},
}


@dataclass(frozen=True, slots=True)
class Reevaluation:
    action: str  # "KEEP" | "SWITCH"
    new_strategy: Strategy | None
    reason: str
    parameters: dict[str, Any] = field(default_factory=dict)  # for the new strategy

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "new_strategy": None if self.new_strategy is None else self.new_strategy.value,
            "reason": self.reason,
            "parameters": dict(self.parameters),
        }


def reevaluate(
    current_strategy: Strategy | str,
    inputs_at_start: SelectionInputs,
    inputs_now: SelectionInputs,
    progress: float,
    schedule_progress: float,
    *,
    current_participation_rate: float | None = None,
    rules: Sequence[SelectionRule] | None = None,
) -> Reevaluation:
    """`progress` is the filled fraction, `schedule_progress` the fraction the schedule
    expected by now; `rules` is the selection matrix used when a re-selection is due."""
    current = parse_enum(Strategy, current_strategy, "current_strategy")
    if not (0.0 <= progress <= 1.0 and 0.0 <= schedule_progress <= 1.0):
        raise ValueError("progress and schedule_progress must be within [0, 1]")
    if inputs_now.side != inputs_at_start.side or inputs_now.asset_class != inputs_at_start.asset_class:
        raise ValueError("inputs_at_start and inputs_now describe different orders")

    # 1. Limit far behind the market.
    distance_now = inputs_now.limit_distance_bps
    if distance_now is not None and distance_now < -LIMIT_FAR_BPS and current not in (Strategy.ICEBERG, Strategy.RFQ):
        return _switch(
            Strategy.ICEBERG,
            inputs_now,
            f"limit now {distance_now:+.0f} bps from the mid, more than {LIMIT_FAR_BPS:.0f} bps on the "
            f"passive side: taking cannot fill, so rest it as an iceberg at the limit",
        )

    # 2. Liquidity gone.
    depth_start, depth_now = inputs_at_start.depth_ratio, inputs_now.depth_ratio
    spread_start, spread_now = inputs_at_start.spread_bps, inputs_now.spread_bps
    depth_collapsed = depth_now < DEPTH_COLLAPSE_RATIO * depth_start and depth_now < 1.0
    spread_blown = (
        spread_now >= SPREAD_BLOWOUT_RATIO * spread_start and spread_now - spread_start >= SPREAD_BLOWOUT_MIN_BPS
    )
    if (depth_collapsed or spread_blown) and current not in _LIQUIDITY_SAFE:
        what = (
            f"displayed depth fell to {depth_now:.2f}x the remaining quantity from {depth_start:.2f}x"
            if depth_collapsed
            else f"spread widened to {spread_now:.1f} bps from {spread_start:.1f} bps"
        )
        if inputs_now.asset_class is not AssetClass.EQUITY or inputs_now.participation >= RFQ_REMAINING_PARTICIPATION:
            target, how = Strategy.RFQ, "ask liquidity providers for the rest (RFQ)"
        elif inputs_now.venue_count_dark > 0:
            target, how = Strategy.DARK, "stop crossing the spread and rest at the mid in the dark"
        else:
            target, how = Strategy.ICEBERG, "stop crossing the spread and rest passively"
        if target is not current:
            return _switch(target, inputs_now, f"liquidity gone: {what}; {how}")

    # 3. Volatility spike.
    vol_start, vol_now = inputs_at_start.daily_vol, inputs_now.daily_vol
    if vol_now > VOLATILITY_SPIKE_RATIO * vol_start and current not in _RISK_CUTTING:
        ratio = vol_now / vol_start if vol_start > 0 else float("inf")
        return _switch(
            Strategy.IS,
            inputs_now,
            f"volatility {vol_now:.1%} a day is {ratio:.1f}x the {vol_start:.1%} at start: "
            f"cut timing risk with a front-loaded IS",
        )

    # 4. Far behind schedule.
    behind = schedule_progress - progress
    if behind > BEHIND_SCHEDULE_POINTS and current in SCHEDULED_STRATEGIES:
        rate = _catch_up_rate(inputs_now)
        if current is not Strategy.POV or current_participation_rate is None or current_participation_rate < rate:
            return _switch(
                Strategy.POV,
                inputs_now,
                f"{progress:.0%} filled against {schedule_progress:.0%} scheduled ({behind * 100:.0f} points "
                f"behind): POV at {rate:.0%} of volume to catch up",
                {"participation_rate": rate, "max_participation_rate": rate},
            )

    # 5. A passive limit the market came through.
    distance_start = inputs_at_start.limit_distance_bps
    if (
        current is Strategy.ICEBERG
        and distance_start is not None
        and distance_now is not None
        and distance_start < 0
        and distance_now >= LIMIT_THROUGH_BPS
    ):
        decision = select_strategy(inputs_now, rules)
        if decision.strategy is not current:
            return Reevaluation(
                action="SWITCH",
                new_strategy=decision.strategy,
                reason=f"limit now {distance_now:+.0f} bps through the mid (was {distance_start:+.0f}): "
                f"marketable, so re-selected: {decision.rationale[0]}",
                parameters=decision.parameters,
            )

    return Reevaluation(
        action="KEEP",
        new_strategy=None,
        reason=(
            f"no trigger: volatility {vol_now:.1%} ({vol_start:.1%} at start), depth {depth_now:.2f}x, "
            f"spread {spread_now:.1f} bps, {progress:.0%} filled vs {schedule_progress:.0%} scheduled"
        ),
    )


def _catch_up_rate(inputs: SelectionInputs) -> float:
    """Share of volume that finishes the remaining quantity in the time left, clamped."""
    days_left = inputs.time_left_seconds / inputs.trading_day_seconds
    needed = inputs.participation / days_left if days_left > 0 else MAX_PARTICIPATION_RATE
    return round(min(max(needed, CATCH_UP_MIN_RATE), MAX_PARTICIPATION_RATE), 4)


def _switch(
    target: Strategy, inputs: SelectionInputs, reason: str, defaults: Mapping[str, float] | None = None
) -> Reevaluation:
    parameters, _, _ = plan_strategy(
        target, inputs, defaults if defaults is not None else _PLAN_DEFAULTS.get(target, {})
    )
    return Reevaluation(action="SWITCH", new_strategy=target, reason=reason, parameters=parameters)
