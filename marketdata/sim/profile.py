"""The U-shaped intraday volume profile.

Density over the session fraction x in [0, 1]:

    f(x) = (1 + u * (2x - 1)^2) / (1 + u / 3)        integrates to 1 over [0, 1]

and its integral, used so each step gets exactly its share of the day whatever the
step size:

    F(x) = (x + u * ((2x - 1)^3 + 1) / 6) / (1 + u / 3)     F(0) = 0, F(1) = 1
"""

from __future__ import annotations

import math

import numpy as np


def session_fraction_cumulative(x: np.ndarray | float, u_shape: float) -> np.ndarray | float:
    """F(x): share of a session's volume traded by session fraction x."""
    centred = 2.0 * np.asarray(x, dtype=float) - 1.0
    value = (np.asarray(x, dtype=float) + u_shape * (centred**3 + 1.0) / 6.0) / (1.0 + u_shape / 3.0)
    return value if value.ndim else float(value)


def cumulative_volume_share(t: float, session_seconds: float, u_shape: float) -> float:
    """Sessions of volume traded by time t (whole sessions plus F of the current one)."""
    day = math.floor(t / session_seconds)
    x = (t - day * session_seconds) / session_seconds
    # Plain floats: this runs twice per simulation step, where numpy scalars cost more.
    centred = 2.0 * x - 1.0
    return day + (x + u_shape * (centred**3 + 1.0) / 6.0) / (1.0 + u_shape / 3.0)


def volume_profile(buckets: int, u_shape: float) -> np.ndarray:
    """Share of the session's volume in each of `buckets` equal time buckets (sums to 1)."""
    if buckets < 1:
        raise ValueError("buckets must be >= 1")
    edges = np.linspace(0.0, 1.0, buckets + 1)
    return np.diff(session_fraction_cumulative(edges, u_shape))
