"""The sentences that explain a decision to the trader. Numbers are decided elsewhere (the
rule, the planners, the cost model); this module only puts them into words."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from sor.domain.cost import CostEstimate
from sor.domain.types import Number


def rule_sentence(template: str, features: Mapping[str, Any]) -> str:
    """The matching rule's own reason, its template filled from the features."""
    return template.format(**features)


_TARGET = re.compile(r"\(target \d+(?:\.\d+)?%( of volume)?\)")


def restate_targets(sentence: str, parameters: Mapping[str, Any]) -> str:
    """A rule's sentence names the rate it aims for ("POV (target 12% of volume)"); the plan
    may choose another (to meet a deadline). Say the rate actually chosen."""
    rate = parameters.get("participation_rate")
    if rate is None:
        return _TARGET.sub("", sentence).replace("  ", " ").strip()
    return _TARGET.sub(f"(at {float(rate):.0%} of volume)", sentence)


DEFAULT_MATRIX_NOTE = "No configured rule matched: the default matrix decided."
STALE_MARKET_NOTE = "No fresh market data: spread from analytics, no displayed depth; re-check before trading."


def decision_rationale(
    sentences: Sequence[str], parameters: Mapping[str, Any], *, default_matrix: bool, fresh_market: bool
) -> list[str]:
    """The sentences stored with a decision: the rule's and planners' own, each saying the
    rate actually chosen, then why the answer may need a second look (the configured matrix
    had no rule for this order; the market data was not fresh)."""
    said = [restate_targets(sentence, parameters) for sentence in sentences]
    if default_matrix:
        said.append(DEFAULT_MATRIX_NOTE)
    if not fresh_market:
        said.append(STALE_MARKET_NOTE)
    return said


def cost_sentence(cost: CostEstimate) -> str:
    return (
        f"Estimated cost {cost.cost_bps:.1f} bps (half-spread {cost.spread_bps:.1f}, "
        f"impact {cost.impact_bps:.1f}, fees {cost.fees_bps:.1f}) = {cost.cost:,.2f}; "
        f"timing risk {cost.timing_risk_bps:.1f} bps"
    )


def sweep_sentence(quantity: Number) -> str:
    return f"Sweep the lit book now for {quantity_text(quantity)}"


def rfq_sentence(counterparties: int, horizon_seconds: float) -> str:
    return (
        f"Request quotes from {counterparties} liquidity providers for the whole block, "
        f"answering within {horizon_seconds:.0f} s"
    )


def dark_sentence(dark_fraction: float, dark_venues: int, horizon_seconds: float, expected_fill: float) -> str:
    return (
        f"Rest {dark_fraction:.0%} at the mid in {dark_venues} dark pool(s) for "
        f"up to {duration_text(horizon_seconds)}, expecting {expected_fill:.0%} filled, then sweep the residual"
    )


def participation_cap_sentence(usable_seconds: float, needed_rate: float, cap: float) -> str:
    return (
        f"Finishing in {duration_text(usable_seconds)} would need {needed_rate:.0%} of the volume; "
        f"capped at {cap:.0%}, so the order will run past its deadline"
    )


def schedule_sentence(strategy_name: str, horizon_seconds: float, slices: int, rate: float) -> str:
    return f"{strategy_name} over {duration_text(horizon_seconds)} in {slices} slices at {rate:.1%} of volume"


def iceberg_sentence(display: Number, quantity: Number, horizon_seconds: float, rate: float) -> str:
    return (
        f"Show {quantity_text(display)} at a time, working {quantity_text(quantity)} "
        f"over {duration_text(horizon_seconds)} at about {rate:.1%} of volume"
    )


def front_loading_sentence(half_life_seconds: float, front_loading: float) -> str:
    return (
        f"Front-loaded: holdings decay with a half-life of {duration_text(half_life_seconds)}, "
        f"{_share_done_by_half_time(front_loading):.0%} done by half time"
    )


def _share_done_by_half_time(kappa_t: float) -> float:
    """Almgren-Chriss holdings decay like sinh(kappa (T - t)) / sinh(kappa T)."""
    return 1 - math.sinh(kappa_t / 2) / math.sinh(kappa_t)


def quantity_text(quantity: Number) -> str:
    value = float(quantity)
    return f"{value:,.0f}" if value == int(value) else f"{value:,.6g}"


def duration_text(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h {minutes:02d} min"
