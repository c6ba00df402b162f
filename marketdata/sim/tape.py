"""What traded: per instrument the session's volume, the last trade and the sequence number
that grows whenever a snapshot of the instrument would change."""

from __future__ import annotations

import numpy as np


class Tape:
    def __init__(self, tick: np.ndarray) -> None:
        n = len(tick)
        self.tick = tick
        self.session = 0
        self.volume_lots = np.zeros(n)
        self.seq = np.zeros(n, dtype=np.int64)
        self.last_price = np.zeros(n)  # in price units; rounded when published
        self.last_size_lots = np.zeros(n)
        self.last_venue = np.full(n, -1)
        self.last_sign = np.zeros(n, dtype=np.int64)
        self.last_ts = np.zeros(n)

    def open_session(self, session: int) -> None:
        """The day's volume restarts at each session open."""
        if session != self.session:
            self.session = session
            self.volume_lots.fill(0.0)

    def record(
        self,
        row: int,
        lit: int,
        aggressor_sign: int,
        price_ticks: float,
        last_lots: float,
        total_lots: float,
        ts: float,
    ) -> None:
        """One of our trades (or the last of a sweep) printed on a lit venue."""
        self.volume_lots[row] += total_lots
        self.last_price[row] = price_ticks * self.tick[row]
        self.last_size_lots[row] = last_lots
        self.last_venue[row] = lit
        self.last_sign[row] = aggressor_sign
        self.last_ts[row] = ts
        self.seq[row] += 1

    def record_background(self, trade_lots: np.ndarray, last: tuple[np.ndarray, ...], ts: float) -> None:
        """A step's background trades: their volume, and the last print per instrument."""
        self.volume_lots += trade_lots.sum(axis=(1, 2))
        rows, ticks, size_lots, venues, signs = last
        self.last_price[rows] = ticks * self.tick[rows]
        self.last_size_lots[rows] = size_lots
        self.last_venue[rows] = venues
        self.last_sign[rows] = signs
        self.last_ts[rows] = ts
