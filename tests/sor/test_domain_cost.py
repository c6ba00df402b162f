import math

import pytest

from core.vocabulary import EQUITY_SESSION_SECONDS
from sor.domain import CostEstimate, estimate_cost
from sor.domain.cost import DEFAULT_IMPACT_COEF, PARTICIPATION_EXPONENT, TEMPORARY_IMPACT_SHARE

DAY = EQUITY_SESSION_SECONDS


def _estimate(**overrides) -> CostEstimate:
    arguments = dict(quantity=10_000, price=50.0, adv=1_000_000, daily_vol=0.02, spread_bps=4.0, fee_bps=0.3)
    arguments.update(overrides)
    return estimate_cost(**arguments)


def test_immediate_impact_is_the_square_root_law():
    # 1% of ADV, 2% daily vol, Y = 0.7: 0.7 * 0.02 * sqrt(0.01) = 14 bps.
    estimate = _estimate(impact_coef=0.7)
    assert estimate.participation_rate == 1.0
    assert estimate.impact_bps == pytest.approx(14.0, rel=1e-12)


@pytest.mark.parametrize("participation_rate", [None, 1.0, 0.2, 0.05])
def test_four_times_the_size_doubles_the_impact_at_a_fixed_trading_rate(participation_rate):
    small = _estimate(quantity=10_000, participation_rate=participation_rate)
    large = _estimate(quantity=40_000, participation_rate=participation_rate)
    assert large.impact_bps / small.impact_bps == pytest.approx(2.0, rel=1e-12)
    assert large.impact_bps > small.impact_bps


def test_slower_participation_scales_only_the_temporary_share():
    estimate = _estimate(participation_rate=0.25)
    full = DEFAULT_IMPACT_COEF * 0.02 * math.sqrt(0.01) * 1e4
    expected = full * (TEMPORARY_IMPACT_SHARE * 0.25**PARTICIPATION_EXPONENT + 1 - TEMPORARY_IMPACT_SHARE)
    assert estimate.impact_bps == pytest.approx(expected, rel=1e-12)
    assert estimate.impact_bps == pytest.approx(14.0 * 0.55, rel=1e-12)  # 0.9 * 0.5 + 0.1


def test_horizon_sets_the_participation_rate():
    # 10% of ADV over half a day is 20% of the volume.
    estimate = _estimate(quantity=100_000, horizon_seconds=DAY / 2)
    assert estimate.participation_rate == pytest.approx(0.2, rel=1e-12)


def test_trading_faster_than_the_market_costs_the_immediate_impact():
    rushed = _estimate(quantity=100_000, horizon_seconds=60)
    assert rushed.participation_rate == 1.0
    assert rushed.impact_bps == pytest.approx(_estimate(quantity=100_000).impact_bps, rel=1e-12)


def test_longer_horizon_means_less_impact_and_more_timing_risk():
    fast = _estimate(quantity=100_000, horizon_seconds=DAY / 4)
    slow = _estimate(quantity=100_000, horizon_seconds=DAY)
    assert slow.impact_bps < fast.impact_bps
    assert slow.timing_risk_bps > fast.timing_risk_bps


def test_timing_risk_is_sigma_root_horizon():
    assert _estimate(horizon_seconds=DAY).timing_risk_bps == pytest.approx(200.0, rel=1e-12)
    assert _estimate(horizon_seconds=DAY / 4).timing_risk_bps == pytest.approx(100.0, rel=1e-12)
    assert _estimate(horizon_seconds=0).timing_risk_bps == 0.0
    # Crypto trades around the clock: the same hours are a smaller share of its day.
    assert _estimate(horizon_seconds=6 * 3600, trading_day_seconds=24 * 3600).timing_risk_bps == pytest.approx(100.0)


def test_spread_and_fees_are_paid_on_the_aggressive_share_only():
    aggressive = _estimate()
    assert aggressive.spread_bps == 2.0
    assert aggressive.fees_bps == pytest.approx(0.3)
    half_passive = _estimate(aggressive_fraction=0.5)
    assert half_passive.spread_bps == 1.0
    assert half_passive.fees_bps == pytest.approx(0.15)
    assert half_passive.impact_bps == aggressive.impact_bps


def test_currency_figures_use_notional_with_multiplier():
    # 100 option contracts at 2.50 with multiplier 100: notional 25,000.
    estimate = estimate_cost(
        quantity=100,
        price=2.5,
        adv=10_000,
        daily_vol=0.05,
        spread_bps=200.0,
        multiplier=100,
        impact_coef=0.5,
        horizon_seconds=DAY,
    )
    assert estimate.notional == 25_000.0
    # half-spread 100 bps + impact 0.5 * 0.05 * sqrt(0.01) * (0.9 * sqrt(0.01) + 0.1) = 4.75 bps
    assert estimate.impact_bps == pytest.approx(4.75, rel=1e-12)
    assert estimate.cost_bps == pytest.approx(104.75, rel=1e-12)
    assert estimate.cost == pytest.approx(25_000 * 104.75 / 1e4, rel=1e-12)
    assert estimate.timing_risk == pytest.approx(25_000 * 0.05, rel=1e-12)
    plain = estimate.to_dict()
    assert plain["cost_bps"] == estimate.cost_bps and plain["notional"] == 25_000.0


def test_larger_orders_cost_more_in_bps():
    costs = [_estimate(quantity=q, horizon_seconds=DAY).cost_bps for q in (1_000, 10_000, 100_000, 300_000)]
    assert costs == sorted(costs) and len(set(costs)) == 4


@pytest.mark.parametrize(
    "overrides",
    [
        {"quantity": -1},
        {"price": 0},
        {"adv": 0},
        {"daily_vol": -0.1},
        {"spread_bps": -1},
        {"horizon_seconds": -5},
        {"aggressive_fraction": 1.5},
    ],
)
def test_rejects_nonsense_inputs(overrides):
    with pytest.raises(ValueError):
        _estimate(**overrides)
