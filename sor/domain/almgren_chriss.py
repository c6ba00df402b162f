"""Almgren-Chriss optimal execution with linear impact (Almgren & Chriss 2000,
"Optimal execution of portfolio transactions", sections 1-2).

Selling X over T in N periods of tau = T/N; x_k is the holding at t_k = k*tau
(x_0 = X, x_N = 0) and n_k = x_{k-1} - x_k the quantity traded in period k.
Permanent impact g(v) = gamma*v, temporary impact h(v) = epsilon*sign(v) + eta*v.

    expected cost E = 1/2 gamma X^2 + epsilon sum|n_k| + (eta_tilde/tau) sum n_k^2
    variance      V = sigma^2 tau sum_{k=1..N} x_k^2
    eta_tilde       = eta - gamma*tau/2
    optimal x_k     = sinh(kappa (T - t_k)) / sinh(kappa T) * X,
                      cosh(kappa tau) = 1 + tau^2 lambda sigma^2 / (2 eta_tilde)

minimises E + lambda V. Drift (the paper's alpha) is taken as zero. Units are the caller's:
with the paper's example sigma is $/share/day^0.5, T in days, costs in $.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True, slots=True)
class ACParams:
    """Model inputs, named as in the paper (hence the capitals)."""

    X: float  # shares to sell (a buy program is symmetric)
    T: float  # horizon
    N: int  # number of periods
    sigma: float  # price volatility per sqrt(unit of T), in currency per share
    eta: float  # temporary impact per (share per unit time)
    gamma: float  # permanent impact per share
    epsilon: float  # fixed cost per share: half-spread plus fees
    lam: float  # risk aversion lambda, per currency

    def __post_init__(self) -> None:
        if self.N < 1 or self.T <= 0:
            raise ValueError("N must be >= 1 and T > 0")
        if self.sigma < 0 or self.gamma < 0 or self.epsilon < 0 or self.lam < 0:
            raise ValueError("sigma, gamma, epsilon and lam must be >= 0")
        if self.eta_tilde <= 0:
            # Without it the problem is not convex and the closed form does not apply.
            raise ValueError("eta - gamma*tau/2 must be > 0")

    @property
    def tau(self) -> float:
        return self.T / self.N

    @property
    def eta_tilde(self) -> float:
        return self.eta - self.gamma * self.tau / 2

    @property
    def kappa(self) -> float:
        """Urgency, per unit of T: acosh(1 + tau^2 lambda sigma^2 / (2 eta_tilde))."""
        y = self.tau**2 * self.lam * self.sigma**2 / (2 * self.eta_tilde)
        # acosh(1 + y) written to stay accurate for tiny y (small lambda).
        return math.log1p(y + math.sqrt(y * (2 + y))) / self.tau

    @property
    def half_life(self) -> float:
        """Time for the optimal holding to decay by e (paper section 2.3): 1 / kappa."""
        kappa = self.kappa
        return math.inf if kappa == 0 else 1 / kappa


@dataclass(frozen=True, slots=True)
class FrontierPoint:
    lam: float
    expected: float
    variance: float


def almgren_chriss_trajectory(params: ACParams) -> np.ndarray:
    """Optimal holdings x_0..x_N (N+1 values, x_0 = X, x_N = 0)."""
    times = np.arange(params.N + 1, dtype=float) * params.tau
    kappa = params.kappa
    if kappa == 0.0:  # lambda = 0: the minimum-expected-cost linear schedule
        fraction = (params.T - times) / params.T
    else:
        # sinh(a)/sinh(b) = e^(a-b) (1 - e^-2a) / (1 - e^-2b): no overflow for large kappa*T
        # and, through expm1, no cancellation for small kappa*T.
        remaining = kappa * (params.T - times)
        fraction = np.exp(-kappa * times) * np.expm1(-2 * remaining) / math.expm1(-2 * kappa * params.T)
    holdings = fraction * params.X
    holdings[0], holdings[-1] = params.X, 0.0  # exact end points, free of rounding
    return holdings


def trajectory_cost(params: ACParams, holdings: np.ndarray | Iterable[float]) -> tuple[float, float]:
    """(expected cost E, variance V) of any full-liquidation trajectory x_0..x_N."""
    x = np.asarray(holdings, dtype=float)
    if x.shape != (params.N + 1,):
        raise ValueError(f"expected {params.N + 1} holdings, got shape {x.shape}")
    if abs(x[-1]) > 1e-9 * max(1.0, abs(x[0])):
        # The closed form of E assumes the position is fully liquidated.
        raise ValueError("trajectory must end at 0")
    trades = x[:-1] - x[1:]
    start = float(x[0])
    expected = (
        0.5 * params.gamma * start**2
        + params.epsilon * float(np.abs(trades).sum())
        + params.eta_tilde / params.tau * float(np.dot(trades, trades))
    )
    variance = params.sigma**2 * params.tau * float(np.dot(x[1:], x[1:]))
    return expected, variance


def efficient_frontier(params: ACParams, lambdas: Iterable[float]) -> list[FrontierPoint]:
    """(E, V) of the optimal trajectory for each risk aversion, in the order given."""
    points = []
    for lam in lambdas:
        at_lam = replace(params, lam=float(lam))
        expected, variance = trajectory_cost(at_lam, almgren_chriss_trajectory(at_lam))
        points.append(FrontierPoint(lam=float(lam), expected=expected, variance=variance))
    return points
