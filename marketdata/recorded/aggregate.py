"""A stream of recorded ticks -> per (symbol, session) statistics, on a trading calendar.

Where a tick falls:
- absolute times (ISO-8601, tardis microseconds) belong to the calendar session of their
  exchange-local date (the next session on a weekend or holiday), at their offset from
  that session's open: the open and close come from the calendar, so daylight saving,
  half days and 24-hour markets are right.
- seconds are either from midnight (exchange time) of `first_date`, as LOBSTER writes
  them, or from the open of `first_date`'s session, sessions back to back (the
  simulator's clock). `seconds_from="auto"` decides on the first value: one at or after
  an hour before the open (34,200 s is 09:30) is read from midnight, a smaller one from
  the open; either way a warning says which, since both readings are possible.

Volume, OHLC and buckets come from the trades (in any order: the open is the earliest
print, the close the latest). The spread is sampled after every top-of-book quote
(level 0) from the consolidated touch across venues, in file order; quote rows whose
time goes backwards are counted in the warnings.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from marketdata import calendars
from marketdata.analytics import SessionAccumulator
from marketdata.recorded.formats import Tick
from marketdata.recorded.reading import RowError

SECONDS_FROM = ("auto", "midnight", "open")


@dataclass
class BuiltSession:
    symbol: str
    window: calendars.SessionWindow
    accumulator: SessionAccumulator


@dataclass
class BuildResult:
    sessions: dict[tuple[str, date], BuiltSession] = field(default_factory=dict)
    trades: int = 0
    quotes: int = 0
    rejected: int = 0
    unknown_symbols: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)


class SessionBuilder:
    def __init__(
        self,
        *,
        calendar_of: Callable[[str], str],
        known: set[str],
        first_date: date | None = None,
        seconds_from: str = "auto",
        buckets: int | None = None,
        symbol_map: dict[str, str] | None = None,
        on_error: Callable[[RowError], None] | None = None,
    ) -> None:
        if seconds_from not in SECONDS_FROM:
            raise ValueError(f"seconds_from must be one of {SECONDS_FROM}")
        self.calendar_of, self.known = calendar_of, known
        self.first_date, self.seconds_from, self.buckets = first_date, seconds_from, buckets
        self.symbol_map = symbol_map or {}
        self.on_error = on_error
        self.result = BuildResult()
        self._day_cache: dict[str, tuple[float, float, calendars.SessionWindow]] = {}
        self._by_index: dict[tuple[str, int], calendars.SessionWindow] = {}
        self._touch: dict[str, dict[str, list[Decimal | None]]] = {}
        self._last_quote_time: dict[str, float] = {}
        self._backwards = 0

    # ------------------------------------------------------------------ where a tick falls

    def _absolute(self, code: str, epoch: float) -> tuple[calendars.SessionWindow, float]:
        cached = self._day_cache.get(code)
        if cached is None or not cached[0] <= epoch < cached[1]:
            moment = datetime.fromtimestamp(epoch, UTC)
            window = calendars.session_for_moment(code, moment)
            local_day = moment.astimezone(calendars.timezone_of(code)).date()
            start = calendars.local_midnight(code, local_day).timestamp()
            end = calendars.local_midnight(code, local_day + timedelta(days=1)).timestamp()
            cached = self._day_cache[code] = (start, end, window)
        window = cached[2]
        return window, epoch - window.open.timestamp()

    def _relative(self, code: str, tick: Tick) -> tuple[calendars.SessionWindow, float]:
        if self.first_date is None:
            raise RowError(
                tick.file, tick.row, "ts", repr(tick.time), "timestamps in seconds need the date of the first session"
            )
        first = calendars.session_on_or_after(code, self.first_date)
        if self.seconds_from == "auto":
            opens_at = (first.open - calendars.local_midnight(code, first.day)).total_seconds()
            self.seconds_from = "midnight" if tick.time >= opens_at - 3600 else "open"
            self.result.warnings.append(
                f"timestamps in seconds: read as seconds since {self.seconds_from}"
                f"{' (exchange time)' if self.seconds_from == 'midnight' else ' of the session'} of {first.day}"
                f" (the first is {tick.time:g}; the open is {opens_at:g} s after midnight);"
                " pass --seconds-from midnight|open to say so"
            )
        if self.seconds_from == "midnight":
            return self._absolute(code, calendars.local_midnight(code, first.day).timestamp() + tick.time)
        index = math.floor(tick.time / first.seconds)
        window = self._by_index.get((code, index))
        if window is None:
            window = self._by_index[(code, index)] = calendars.sessions_after(code, first, index)
        return window, tick.time - index * first.seconds

    def _session(self, symbol: str, window: calendars.SessionWindow) -> SessionAccumulator:
        key = (symbol, window.day)
        built = self.result.sessions.get(key)
        if built is None:
            buckets = self.buckets or window.buckets
            built = self.result.sessions[key] = BuiltSession(
                symbol, window, SessionAccumulator(window.seconds, buckets)
            )
        return built.accumulator

    # ------------------------------------------------------------------ feeding

    def feed(self, ticks: Iterable[Tick | RowError]) -> None:
        for tick in ticks:
            if isinstance(tick, RowError):
                self._reject(tick)
                continue
            symbol = self.symbol_map.get(tick.symbol, tick.symbol)
            if symbol not in self.known:
                self.result.unknown_symbols.add(tick.symbol)
                continue
            if not tick.is_trade and tick.level != 0:
                continue  # depth below the touch does not change the spread
            try:
                code = self.calendar_of(symbol)
                window, offset = self._absolute(code, tick.time) if tick.absolute else self._relative(code, tick)
            except RowError as error:
                self._reject(error)
                continue
            session = self._session(symbol, window)
            if tick.is_trade:
                session.trade(offset, tick.price, tick.size)
                self.result.trades += 1
            else:
                self._quote(symbol, tick, session, offset)
                self.result.quotes += 1

    def _quote(self, symbol: str, tick: Tick, session: SessionAccumulator, offset: float) -> None:
        if tick.time < self._last_quote_time.get(symbol, -math.inf):
            self._backwards += 1
        self._last_quote_time[symbol] = tick.time
        # symbol -> venue -> [bid, ask]; a venue's touch stands until replaced or removed.
        venues = self._touch.setdefault(symbol, {})
        venues[tick.venue] = [tick.bid, tick.ask]
        bids = [b for b, _ in venues.values() if b is not None]
        asks = [a for _, a in venues.values() if a is not None]
        if bids and asks:
            session.quote(max(bids), min(asks), offset)
        else:
            session.seen(offset)

    def _reject(self, error: RowError) -> None:
        if self.on_error is None:
            raise error
        self.result.rejected += 1
        self.on_error(error)

    def finish(self) -> BuildResult:
        if self._backwards:
            self.result.warnings.append(
                f"{self._backwards} quote rows go back in time: spread samples follow the file order"
            )
        return self.result
