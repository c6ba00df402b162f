"""Scheduled algorithms: TWAP, VWAP and IS release the parent in slices along a schedule;
one engine works every schedule the same way.

A schedule is a step function: at each release time another share of the parent becomes
due. Each tick the engine compares the filled quantity with it:
- behind (what was released more than `patience` ago is not filled): aggressive, cancel
  the resting children and take the shortfall on the lit venues;
- on schedule (something released is not filled yet): passive, rest it at or inside the
  touch;
- beside it, with a dark pool: one order per pool rests at the mid what is released and
  not resting lit plus the next slices (up to DARK_AHEAD_SHARE of the order ahead of the
  schedule, at least the next slice). A dark fill pays neither the touch nor the
  adverse selection a resting lit order meets (it fills when the market comes through
  its price), so every share the dark pool fills ahead of time is one the lit book need
  not; the contra flow of a pool is limited, so the cushion rests all the time, not only
  once the released slices are done.
After the schedule's end everything is due; at `end` the remainder is cancelled.

Schedules start at `memory["phase_start"]` (the start, or the tick a re-evaluation
switched to this strategy) and cover what was unfilled then (`memory["phase_filled"]`).

Parameters: horizon_seconds (default: until `end`), slices (default one per
slice_seconds, 300 s), patience (share of a slice to wait before taking, at most 1; default
0.5, a whole slice at LOW urgency),
TWAP size_jitter and time_jitter (default 0.2 and 0.3), IS front_loading (kappa*T) or
half_life_seconds (else set by urgency), dark_fraction (0 turns the dark step off).
"""

from __future__ import annotations

import math
import zlib
from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from core.vocabulary import Urgency
from sor.domain.almgren_chriss import ACParams, almgren_chriss_trajectory

from .base import Action, ChildType, ExecutionState, MarketView, Remember
from .common import (
    ZERO,
    cancel_all,
    dark_allowed,
    finish,
    guard,
    horizon_end,
    live_children,
    open_of,
    parameter,
    rest_dark,
    rest_lit,
    stale_passive,
    sweep,
    whole_lots,
)

DEFAULT_SLICE_SECONDS = 300.0
MIN_SLICE_SECONDS = 5.0
MIN_SLICES = 5
DEFAULT_PATIENCE = 0.5
# A patient order lets a slice run a whole slice late before it takes: taking is what costs
# here, the half-spread and more the permanent impact it leaves on every later fill (taking
# 0.3% of ADV on the liquid stock of bench/execution_quality.py moves its mid 3 bps, ten
# times what its resting fills cost), while the tracking error of a slice late on a
# patient order's day is small.
PATIENCE_BY_URGENCY = {Urgency.LOW: 1.0, Urgency.MEDIUM: DEFAULT_PATIENCE, Urgency.HIGH: DEFAULT_PATIENCE}
# How far ahead of its schedule an order may rest in the dark pools, as a share of it: a
# fill there is at the mid, without the touch a resting lit fill pays when the market comes
# through it, so being a little ahead of the schedule is cheap; being far ahead is not a
# schedule any more.
DARK_AHEAD_SHARE = 0.1
# IS: urgency as risk aversion, through the unit-free urgency kappa*T of Almgren-Chriss.
URGENCY_FRONT_LOADING = {Urgency.LOW: 0.5, Urgency.MEDIUM: 2.0, Urgency.HIGH: 5.0}


@dataclass(frozen=True, slots=True)
class Schedule:
    """Release times and the cumulative share of the phase quantity due after each."""

    times: tuple[float, ...]
    cumulative: tuple[float, ...]
    end: float
    patience: float

    def share(self, t: float) -> float:
        if t >= self.end:
            return 1.0
        k = bisect_right(self.times, t)
        return 0.0 if k == 0 else self.cumulative[k - 1]

    def next_share(self, t: float) -> float:
        """The share due after the next release (for resting ahead of time)."""
        k = bisect_right(self.times, t)
        return 1.0 if k >= len(self.cumulative) else self.cumulative[k]

    def ahead_share(self, t: float, limit: float) -> float:
        """The share due after the next releases that stay within `limit` of what is due
        now, at least the next one (for resting ahead of time in the dark)."""
        k = bisect_right(self.times, t)
        if k >= len(self.cumulative):
            return 1.0
        now = 0.0 if k == 0 else self.cumulative[k - 1]
        while k + 1 < len(self.cumulative) and self.cumulative[k + 1] - now <= limit:
            k += 1
        return self.cumulative[k]


def phase(state: ExecutionState) -> tuple[float, Decimal]:
    origin = float(state.memory.get("phase_start", state.start))  # type: ignore[arg-type]
    base = Decimal(str(state.memory.get("phase_filled", "0")))
    return origin, base


def seed_of(state: ExecutionState) -> int:
    """The randomisation seed: the caller's, or the one remembered, or one derived from the
    order itself, so a retried tick decides the same."""
    for source in (state.memory, state.parameters):
        if source.get("seed") is not None:
            return int(source["seed"])  # type: ignore[arg-type]
    key = f"{state.side}|{state.quantity}|{state.start!r}|{state.end!r}|{state.strategy}"
    return zlib.crc32(key.encode())


def slice_count(state: ExecutionState, origin: float, end: float, quantity: Decimal) -> int:
    horizon = max(end - origin, 0.0)
    slices = state.parameters.get("slices")
    # A short horizon still gets MIN_SLICES slices (a 20 s TWAP in one slice is a single
    # order, not a schedule), as far as MIN_SLICE_SECONDS and the lots allow.
    n = (
        int(slices)
        if slices not in (None, "", 0)
        else max(math.ceil(horizon / parameter(state, "slice_seconds", DEFAULT_SLICE_SECONDS)), MIN_SLICES)
    )  # type: ignore[arg-type]
    lots = int(quantity / state.lot_size)
    return max(1, min(n, lots, int(horizon // MIN_SLICE_SECONDS) or 1))


def patience_of(state: ExecutionState) -> float:
    """Share of a slice to wait before taking: the caller's (at most one slice), else by urgency."""
    default = PATIENCE_BY_URGENCY.get(Urgency(state.urgency), DEFAULT_PATIENCE)
    return min(max(parameter(state, "patience", default), 0.0), 1.0)


def _schedule(origin: float, end: float, starts: np.ndarray, weights: np.ndarray, patience_share: float) -> Schedule:
    total = float(weights.sum())
    n = len(weights)
    weights = np.full(n, 1.0 / n) if total <= 0 else weights / total
    cumulative = np.cumsum(weights)
    cumulative[-1] = 1.0
    slice_seconds = (end - origin) / n
    return Schedule(
        tuple(float(t) for t in starts), tuple(float(c) for c in cumulative), end, patience_share * slice_seconds
    )


def twap_schedule(state: ExecutionState, market: MarketView) -> Schedule:
    """Equal slices in time, each size and release randomised within bounds (seeded)."""
    origin, base = phase(state)
    end = horizon_end(state, origin)
    n = slice_count(state, origin, end, state.quantity - base)
    rng = np.random.default_rng(seed_of(state))
    size_jitter = min(max(parameter(state, "size_jitter", 0.2), 0.0), 0.9)
    time_jitter = min(max(parameter(state, "time_jitter", 0.3), 0.0), 0.45)
    weights = 1.0 + size_jitter * (2.0 * rng.random(n) - 1.0)
    width = (end - origin) / n
    starts = origin + width * (np.arange(n) + time_jitter * rng.random(n))
    return _schedule(origin, end, starts, weights, patience_of(state))


def _session_volume_share(market: MarketView, t: float) -> float:
    """Sessions of volume traded by time t on the caller's clock, from the bucketed profile."""
    profile = np.asarray(market.volume_profile, dtype=float)
    session = market.session_seconds
    x = (t - market.session_start) / session
    day = math.floor(x)
    fraction = x - day
    total = float(profile.sum()) or 1.0
    cumulative = np.concatenate(([0.0], np.cumsum(profile) / total))
    position = fraction * len(profile)
    k = min(int(position), len(profile) - 1)
    return day + float(cumulative[k] + (position - k) * (cumulative[k + 1] - cumulative[k]))


def _session_volume_shares(market: MarketView, times: np.ndarray) -> np.ndarray:
    """`_session_volume_share` at each of `times`, element-wise with the same arithmetic (a
    long horizon has hundreds of slice edges, and every tick builds its schedule)."""
    profile = np.asarray(market.volume_profile, dtype=float)
    total = float(profile.sum()) or 1.0
    cumulative = np.concatenate(([0.0], np.cumsum(profile) / total))
    x = (np.asarray(times, dtype=float) - market.session_start) / market.session_seconds
    day = np.floor(x)
    position = (x - day) * len(profile)
    k = np.minimum(position.astype(int), len(profile) - 1)
    return day + (cumulative[k] + (position - k) * (cumulative[k + 1] - cumulative[k]))


def vwap_schedule(state: ExecutionState, market: MarketView) -> Schedule:
    """Equal time slices sized by the instrument's intraday volume profile."""
    origin, base = phase(state)
    end = horizon_end(state, origin)
    n = slice_count(state, origin, end, state.quantity - base)
    edges = np.linspace(origin, end, n + 1)
    if market.volume_profile:
        shares = _session_volume_shares(market, edges)
        weights = np.maximum(np.diff(shares), 0.0)
    else:
        weights = np.ones(n)
    return _schedule(origin, end, edges[:-1], weights, patience_of(state))


def front_loading(state: ExecutionState, origin: float, end: float) -> float:
    """kappa*T: the trader's, else from the router's half-life, else by urgency."""
    if state.parameters.get("front_loading") not in (None, ""):
        return max(parameter(state, "front_loading", 0.0), 0.0)
    half_life = state.parameters.get("half_life_seconds")
    if half_life not in (None, "", 0):
        return max(end - origin, 0.0) / float(half_life)  # type: ignore[arg-type]
    return URGENCY_FRONT_LOADING[Urgency(state.urgency)]


def is_schedule(state: ExecutionState, market: MarketView) -> Schedule:
    """Almgren-Chriss holdings x_k: slice k trades x_{k-1} - x_k. Unit-free (X = T = sigma =
    eta = 1): the risk aversion lambda is chosen so that kappa*T is the front loading,
    lambda = 2 eta (cosh(kappa tau) - 1) / (tau sigma)^2, which grows with urgency."""
    origin, base = phase(state)
    end = horizon_end(state, origin)
    n = slice_count(state, origin, end, state.quantity - base)
    kappa_t = min(front_loading(state, origin, end), 50.0)
    tau = 1.0 / n
    lam = 2.0 * (math.cosh(kappa_t * tau) - 1.0) / tau**2
    holdings = almgren_chriss_trajectory(
        ACParams(X=1.0, T=1.0, N=n, sigma=1.0, eta=1.0, gamma=0.0, epsilon=0.0, lam=lam)
    )
    weights = np.maximum(holdings[:-1] - holdings[1:], 0.0)
    starts = np.linspace(origin, end, n + 1)[:-1]
    return _schedule(origin, end, starts, weights, patience_of(state))


SCHEDULES = {"TWAP": twap_schedule, "VWAP": vwap_schedule, "IS": is_schedule}


def schedule_of(state: ExecutionState, market: MarketView) -> Schedule:
    return SCHEDULES[str(state.strategy)](state, market)


def due(state: ExecutionState, base: Decimal, share: float) -> Decimal:
    """Quantity (whole lots, the last share exact) due at a schedule share."""
    if share >= 1.0:
        return state.quantity
    return min(base + whole_lots((state.quantity - base) * Decimal(repr(share)), state.lot_size), state.quantity)


def schedule_progress(state: ExecutionState, market: MarketView, now: float) -> float:
    """The filled fraction the schedule expected by now (for the router's re-evaluation)."""
    _, base = phase(state)
    plan = schedule_of(state, market)
    return float(due(state, base, plan.share(now - plan.patience)) / state.quantity)


def work(state: ExecutionState, market: MarketView, now: float, schedule: Schedule) -> list[Action]:
    ending = finish(state, now)
    if ending is not None:
        return guard(state, ending)
    _, base = phase(state)
    name = str(state.strategy).lower()
    actions: list[Action] = []
    if "seed" not in state.memory and str(state.strategy) == "TWAP":
        actions.append(Remember({"seed": seed_of(state)}))
    passive = live_children(state, ChildType.LIMIT, ChildType.DARK)
    required = due(state, base, schedule.share(now - schedule.patience))
    released = due(state, base, schedule.share(now))
    taking = open_of(state, ChildType.MARKET)

    if required - state.filled >= state.lot_size:
        behind = required - state.filled - taking
        actions += cancel_all(passive, f"{name}: behind schedule")
        actions += sweep(state, market, behind, f"{name}: behind schedule, take {behind}")
        return guard(state, actions)

    actions += cancel_all(stale_passive(state, market, now), f"{name}: touch moved away")
    use_dark = parameter(state, "dark_fraction", 1.0) > 0 and dark_allowed(state, market)
    lit_open = open_of(state, ChildType.LIMIT, ChildType.MARKET)
    darks = live_children(state, ChildType.DARK)
    new_lit = ZERO
    if released - state.filled >= state.lot_size:
        working = released - state.filled - lit_open
        if darks and whole_lots(working, state.lot_size) > state.unallocated:
            # The dark pools hold what is due on the lit book now: free it, rest the rest lit.
            return guard(
                state,
                [
                    *actions,
                    *cancel_all(darks, f"{name}: slice due, rest it lit"),
                    *rest_lit(state, market, working, f"{name}: on schedule, rest at the touch"),
                ],
            )
        children = rest_lit(state, market, working, f"{name}: on schedule, rest at the touch")
        actions += children
        new_lit = sum((c.quantity for c in children), ZERO)
    if not use_dark:
        actions += cancel_all(darks, f"{name}: no dark pool, or the mid too close to the limit")
        return guard(state, actions)
    # The dark pools hold, as one order per pool, what is released and not resting lit and
    # the next slices ahead of time (up to DARK_AHEAD_SHARE of the order, at least one
    # slice); resized (cancelled and sent again whole on a later tick) when that moves by
    # more than a quarter or is too much.
    upcoming = due(state, base, schedule.ahead_share(now, DARK_AHEAD_SHARE))
    wanted = whole_lots(upcoming - state.filled - lit_open - new_lit, state.lot_size)
    actions += dark_cushion(state, market, wanted, f"{name}: released and next slice rest dark")
    return guard(state, actions)


def dark_cushion(state: ExecutionState, market: MarketView, wanted: Decimal, reason: str) -> list[Action]:
    """Keep `wanted` resting in the dark pools as one order per pool: sent when none rests,
    cancelled (to be sent again whole on a later tick) when what rests is a lot too much or
    more than a quarter too little. One order, not one per increment: a pool's contra flow
    is the market's, not ours to multiply by splitting."""
    darks = live_children(state, ChildType.DARK)
    resting = sum((c.open_quantity for c in darks), ZERO)
    pending = open_of(state, ChildType.DARK) - resting
    lot = state.lot_size
    if not darks:
        if pending > 0 or wanted < lot:
            return []
        return list(rest_dark(state, market, wanted, reason))
    if resting - wanted >= lot or wanted - resting >= max(lot, wanted / 4):
        return cancel_all(darks, f"{str(state.strategy).lower()}: resize the dark order")
    return []


def decide_twap(state: ExecutionState, market: MarketView, now: float) -> list[Action]:
    return work(state, market, now, twap_schedule(state, market))


def decide_vwap(state: ExecutionState, market: MarketView, now: float) -> list[Action]:
    return work(state, market, now, vwap_schedule(state, market))


def decide_is(state: ExecutionState, market: MarketView, now: float) -> list[Action]:
    return work(state, market, now, is_schedule(state, market))
