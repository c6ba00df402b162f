"""The market over time as TCA reads it: mids (and cumulative session volume where known)
at instants in epoch seconds, oldest first."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from decimal import Decimal

from core.vocabulary import Side

BPS = Decimal(10_000)


def side_sign(side: str) -> int:
    """+1 for a buy, -1 for a sell: every signed figure is `sign * (something - reference)`."""
    return 1 if side == Side.BUY else -1


def bps(amount: Decimal, base: Decimal) -> Decimal | None:
    return None if not base else (amount / base * BPS).quantize(Decimal("0.01"))


@dataclass(frozen=True, slots=True)
class MarketPoint:
    at: float  # epoch seconds
    mid: Decimal
    volume: Decimal | None = None  # the session's cumulative volume at `at`
    best_bid: Decimal | None = None
    best_ask: Decimal | None = None

    @property
    def half_spread(self) -> Decimal | None:
        if self.best_bid is None or self.best_ask is None or self.best_ask < self.best_bid:
            return None
        return (self.best_ask - self.best_bid) / 2


class PricePath:
    """Step function of the mid: the value at t is the last point at or before t. Before the
    first point there is no known mid (None), and after the last one neither, unless
    `extend` (the last mid holds) is asked for: a markout must not claim a future it has not
    seen."""

    def __init__(self, points: list[MarketPoint]):
        self.points = sorted(points, key=lambda p: p.at)
        self.times = [p.at for p in self.points]

    def __bool__(self) -> bool:
        return bool(self.points)

    @property
    def last_at(self) -> float | None:
        return self.times[-1] if self.times else None

    def point_at(self, t: float, *, extend: bool = True) -> MarketPoint | None:
        i = bisect.bisect_right(self.times, t) - 1
        if i < 0:
            return None
        if not extend and t > self.times[-1]:
            return None
        return self.points[i]

    def mid_at(self, t: float, *, extend: bool = True) -> Decimal | None:
        point = self.point_at(t, extend=extend)
        return None if point is None else point.mid

    def window(self, start: float, end: float) -> list[MarketPoint]:
        """The points in [start, end], led by the point in force at `start` (re-stamped at
        `start`) so a window always knows its opening mid."""
        lo, hi = bisect.bisect_left(self.times, start), bisect.bisect_right(self.times, end)
        inside = self.points[lo:hi]
        opening = self.point_at(start)
        if opening is not None and (not inside or inside[0].at > start):
            inside = [MarketPoint(start, opening.mid, opening.volume, opening.best_bid, opening.best_ask), *inside]
        return inside
