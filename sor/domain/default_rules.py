"""The default strategy selection matrix, as data.

Read top to bottom: the first rule whose conditions all hold picks the strategy. Ranges are
half-open [min, max); participation is quantity / ADV; depth_ratio is displayed depth on our
side of all lit books / quantity; limit_distance_bps is how far the limit lets us pay through
the mid (negative = passive limit, no limit = +infinity). The last rule is a catch-all.

Choices worth knowing:
- A tiny order (< 0.1% of ADV) is swept at once only if the displayed book covers it
  (depth_ratio >= 1); if the book shows less, sweeping would walk it and tell everyone, so it
  goes to an iceberg instead (rule "iceberg-thin-book").
- HIGH urgency alone sends anything that is not a small sweep or an RFQ block to IS or POV,
  whatever the volatility; HIGH volatility only makes IS more aggressive.
- Urgent schedules may use half of the time left and up to 50% of volume; patient ones the
  whole time left but at most 25% (LOW) or 35% (MEDIUM) of volume, running late instead.
"""

from __future__ import annotations

from core.vocabulary import AssetClass, Strategy, Urgency
from sor.domain.rules import SelectionRule
from sor.domain.types import VolatilityRegime

_CALM = frozenset({Urgency.LOW, Urgency.MEDIUM})

DEFAULT_RULES: tuple[SelectionRule, ...] = (
    SelectionRule(
        priority=10,
        name="rfq-derivative-block",
        strategy=Strategy.RFQ,
        asset_classes=frozenset({AssetClass.OPTION, AssetClass.CRYPTO}),
        participation_min=0.05,
        parameters={"counterparties": 5, "max_horizon_seconds": 30},
        rationale=(
            "{asset_class} block of {participation_pct:.1f}% of ADV: price it privately with liquidity providers (RFQ)"
        ),
    ),
    SelectionRule(
        priority=20,
        name="rfq-illiquid-option",
        strategy=Strategy.RFQ,
        asset_classes=frozenset({AssetClass.OPTION}),
        spread_bps_min=100,
        depth_ratio_max=1,
        parameters={"counterparties": 5, "max_horizon_seconds": 30},
        rationale="option spread {spread_bps:.0f} bps with {lots_shown:.0f} lots shown: RFQ",
    ),
    SelectionRule(
        priority=25,
        name="iceberg-passive-limit",
        strategy=Strategy.ICEBERG,
        urgencies=_CALM,
        limit_distance_bps_max=-25,
        parameters={
            "participation_rate": 0.05,
            "display_fraction": 0.1,
            "aggressive_fraction": 0.0,
            "max_participation_rate": 0.25,
        },
        rationale=(
            "limit {limit_distance_bps:+.0f} bps from the mid, on the passive side: rest it as an iceberg rather than "
            "chase"
        ),
    ),
    SelectionRule(
        priority=30,
        name="direct-small",
        strategy=Strategy.DIRECT,
        participation_max=0.001,
        depth_ratio_min=1,
        spread_bps_max=50,
        rationale=(
            "{participation_pct:.3f}% of ADV with {depth_ratio:.1f}x its size displayed: one sweep of the lit book is "
            "cheapest"
        ),
    ),
    SelectionRule(
        priority=40,
        name="is-urgent-volatile",
        strategy=Strategy.IS,
        urgencies=frozenset({Urgency.HIGH}),
        volatility_regimes=frozenset({VolatilityRegime.HIGH}),
        parameters={"participation_rate": 0.25, "horizon_share": 0.5, "front_loading": 3.0},
        rationale=(
            "{urgency} urgency in {volatility_regime} volatility ({daily_vol_pct:.1f}% a day): strongly front-loaded "
            "IS, at least 25% participation"
        ),
    ),
    SelectionRule(
        priority=50,
        name="direct-urgent",
        strategy=Strategy.DIRECT,
        urgencies=frozenset({Urgency.HIGH}),
        participation_max=0.01,
        depth_ratio_min=1,
        rationale=(
            "{urgency} urgency and {participation_pct:.2f}% of ADV fits in the displayed book ({depth_ratio:.1f}x): "
            "sweep now"
        ),
    ),
    SelectionRule(
        priority=60,
        name="is-urgent-large",
        strategy=Strategy.IS,
        urgencies=frozenset({Urgency.HIGH}),
        participation_min=0.05,
        parameters={"participation_rate": 0.2, "horizon_share": 0.5, "front_loading": 1.5},
        rationale=(
            "{participation_pct:.1f}% of ADV: too large for one sweep; {urgency} urgency, so IS front-loads at 20% "
            "participation or more to cut timing risk"
        ),
    ),
    SelectionRule(
        priority=70,
        name="pov-urgent",
        strategy=Strategy.POV,
        urgencies=frozenset({Urgency.HIGH}),
        parameters={"participation_rate": 0.2, "horizon_share": 0.5},
        rationale=(
            "{urgency} urgency on {participation_pct:.2f}% of ADV with {depth_ratio:.1f}x displayed: POV (target 20%) "
            "keeps pace with the market"
        ),
    ),
    SelectionRule(
        priority=80,
        name="iceberg-thin-book",
        strategy=Strategy.ICEBERG,
        participation_max=0.01,
        depth_ratio_max=1,
        parameters={
            "participation_rate": 0.05,
            "display_fraction": 0.1,
            "aggressive_fraction": 0.5,
            "max_participation_rate": 0.25,
        },
        rationale=(
            "only {depth_ratio:.2f}x the order is displayed although it is {participation_pct:.2f}% of ADV: hide it "
            "in an iceberg"
        ),
    ),
    SelectionRule(
        priority=85,
        name="twap-short-window",
        strategy=Strategy.TWAP,
        time_left_seconds_max=1800,
        parameters={"participation_rate": 0.15, "slice_seconds": 60, "max_participation_rate": 0.35},
        rationale=(
            "only {time_left_minutes:.0f} min left for {participation_pct:.2f}% of ADV: TWAP evenly over the "
            "remaining window"
        ),
    ),
    SelectionRule(
        priority=90,
        name="dark-midsize",
        strategy=Strategy.DARK,
        asset_classes=frozenset({AssetClass.EQUITY}),
        participation_min=0.001,
        participation_max=0.05,
        spread_bps_max=30,
        dark_venues_min=1,
        urgencies=_CALM,
        parameters={"dark_fraction": 1.0, "expected_dark_fill": 0.5, "max_horizon_seconds": 1800},
        rationale=(
            "{participation_pct:.2f}% of ADV in a liquid stock ({spread_bps:.1f} bps spread) with {venue_count_dark} "
            "dark pool(s): rest at the mid to save the spread and hide the size"
        ),
    ),
    SelectionRule(
        priority=100,
        name="vwap-patient",
        strategy=Strategy.VWAP,
        urgencies=frozenset({Urgency.LOW}),
        participation_min=0.01,
        parameters={"participation_rate": 0.08, "max_participation_rate": 0.25},
        rationale=(
            "{participation_pct:.1f}% of ADV: too large for one sweep; {urgency} urgency, so a patient VWAP along the "
            "volume curve (target 8% of volume)"
        ),
    ),
    SelectionRule(
        priority=110,
        name="pov-medium",
        strategy=Strategy.POV,
        urgencies=frozenset({Urgency.MEDIUM}),
        participation_min=0.01,
        parameters={"participation_rate": 0.12, "max_participation_rate": 0.35},
        rationale=(
            "{participation_pct:.1f}% of ADV: too large for one sweep; {urgency} urgency, so POV (target 12% of volume)"
        ),
    ),
    SelectionRule(
        priority=1000,
        name="catch-all",
        strategy=Strategy.POV,
        parameters={"participation_rate": 0.1, "max_participation_rate": 0.35},
        rationale=(
            "{participation_pct:.2f}% of ADV, {spread_bps:.1f} bps spread, {urgency} urgency: no specific rule, so "
            "POV (target 10% of volume), the robust default"
        ),
    ),
)

if not DEFAULT_RULES[-1].is_catch_all:
    raise RuntimeError("the default matrix must end in a catch-all")
