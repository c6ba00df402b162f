"""Instrument analytics from per-session statistics, and the accumulator that turns a
session's trades and quotes into those statistics. Plain Python on `Decimal`, no Django:
`marketdata.services` converts rows to and from these values.

Over the last N sessions, oldest first (s = 1..N):

    ADV          = (volume_1 + ... + volume_N) / N
    volatility   = sample standard deviation (divisor n - 1) of the close-to-close log
                   returns r_s = ln(close_s / close_{s-1}), s = 2..N; it needs at least
                   two returns, so three sessions
    spread       = mean of the sessions' average spreads (sessions without two-sided
                   quotes are left out)
    profile_b    = mean_s(bucket_volume_sb) / sum_b(mean_s(bucket_volume_sb)), over the
                   sessions that have the most common number of buckets; rounded to
                   PROFILE_PLACES with the rounding residue put on the largest bucket, so
                   the profile sums to exactly 1

A session is cut into `buckets` equal time buckets from its open; a trade before the open
counts in the first bucket and one after the close in the last, so the buckets always
sum to the session's volume.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise

PROFILE_PLACES = Decimal("0.000001")
VOLATILITY_PLACES = Decimal("0.000001")
SPREAD_PLACES = Decimal("0.001")


@dataclass(frozen=True, slots=True)
class SessionFigures:
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    avg_spread_bps: Decimal | None
    bucket_volumes: list[Decimal]


@dataclass(frozen=True, slots=True)
class InstrumentAnalytics:
    sessions: int
    adv: Decimal
    daily_volatility: Decimal | None  # None: fewer than two returns
    avg_spread_bps: Decimal | None  # None: no session had quotes
    volume_profile: list[Decimal]  # empty: no session had volume


@dataclass(slots=True)
class SessionAccumulator:
    """Collects one instrument's session: trades (time since the open, price, size) and
    consolidated quote samples (best bid, best ask)."""

    session_seconds: float
    buckets: int
    open: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    close: Decimal | None = None
    volume: Decimal = Decimal(0)
    bucket_volumes: list[Decimal] = field(default_factory=list)
    spread_sum: Decimal = Decimal(0)
    spread_count: int = 0
    last_mid: Decimal | None = None

    def __post_init__(self) -> None:
        if self.buckets < 1 or not self.session_seconds > 0:
            raise ValueError("buckets and session_seconds must be positive")
        self.bucket_volumes = [Decimal(0)] * self.buckets

    def trade(self, offset_seconds: float, price: Decimal, size: Decimal) -> None:
        if size < 0 or not price > 0:
            raise ValueError("a trade needs a positive price and a non-negative size")
        self.open = price if self.open is None else self.open
        self.high = price if self.high is None else max(self.high, price)
        self.low = price if self.low is None else min(self.low, price)
        self.close = price
        self.volume += size
        bucket = int(offset_seconds * self.buckets // self.session_seconds)
        self.bucket_volumes[min(max(bucket, 0), self.buckets - 1)] += size

    def quote(self, bid: Decimal, ask: Decimal) -> None:
        """One consolidated top-of-book sample; crossed or locked books carry no spread."""
        if not (bid > 0 and ask > bid):
            return
        mid = (bid + ask) / 2
        self.spread_sum += (ask - bid) / mid * 10000
        self.spread_count += 1
        self.last_mid = mid

    def figures(self) -> SessionFigures | None:
        """The session's statistics; None when it saw neither a trade nor a quote. A
        session with quotes only is priced at its last mid, with no volume."""
        spread = (self.spread_sum / self.spread_count).quantize(SPREAD_PLACES) if self.spread_count else None
        if self.close is None:
            if self.last_mid is None:
                return None
            mid = self.last_mid
            return SessionFigures(mid, mid, mid, mid, Decimal(0), spread, list(self.bucket_volumes))
        return SessionFigures(
            self.open, self.high, self.low, self.close, self.volume, spread, list(self.bucket_volumes)
        )


def average_daily_volume(volumes: list[Decimal]) -> Decimal:
    if not volumes:
        raise ValueError("no sessions")
    return sum(volumes, Decimal(0)) / len(volumes)


def daily_volatility(closes: list[Decimal]) -> Decimal | None:
    """Sample standard deviation of close-to-close log returns, or None below two returns."""
    if any(not close > 0 for close in closes):
        raise ValueError("closes must be positive")
    returns = [(later / earlier).ln() for earlier, later in pairwise(closes)]
    if len(returns) < 2:
        return None
    mean = sum(returns, Decimal(0)) / len(returns)
    variance = sum(((r - mean) ** 2 for r in returns), Decimal(0)) / (len(returns) - 1)
    return variance.sqrt().quantize(VOLATILITY_PLACES)


def average_spread(spreads: list[Decimal | None]) -> Decimal | None:
    known = [s for s in spreads if s is not None]
    if not known:
        return None
    return (sum(known, Decimal(0)) / len(known)).quantize(SPREAD_PLACES)


def volume_profile(sessions_buckets: list[list[Decimal]]) -> list[Decimal]:
    """Normalised mean bucket volume; empty when there is no volume to spread."""
    shapes = Counter(len(b) for b in sessions_buckets if b)
    if not shapes:
        return []
    # Ties go to the longer profile: the finer one is the more informative.
    width = max(shapes, key=lambda n: (shapes[n], n))
    rows = [b for b in sessions_buckets if len(b) == width]
    means = [sum(column, Decimal(0)) / len(rows) for column in zip(*rows, strict=True)]
    total = sum(means, Decimal(0))
    if total <= 0:
        return []
    profile = [(m / total).quantize(PROFILE_PLACES) for m in means]
    largest = max(range(width), key=lambda b: profile[b])
    profile[largest] += Decimal(1) - sum(profile, Decimal(0))
    return profile


def instrument_analytics(sessions: list[SessionFigures]) -> InstrumentAnalytics:
    """The analytics of an instrument from its sessions, oldest first."""
    if not sessions:
        raise ValueError("no sessions")
    return InstrumentAnalytics(
        sessions=len(sessions),
        adv=average_daily_volume([s.volume for s in sessions]),
        daily_volatility=daily_volatility([s.close for s in sessions]),
        avg_spread_bps=average_spread([s.avg_spread_bps for s in sessions]),
        volume_profile=volume_profile([s.bucket_volumes for s in sessions]),
    )
