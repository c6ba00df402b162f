"""Interval benchmarks of the market over an execution: TWAP (time-weighted mid), VWAP
(volume-weighted mid: each sample interval's volume at the mid in force during it; the
sampled history has no trade prices, and the difference is a fraction of the spread), the
market's volume, and slippage of an average price against any of them."""

from __future__ import annotations

from decimal import Decimal

from tca.domain.path import PricePath, bps, side_sign


def interval_twap(path: PricePath, start: float, end: float) -> Decimal | None:
    points = path.window(start, end)
    if not points:
        return None
    if end <= start:
        return points[0].mid
    total = Decimal(0)
    for here, following in zip(points, [*points[1:], None], strict=True):
        until = end if following is None else following.at
        total += here.mid * Decimal(str(until - here.at))
    return total / Decimal(str(end - start))


def interval_vwap(path: PricePath, start: float, end: float) -> Decimal | None:
    points = [p for p in path.window(start, end) if p.volume is not None]
    weighted, volume = Decimal(0), Decimal(0)
    for before, after in zip(points, points[1:], strict=False):
        traded = after.volume - before.volume
        if traded > 0:  # a session reset (volume back to zero) is no trading
            weighted += before.mid * traded
            volume += traded
    return weighted / volume if volume else None


def market_volume(path: PricePath, start: float, end: float) -> Decimal | None:
    points = [p for p in path.window(start, end) if p.volume is not None]
    if len(points) < 2:
        return None
    return sum((max(b.volume - a.volume, Decimal(0)) for a, b in zip(points, points[1:], strict=False)), Decimal(0))


def slippage_bps(side: str, average_price: Decimal | None, benchmark: Decimal | None) -> Decimal | None:
    """The average price against a benchmark, positive = a cost (bought above, sold below)."""
    if average_price is None or not benchmark:
        return None
    return bps(side_sign(side) * (average_price - benchmark), benchmark)
