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
COVERAGE_PLACES = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class SessionFigures:
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    avg_spread_bps: Decimal | None
    bucket_volumes: list[Decimal]
    coverage: Decimal = Decimal(1)  # share of the session the data covers, 0..1


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
    # Offsets of the first and last trade or quote seen, and of the open and close prints:
    # trades may come in any order, the open is the earliest and the close the latest.
    first_offset: float | None = None
    last_offset: float | None = None
    open_offset: float | None = None
    close_offset: float | None = None

    def __post_init__(self) -> None:
        if self.buckets < 1 or not self.session_seconds > 0:
            raise ValueError("buckets and session_seconds must be positive")
        self.bucket_volumes = [Decimal(0)] * self.buckets

    def trade(self, offset_seconds: float, price: Decimal, size: Decimal) -> None:
        if size < 0 or not price > 0:
            raise ValueError("a trade needs a positive price and a non-negative size")
        self.seen(offset_seconds)
        if self.open_offset is None or offset_seconds < self.open_offset:
            self.open, self.open_offset = price, offset_seconds
        if self.close_offset is None or offset_seconds >= self.close_offset:
            self.close, self.close_offset = price, offset_seconds
        self.high = price if self.high is None else max(self.high, price)
        self.low = price if self.low is None else min(self.low, price)
        self.volume += size
        bucket = int(offset_seconds * self.buckets // self.session_seconds)
        self.bucket_volumes[min(max(bucket, 0), self.buckets - 1)] += size

    def seen(self, offset: float) -> None:
        self.first_offset = offset if self.first_offset is None else min(self.first_offset, offset)
        self.last_offset = offset if self.last_offset is None else max(self.last_offset, offset)

    def coverage(self) -> Decimal:
        """Share of the session between the first and the last record, both clipped to the
        session: 1 for a full day's recording, 0.002 for 49 seconds of a 6.5-hour day."""
        if self.first_offset is None:
            return Decimal(0)
        start, end = max(self.first_offset, 0.0), min(self.last_offset, self.session_seconds)
        share = max(0.0, end - start) / self.session_seconds
        return min(Decimal(1), Decimal(repr(share)).quantize(COVERAGE_PLACES))

    def quote(self, bid: Decimal, ask: Decimal, offset_seconds: float | None = None) -> None:
        """One consolidated top-of-book sample; crossed or locked books carry no spread."""
        if offset_seconds is not None:
            self.seen(offset_seconds)
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
            return SessionFigures(mid, mid, mid, mid, Decimal(0), spread, list(self.bucket_volumes), self._coverage())
        return SessionFigures(
            self.open, self.high, self.low, self.close, self.volume, spread, list(self.bucket_volumes), self._coverage()
        )

    def _coverage(self) -> Decimal:
        # Without timed records (the simulator's samples give offsets too) a session is whole.
        return Decimal(1) if self.first_offset is None else self.coverage()


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


# ----------------------------------------------------------------------------- which sessions count
#
# The rule, per figure (ADV, volatility, spread, volume profile), over the last `limit`
# sessions of the chosen kind (those that can serve it):
#   1. Recorded sessions (an imported file or a live feed) win: when they can support the
#      figure, simulated sessions are not used for it at all, however recent they are.
#      Otherwise the simulated sessions are used; otherwise the figure keeps its value.
#   2. Partial sessions, by coverage c (the share of the trading day the data spans):
#      c >= FULL_COVERAGE          a full session, used as it is;
#      MIN_COVERAGE <= c < FULL    ADV uses volume / c (a time-proportional day); it counts
#                                  for volatility; it is left out of the volume profile;
#      c < MIN_COVERAGE            left out of ADV, volatility and profile.
#      The spread is a mean per quote, so any session with quotes serves it.
#   3. Volatility needs three sessions (two returns); the others one.

FULL_COVERAGE = Decimal("0.98")
MIN_COVERAGE = Decimal("0.25")
FIGURES = ("adv", "volatility", "spread", "profile")
_NEEDED = {"adv": 1, "volatility": 3, "spread": 1, "profile": 1}


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A stored session as plain data: its day, whether it is simulated, its figures."""

    day: object  # datetime.date
    simulated: bool
    figures: SessionFigures


def serves(figure: str, record: SessionRecord) -> bool:
    f = record.figures
    if figure == "spread":
        return f.avg_spread_bps is not None
    if figure == "profile":
        return f.coverage >= FULL_COVERAGE and f.volume > 0 and bool(f.bucket_volumes)
    return f.coverage >= MIN_COVERAGE


def adv_volume(figures: SessionFigures) -> Decimal:
    """A session's volume as a full day's: scaled up by its coverage when partial."""
    if figures.coverage >= FULL_COVERAGE:
        return figures.volume
    return figures.volume / figures.coverage


@dataclass(frozen=True, slots=True)
class FigureBasis:
    source: str  # "recorded", "simulated" or "none"
    days: tuple  # the session days used, oldest first
    scaled: tuple = ()  # days whose volume was scaled up (ADV only)


def choose_sessions(records: list[SessionRecord], limit: int) -> dict[str, FigureBasis]:
    """Which sessions each figure uses; `records` newest first."""
    groups = (("recorded", [r for r in records if not r.simulated]), ("simulated", [r for r in records if r.simulated]))
    basis = {}
    for figure in FIGURES:
        basis[figure] = FigureBasis("none", ())
        for source, group in groups:
            chosen = [r for r in group[:limit] if serves(figure, r)]
            if len(chosen) >= _NEEDED[figure]:
                chosen.reverse()
                scaled = tuple(r.day for r in chosen if r.figures.coverage < FULL_COVERAGE) if figure == "adv" else ()
                basis[figure] = FigureBasis(source, tuple(r.day for r in chosen), scaled)
                break
    return basis


def analytics_by_rule(records: list[SessionRecord], limit: int) -> tuple[InstrumentAnalytics, dict[str, FigureBasis]]:
    """The instrument's analytics under the rule above; figures without a basis are None
    (ADV: None too, the caller keeps the old value)."""
    basis = choose_sessions(records, limit)
    by_day = {}
    for record in records:
        by_day.setdefault((record.simulated, record.day), record.figures)

    def figures(figure: str) -> list[SessionFigures]:
        b = basis[figure]
        return [by_day[(b.source == "simulated", day)] for day in b.days]

    adv_rows = figures("adv")
    return (
        InstrumentAnalytics(
            sessions=len(set().union(*(set(b.days) for b in basis.values()))),
            adv=average_daily_volume([adv_volume(f) for f in adv_rows]) if adv_rows else None,
            daily_volatility=daily_volatility([f.close for f in figures("volatility")])
            if basis["volatility"].days
            else None,
            avg_spread_bps=average_spread([f.avg_spread_bps for f in figures("spread")]),
            volume_profile=volume_profile([f.bucket_volumes for f in figures("profile")]),
        ),
        basis,
    )
