"""Re-fitting an instrument's impact coefficient Y (the square-root law of sor.domain.cost)
from realised trading costs.

Each finished order implies a coefficient: the pre-trade model predicted impact_bps with the
coefficient Y_d in force then, and the order realised `observed` bps of impact (its TCA's
impact + timing, per filled notional at arrival: the price moved against us beyond the
spread, while we traded). The model is linear in Y, so the order implies
Y_d * observed / predicted. The refit takes the median of those (robust: one order caught
in a news move cannot drag it), needs a minimum number of orders, and moves the coefficient
by at most `max_step` (a fraction of the current value) per refit, within [floor, cap]."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ImpactObservation:
    order_id: int
    coefficient_then: float  # Y the decision used
    predicted_impact_bps: float
    observed_impact_bps: float

    @property
    def implied(self) -> float:
        return self.coefficient_then * self.observed_impact_bps / self.predicted_impact_bps


@dataclass(frozen=True, slots=True)
class Refit:
    previous: float
    coefficient: float
    target: float | None  # the median implied coefficient, before the step bound
    orders: tuple[int, ...]
    bounded: bool
    reason: str

    @property
    def changed(self) -> bool:
        return self.coefficient != self.previous


def refit_coefficient(
    current: float,
    observations: list[ImpactObservation],
    *,
    min_orders: int = 5,
    max_step: float = 0.2,
    floor: float = 0.05,
    cap: float = 5.0,
) -> Refit:
    usable = [o for o in observations if o.predicted_impact_bps > 0 and o.coefficient_then > 0]
    orders = tuple(o.order_id for o in usable)
    if len(usable) < min_orders:
        return Refit(current, current, None, orders, False, f"{len(usable)} usable orders, {min_orders} needed")
    target = statistics.median(o.implied for o in usable)
    low, high = current * (1 - max_step), current * (1 + max_step)
    stepped = min(max(target, low), high)
    coefficient = round(min(max(stepped, floor), cap), 4)
    bounded = coefficient != round(min(max(target, floor), cap), 4)
    reason = f"median implied {target:.4f} of {len(usable)} orders" + (
        f", step bounded to ±{max_step:.0%}" if bounded else ""
    )
    return Refit(current, coefficient, target, orders, bounded, reason)
