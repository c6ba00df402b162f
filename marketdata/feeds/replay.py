"""Replays recorded quotes and trades from CSV files as a feed.

Files (UTF-8, comma separated, a header row; column order is free, extra columns ignored):

quotes CSV: ts, symbol, venue, bid_price, bid_size, ask_price, ask_size[, level]
    One row sets one price level of one venue's book, both sides at once. `level` is the
    0-based depth (0 = best; default 0 when the column is absent or empty). An empty
    price or a size of 0 removes that side's level. Snapshot ladders list a venue's
    levels in `level` order.
trades CSV: ts, symbol, venue, price, size[, side]
    `side` is the aggressor: BUY/B or SELL/S, empty or absent when unknown.

`ts` is either seconds (a number) or an ISO-8601 timestamp ("2024-03-01T14:30:00Z";
without an offset it is taken as UTC); all rows of both files use the same kind.
Replay time = ts - start, in seconds, compared with the clock's now(). `start` defaults
to 0 for seconds and to the earliest timestamp of the files for ISO-8601, so a
VirtualClock at 0 sits at the first record.

Rows are applied in timestamp order; at equal timestamps quotes come before trades and
each file keeps its row order. Snapshot fields: `ts` is the replay time of the last row
applied to the symbol, `seq` counts those rows, `mid` is the midpoint of the best bid
(highest over venues) and best ask (lowest), else the last trade price, else NaN;
`volume` sums trade sizes since the start (ISO-8601 data: since 00:00 UTC of the
trade's day).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from marketdata.sim.clock import Clock
from marketdata.sim.events import Snapshot, Trade, VenueBook

QUOTE_COLUMNS = ("ts", "symbol", "venue", "bid_price", "bid_size", "ask_price", "ask_size")
TRADE_COLUMNS = ("ts", "symbol", "venue", "price", "size")
_Ladder = dict[int, tuple[float, float]]  # level -> (price, size)
_SIDES = {"BUY": "BUY", "B": "BUY", "SELL": "SELL", "S": "SELL", "": None}


@dataclass(slots=True)
class _Record:
    time: float  # raw: seconds, or epoch seconds for ISO-8601
    day: int | None  # UTC day of ISO-8601 rows, for the daily volume
    symbol: str
    venue: str
    quote: tuple[int, tuple[float, float] | None, tuple[float, float] | None] | None = None
    trade: Trade | None = None


@dataclass(slots=True)
class _SymbolState:
    books: dict[str, tuple[_Ladder, _Ladder]] = field(default_factory=dict)  # venue -> (bids, asks)
    last_trade: Trade | None = None
    volume: float = 0.0
    volume_day: int | None = None
    seq: int = 0
    ts: float = 0.0


def _parse_time(text: str) -> tuple[float, bool]:
    """(value, is_iso): seconds as given, or epoch seconds of an ISO-8601 timestamp."""
    text = text.strip()
    try:
        return float(text), False
    except ValueError:
        pass
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp(), True


def _side_level(price: str, size: str) -> tuple[float, float] | None:
    if not price.strip() or not size.strip() or float(size) == 0:
        return None
    return float(price), float(size)


def read_csv(path: str | Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows of a recorded CSV as stripped strings; a missing required column is an error."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [name for name in required if name not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing columns {missing}")
        return [{key: (value or "").strip() for key, value in row.items() if key is not None} for row in reader]


class ReplayFeed:
    def __init__(
        self,
        trades_csv_path: str | Path | None,
        quotes_csv_path: str | Path | None,
        clock: Clock,
        *,
        start: float | datetime | None = None,
    ) -> None:
        self.clock = clock
        records: list[tuple[float, int, int, _Record]] = []
        kinds: set[bool] = set()
        if quotes_csv_path is not None:
            for number, row in enumerate(read_csv(quotes_csv_path, QUOTE_COLUMNS)):
                raw, is_iso = _parse_time(row["ts"])
                kinds.add(is_iso)
                level = int(row.get("level", "").strip() or 0)
                quote = (
                    level,
                    _side_level(row["bid_price"], row["bid_size"]),
                    _side_level(row["ask_price"], row["ask_size"]),
                )
                record = _Record(raw, self._day(raw, is_iso), row["symbol"].strip(), row["venue"].strip(), quote=quote)
                records.append((raw, 0, number, record))
        if trades_csv_path is not None:
            for number, row in enumerate(read_csv(trades_csv_path, TRADE_COLUMNS)):
                raw, is_iso = _parse_time(row["ts"])
                kinds.add(is_iso)
                side_text = row.get("side", "").strip().upper()
                if side_text not in _SIDES:
                    raise ValueError(f"{trades_csv_path}: row {number + 2}: unknown side {side_text!r}")
                trade = Trade(float(row["price"]), float(row["size"]), row["venue"].strip(), 0.0, _SIDES[side_text])
                record = _Record(raw, self._day(raw, is_iso), row["symbol"].strip(), row["venue"].strip(), trade=trade)
                records.append((raw, 1, number, record))
        if len(kinds) > 1:
            raise ValueError("mixed timestamp formats: use seconds or ISO-8601 throughout")
        records.sort(key=lambda item: item[:3])
        self._records = [record for *_, record in records]

        if isinstance(start, datetime):
            start = (start if start.tzinfo else start.replace(tzinfo=UTC)).timestamp()
        if start is None:
            start = min((r.time for r in self._records), default=0.0) if kinds == {True} else 0.0
        self.start = float(start)

        self.symbols: list[str] = list(dict.fromkeys(record.symbol for record in self._records))
        self._states: dict[str, _SymbolState] = {}
        self._next = 0

    @staticmethod
    def _day(raw: float, is_iso: bool) -> int | None:
        return math.floor(raw / 86400) if is_iso else None

    @property
    def exhausted(self) -> bool:
        return self._next >= len(self._records)

    def poll(self) -> list[Snapshot]:
        horizon = self.clock.now()
        changed: set[str] = set()
        while self._next < len(self._records) and self._records[self._next].time - self.start <= horizon:
            record = self._records[self._next]
            self._apply(record)
            changed.add(record.symbol)
            self._next += 1
        return [self._snapshot(symbol) for symbol in self.symbols if symbol in changed]

    def snapshot(self, symbol: str) -> Snapshot | None:
        return self._snapshot(symbol) if symbol in self._states else None

    def _apply(self, record: _Record) -> None:
        state = self._states.setdefault(record.symbol, _SymbolState())
        ts = record.time - self.start
        if record.quote is not None:
            level, bid, ask = record.quote
            bids, asks = state.books.setdefault(record.venue, ({}, {}))
            for ladder, entry in ((bids, bid), (asks, ask)):
                if entry is None:
                    ladder.pop(level, None)
                else:
                    ladder[level] = entry
        else:
            trade = record.trade
            if record.day != state.volume_day:
                state.volume_day = record.day
                state.volume = 0.0
            state.volume += trade.size
            state.last_trade = Trade(trade.price, trade.size, trade.venue, ts, trade.side)
        state.seq += 1
        state.ts = ts

    def _snapshot(self, symbol: str) -> Snapshot:
        state = self._states[symbol]
        venues = {
            venue: VenueBook(venue, [bids[level] for level in sorted(bids)], [asks[level] for level in sorted(asks)])
            for venue, (bids, asks) in state.books.items()
        }
        best_bids = [book.bids[0][0] for book in venues.values() if book.bids]
        best_asks = [book.asks[0][0] for book in venues.values() if book.asks]
        if best_bids and best_asks:
            mid = round((max(best_bids) + min(best_asks)) / 2.0, 10)  # drop binary noise like 100.01500000000001
        elif state.last_trade is not None:
            mid = state.last_trade.price
        else:
            mid = math.nan
        return Snapshot(symbol, state.ts, state.seq, mid, venues, state.last_trade, state.volume)
