"""Adapters: recorded files in the formats people have -> one stream of `Tick`s.

generic   our replay CSVs (columns documented in `marketdata.feeds.replay`):
          trades  ts, symbol, venue, price, size[, side]
          quotes  ts, symbol, venue, bid_price, bid_size, ask_price, ask_size[, level]
          `ts` ISO-8601 (UTC without an offset) or seconds (from midnight or from the
          open, see `marketdata.recorded.aggregate`).
tardis    tardis.dev downloadable CSVs (one exchange symbol per file):
          trades  exchange, symbol, timestamp, local_timestamp, id, side, price, amount
          quotes  exchange, symbol, timestamp, local_timestamp, ask_amount, ask_price,
                  bid_price, bid_amount
          book_snapshot_N  exchange, symbol, timestamp, local_timestamp, asks[0].price,
                  asks[0].amount, bids[0].price, bids[0].amount, ... (the touch is used)
          `timestamp` is exchange time in microseconds since the epoch, UTC.
lobster   LOBSTER message + orderbook files (no header; the k-th orderbook row is the book
          after the k-th message; any number of levels, 4 columns each: ask price, ask
          size, bid price, bid size; prices times 10,000; empty levels 9999999999 and
          -9999999999). Messages: time (seconds after midnight, exchange time), type,
          order id, size, price, direction. Types 4 (visible) and 5 (hidden) are
          executions: the trades. Symbol and date come from the file name
          TICKER_YYYY-MM-DD_start_end_message_N.csv.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from marketdata.recorded.reading import CsvFile, RowError, parse_decimal, parse_float

FORMATS = ("generic", "tardis", "lobster")
TRADE_COLUMNS = ("ts", "symbol", "venue", "price", "size")
QUOTE_COLUMNS = ("ts", "symbol", "venue", "bid_price", "bid_size", "ask_price", "ask_size")
TARDIS_TRADE_COLUMNS = ("exchange", "symbol", "timestamp", "price", "amount")
TARDIS_QUOTE_COLUMNS = ("exchange", "symbol", "timestamp", "ask_amount", "ask_price", "bid_price", "bid_amount")
TARDIS_BOOK_COLUMNS = (
    "exchange",
    "symbol",
    "timestamp",
    "asks[0].price",
    "asks[0].amount",
    "bids[0].price",
    "bids[0].amount",
)
LOBSTER_NAME = re.compile(r"^(?P<symbol>[^_]+)_(?P<day>\d{4}-\d{2}-\d{2})_\d+_\d+_(message|orderbook)_(?P<levels>\d+)")
LOBSTER_EMPTY = 9_999_999_999
LOBSTER_PRICE_SCALE = Decimal(10_000)
LOBSTER_EXECUTIONS = {"4", "5"}
Progress = Callable[[int, int, int], None] | None


@dataclass(slots=True)
class Tick:
    """A trade (price, size) or a top-of-book quote (bid, bid_size, ask, ask_size, level).
    `time` is epoch seconds when `absolute`, else seconds as the file gives them."""

    file: str
    row: int
    time: float
    absolute: bool
    symbol: str
    venue: str
    price: Decimal | None = None
    size: Decimal | None = None
    bid: Decimal | None = None
    ask: Decimal | None = None
    level: int = 0

    @property
    def is_trade(self) -> bool:
        return self.price is not None


def parse_time(file, row: int, column: str, text: str) -> tuple[float, bool]:
    """(seconds, absolute): a number as given, or an ISO-8601 timestamp as epoch seconds."""
    if not text:
        raise RowError(file, row, column, text, "empty, a timestamp is needed")
    try:
        return float(text), False
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RowError(file, row, column, text, "not seconds nor an ISO-8601 timestamp") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp(), True


def _side(file, row: int, price_col: str, size_col: str, cells: dict[str, str]) -> Decimal | None:
    """A quoted side's price, None when the side is empty (no price, or a size of 0)."""
    price, size = cells[price_col], cells[size_col]
    if not price:
        return None
    if not size or parse_decimal(file, row, size_col, size, non_negative=True) == 0:
        return None
    return parse_decimal(file, row, price_col, price, positive=True)


# ----------------------------------------------------------------------------- generic


def _each(rows, convert) -> Iterator[Tick | RowError]:
    """Convert each row; a bad row becomes its RowError in the stream (the caller stops or
    skips it), so one bad row never ends the file."""
    for row, cells in rows:
        try:
            yield from convert(row, cells)
        except RowError as error:
            yield error


def generic_trades(path, *, encoding=None, progress: Progress = None) -> Iterator[Tick | RowError]:
    return _each(
        CsvFile(Path(path), encoding, progress=progress).rows(TRADE_COLUMNS), lambda r, c: _generic_trade(path, r, c)
    )


def _generic_trade(path, row: int, cells: dict[str, str]):
    seconds, absolute = parse_time(path, row, "ts", cells["ts"])
    yield Tick(
        str(path),
        row,
        seconds,
        absolute,
        cells["symbol"],
        cells["venue"],
        price=parse_decimal(path, row, "price", cells["price"], positive=True),
        size=parse_decimal(path, row, "size", cells["size"], non_negative=True),
    )


def generic_quotes(path, *, encoding=None, progress: Progress = None) -> Iterator[Tick | RowError]:
    return _each(
        CsvFile(Path(path), encoding, progress=progress).rows(QUOTE_COLUMNS), lambda r, c: _generic_quote(path, r, c)
    )


def _generic_quote(path, row: int, cells: dict[str, str]):
    seconds, absolute = parse_time(path, row, "ts", cells["ts"])
    level_text = cells.get("level") or "0"
    if not level_text.isdigit():
        raise RowError(path, row, "level", level_text, "a level is 0, 1, 2, ...")
    yield Tick(
        str(path),
        row,
        seconds,
        absolute,
        cells["symbol"],
        cells["venue"],
        bid=_side(path, row, "bid_price", "bid_size", cells),
        ask=_side(path, row, "ask_price", "ask_size", cells),
        level=int(level_text),
    )


# ----------------------------------------------------------------------------- tardis


def _micros(path, row: int, text: str) -> float:
    if not text.isdigit():
        raise RowError(path, row, "timestamp", text, "microseconds since the epoch are needed")
    return int(text) / 1_000_000


def tardis_trades(path, *, encoding=None, progress: Progress = None) -> Iterator[Tick | RowError]:
    return _each(
        CsvFile(Path(path), encoding, progress=progress).rows(TARDIS_TRADE_COLUMNS),
        lambda r, c: _tardis_trade(path, r, c),
    )


def _tardis_trade(path, row: int, cells: dict[str, str]):
    yield Tick(
        str(path),
        row,
        _micros(path, row, cells["timestamp"]),
        True,
        cells["symbol"],
        cells["exchange"],
        price=parse_decimal(path, row, "price", cells["price"], positive=True),
        size=parse_decimal(path, row, "amount", cells["amount"], non_negative=True),
    )


def tardis_quotes(path, *, encoding=None, progress: Progress = None) -> Iterator[Tick | RowError]:
    """tardis `quotes` files, and `book_snapshot_N` files by their touch (level 0)."""
    csv_file = CsvFile(Path(path), encoding, progress=progress)
    with open(path, encoding=encoding or "utf-8-sig", errors="replace") as handle:
        header = handle.readline()
    book = "asks[0].price" in header
    columns = TARDIS_BOOK_COLUMNS if book else TARDIS_QUOTE_COLUMNS
    names = (
        ("bids[0].price", "bids[0].amount", "asks[0].price", "asks[0].amount")
        if book
        else ("bid_price", "bid_amount", "ask_price", "ask_amount")
    )

    def convert(row: int, cells: dict[str, str]):
        yield Tick(
            str(path),
            row,
            _micros(path, row, cells["timestamp"]),
            True,
            cells["symbol"],
            cells["exchange"],
            bid=_side(path, row, names[0], names[1], cells),
            ask=_side(path, row, names[2], names[3], cells),
        )

    return _each(csv_file.rows(columns), convert)


# ----------------------------------------------------------------------------- LOBSTER


@dataclass(frozen=True, slots=True)
class LobsterName:
    symbol: str
    day: date
    levels: int


def lobster_name(path) -> LobsterName | None:
    match = LOBSTER_NAME.match(Path(path).name)
    if match is None:
        return None
    return LobsterName(match["symbol"], date.fromisoformat(match["day"]), int(match["levels"]))


def _lobster_price(path, row: int, column: str, text: str) -> Decimal | None:
    value = parse_decimal(path, row, column, text)
    if abs(value) >= LOBSTER_EMPTY:
        return None
    if not value > 0:
        raise RowError(path, row, column, text, "must be positive")
    return value / LOBSTER_PRICE_SCALE


def lobster_ticks(
    message_path, orderbook_path, *, symbol: str | None = None, venue: str = "LOBSTER", progress: Progress = None
) -> Iterator[Tick | RowError]:
    """Trades from the executions, a quote from the touch after every message. Times are
    seconds after midnight; the caller anchors them to the file's date."""
    name = lobster_name(message_path)
    symbol = symbol or (name.symbol if name else None)
    if not symbol:
        raise RowError(
            message_path, 0, "", Path(message_path).name, "no symbol: name the file as LOBSTER does or pass --symbol"
        )
    messages = CsvFile(Path(message_path), header=False, progress=progress).rows()
    books = CsvFile(Path(orderbook_path), header=False).rows()
    for (row, message), book in zip(messages, books, strict=False):
        try:
            yield from _lobster_row(message_path, orderbook_path, symbol, venue, row, message, book)
        except RowError as error:
            yield error


def _lobster_row(message_path, orderbook_path, symbol, venue, row, message, book):
    if len(message) < 6:
        raise RowError(message_path, row, "", ",".join(message.values()), "a message has 6 columns")
    book_row, levels = book
    if len(levels) < 4 or len(levels) % 4:
        raise RowError(
            orderbook_path, book_row, "", ",".join(levels.values()), "orderbook rows have 4 columns per level"
        )
    seconds = parse_float(message_path, row, "time", message["0"])
    if message["1"] in LOBSTER_EXECUTIONS:
        yield Tick(
            str(message_path),
            row,
            seconds,
            False,
            symbol,
            venue,
            price=_lobster_price(message_path, row, "price", message["4"]),
            size=parse_decimal(message_path, row, "size", message["3"], non_negative=True),
        )
    ask = _lobster_price(orderbook_path, book_row, "ask price 1", levels["0"])
    bid = _lobster_price(orderbook_path, book_row, "bid price 1", levels["2"])
    yield Tick(str(orderbook_path), book_row, seconds, False, symbol, venue, bid=bid, ask=ask)
