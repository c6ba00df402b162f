"""Clocks measure seconds since the (first) session open.

Tests and backtests use `VirtualClock`, moved by hand; the demo uses `WallClock`, which
follows the machine's monotonic clock, optionally sped up.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    def now(self) -> float: ...


class VirtualClock:
    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def advance(self, dt: float) -> float:
        if dt < 0:
            raise ValueError("a clock cannot go backwards")
        self._now += dt
        return self._now

    def __repr__(self) -> str:
        return f"VirtualClock(now={self._now})"


class WallClock:
    """`start` is the session time at construction; `speed` = virtual seconds per real second."""

    def __init__(self, speed: float = 1.0, start: float = 0.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = float(speed)
        self._start = float(start)
        self._origin = time.monotonic()

    def now(self) -> float:
        return self._start + (time.monotonic() - self._origin) * self.speed

    def __repr__(self) -> str:
        return f"WallClock(speed={self.speed}, now={self.now():.3f})"
