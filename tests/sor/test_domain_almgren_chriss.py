"""Almgren & Chriss (2000), section 2.5 example: sell 1,000,000 shares at $50 over 5 days.

Expected figures are worked out here with math, independently of the code under test:
eta_tilde = 2.5e-6 - 2.5e-7/2 = 2.375e-6; cosh(kappa) = 1 + 0.95^2 * 1e-6 / (2 * 2.375e-6)
= 1.19, so kappa = acosh(1.19) = 0.6071 per day (half-life 1/kappa = 1.65 days); the linear
schedule costs E = 125,000 + 62,500 + 475,000 = $662,500 with V = 0.9025 * 1.2e12.
"""

import math

import numpy as np
import pytest

from sor.domain import ACParams, almgren_chriss_trajectory, efficient_frontier, trajectory_cost

X, T, N = 1_000_000.0, 5.0, 5
SIGMA, EPSILON, ETA, GAMMA = 0.95, 0.0625, 2.5e-6, 2.5e-7
ETA_TILDE = ETA - GAMMA * 1.0 / 2


def _paper(lam: float = 1e-6) -> ACParams:
    return ACParams(X=X, T=T, N=N, sigma=SIGMA, eta=ETA, gamma=GAMMA, epsilon=EPSILON, lam=lam)


def _expected_and_variance_by_hand(holdings: list[float]) -> tuple[float, float]:
    trades = [holdings[k - 1] - holdings[k] for k in range(1, N + 1)]
    expected = 0.5 * GAMMA * X**2 + EPSILON * sum(abs(n) for n in trades) + ETA_TILDE * sum(n * n for n in trades)
    variance = SIGMA**2 * sum(x * x for x in holdings[1:])
    return expected, variance


def test_paper_kappa_and_half_life():
    params = _paper()
    assert pytest.approx(2.375e-6, rel=1e-15) == ETA_TILDE
    assert math.cosh(math.acosh(1.19)) == pytest.approx(1.19)
    assert params.eta_tilde == pytest.approx(2.375e-6, rel=1e-12)
    assert params.kappa == pytest.approx(math.acosh(1.19), rel=1e-12)
    assert params.kappa == pytest.approx(0.6071, abs=1e-4)
    assert params.half_life == pytest.approx(1.6472, abs=1e-4)  # days


def test_paper_trajectory_matches_the_closed_form():
    kappa = math.acosh(1.19)
    by_hand = [math.sinh(kappa * (T - k)) / math.sinh(kappa * T) * X for k in range(N + 1)]
    holdings = almgren_chriss_trajectory(_paper())
    assert isinstance(holdings, np.ndarray) and holdings.shape == (N + 1,)
    assert holdings.tolist() == pytest.approx(by_hand, rel=1e-12, abs=1e-6)
    assert holdings[0] == X and holdings[-1] == 0.0
    # Rounded figures for the reader: about 54% left after day 1, 6% before the last day.
    assert [round(x) for x in holdings] == [1_000_000, 541_956, 289_854, 147_897, 62_142, 0]


def test_linear_schedule_cost_and_variance():
    linear = [X * (1 - k / N) for k in range(N + 1)]
    expected, variance = trajectory_cost(_paper(), linear)
    assert expected == pytest.approx(662_500.0, rel=1e-12)  # 125,000 + 62,500 + 475,000
    assert variance == pytest.approx(0.9025 * 1.2e12, rel=1e-12)
    assert math.sqrt(variance) == pytest.approx(1_040_673, rel=1e-6)


def test_optimal_schedule_cost_and_variance_at_lambda_1e_6():
    params = _paper()
    holdings = almgren_chriss_trajectory(params)
    expected, variance = trajectory_cost(params, holdings)
    by_hand = _expected_and_variance_by_hand(holdings.tolist())
    assert expected == pytest.approx(by_hand[0], rel=1e-12)
    assert variance == pytest.approx(by_hand[1], rel=1e-12)
    assert expected == pytest.approx(911_227, rel=1e-6)
    assert math.sqrt(variance) == pytest.approx(603_431, rel=1e-5)


def test_optimal_schedule_minimises_expected_cost_plus_lambda_variance():
    params = _paper()
    lam = params.lam
    optimal = almgren_chriss_trajectory(params)
    best = sum(v * w for v, w in zip(trajectory_cost(params, optimal), (1.0, lam), strict=True))
    rng = np.random.default_rng(7)
    for _ in range(200):
        perturbed = optimal.copy()
        perturbed[1:-1] += rng.normal(0, 20_000, N - 1)  # keep x_0 = X, x_N = 0
        expected, variance = trajectory_cost(params, perturbed)
        assert expected + lam * variance > best


def test_lambda_zero_is_the_linear_schedule():
    params = _paper(lam=0.0)
    assert params.kappa == 0.0 and params.half_life == math.inf
    assert almgren_chriss_trajectory(params).tolist() == pytest.approx([X * (1 - k / N) for k in range(N + 1)])
    # A vanishing lambda converges to it too.
    assert almgren_chriss_trajectory(_paper(lam=1e-14)).tolist() == pytest.approx(
        [X * (1 - k / N) for k in range(N + 1)], rel=1e-6
    )


def test_linear_schedule_has_the_minimum_expected_cost():
    linear_cost = trajectory_cost(_paper(), [X * (1 - k / N) for k in range(N + 1)])[0]
    for lam in (1e-8, 1e-7, 1e-6, 1e-5):
        params = _paper(lam)
        assert trajectory_cost(params, almgren_chriss_trajectory(params))[0] > linear_cost


def test_larger_lambda_front_loads():
    low, high = almgren_chriss_trajectory(_paper(1e-7)), almgren_chriss_trajectory(_paper(1e-5))
    assert all(high[k] < low[k] for k in range(1, N))
    for lam in (1e-7, 1e-6, 1e-5):
        holdings = almgren_chriss_trajectory(_paper(lam))
        trades = -np.diff(holdings)
        assert np.all(np.diff(holdings) < 0)  # always selling
        assert np.all(np.diff(trades) < 0)  # and selling less each period


def test_extreme_risk_aversion_does_not_overflow():
    # kappa = acosh(1 + 0.9025 / 4.75e-6) = 12.85 a day over 500 days: sinh(kappa T) overflows.
    params = ACParams(X=X, T=500.0, N=500, sigma=SIGMA, eta=ETA, gamma=GAMMA, epsilon=EPSILON, lam=1.0)
    kappa = math.acosh(1 + 0.9025 / (2 * ETA_TILDE))
    assert params.kappa * params.T > 710  # math.sinh would raise OverflowError here
    holdings = almgren_chriss_trajectory(params)
    assert np.all(np.isfinite(holdings)) and np.all(np.diff(holdings) <= 0)
    assert holdings[0] == X and holdings[-1] == 0.0
    assert holdings[1] == pytest.approx(X * math.exp(-kappa), rel=1e-9)


def test_efficient_frontier_is_decreasing_in_variance_and_convex():
    lambdas = np.logspace(-8, -4, 25)
    frontier = efficient_frontier(_paper(), lambdas)
    assert [point.lam for point in frontier] == pytest.approx(list(lambdas))
    expected = np.array([point.expected for point in frontier])
    variance = np.array([point.variance for point in frontier])
    assert np.all(np.diff(expected) > 0)  # more risk aversion costs more on average
    assert np.all(np.diff(variance) < 0)  # and buys less variance
    # Convex as E(V): slopes dE/dV (negative) flatten as V grows. In V-ascending order:
    v_up, e_up = variance[::-1], expected[::-1]
    slopes = np.diff(e_up) / np.diff(v_up)
    assert np.all(np.diff(slopes) > 0)
    # Along the frontier the slope is -lambda (envelope theorem): check at lambda = 1e-6.
    at = efficient_frontier(_paper(), [1e-6 * 0.999, 1e-6 * 1.001])
    slope = (at[1].expected - at[0].expected) / (at[1].variance - at[0].variance)
    assert slope == pytest.approx(-1e-6, rel=1e-3)


def test_trajectory_cost_validates_its_input():
    params = _paper()
    with pytest.raises(ValueError):
        trajectory_cost(params, [X, 0.0])  # wrong length
    with pytest.raises(ValueError):
        trajectory_cost(params, [X, 800_000, 600_000, 400_000, 200_000, 100_000])  # not liquidated


def test_params_reject_a_non_convex_problem():
    with pytest.raises(ValueError):
        ACParams(X=X, T=T, N=N, sigma=SIGMA, eta=1e-7, gamma=GAMMA, epsilon=EPSILON, lam=1e-6)
    with pytest.raises(ValueError):
        ACParams(X=X, T=T, N=0, sigma=SIGMA, eta=ETA, gamma=GAMMA, epsilon=EPSILON, lam=1e-6)
