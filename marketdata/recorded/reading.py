"""Reading recorded files that users bring: streamed row by row (a file of any size is
never held in memory), byte-order marks and common encodings handled, every problem
named by file, row, column and value.

Row numbers are the line numbers a spreadsheet or `sed -n` shows: the header is row 1.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

SNIFF_BYTES = 1 << 16


class RowError(ValueError):
    """One bad cell (or row) of a recorded file."""

    def __init__(self, file: str | Path, row: int, column: str, value: str, reason: str) -> None:
        self.file, self.row, self.column, self.value, self.reason = str(file), row, column, value, reason
        super().__init__(f"{Path(self.file).name}: row {row}, column {column!r}: {reason} (value {value!r})")


def detect_encoding(path: str | Path) -> str:
    """'utf-8-sig' (with or without a BOM), 'utf-16' when a UTF-16 BOM says so, else
    'cp1252' for the spreadsheet exports that are not UTF-8."""
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still UTF-8.
        if error.start < len(head) - 3:
            return "cp1252"
    return "utf-8-sig"


class Progress:
    """Calls `report(done_bytes, total_bytes, rows)` about every `every` rows."""

    def __init__(self, report: Callable[[int, int, int], None] | None, total: int, every: int = 100_000) -> None:
        self.report, self.total, self.every, self.rows = report, total, every, 0

    def tick(self, position: int) -> None:
        self.rows += 1
        if self.report is not None and self.rows % self.every == 0:
            self.report(position, self.total, self.rows)

    def done(self) -> None:
        if self.report is not None:
            self.report(self.total, self.total, self.rows)


class _CountingReader(io.RawIOBase):
    """Bytes read so far, for the progress indication."""

    def __init__(self, raw) -> None:
        self.raw, self.position = raw, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self.raw.readinto(buffer)
        self.position += count or 0
        return count


@dataclass
class CsvFile:
    """A CSV file with a header row, read lazily."""

    path: Path
    encoding: str | None = None  # None: detect
    delimiter: str = ","
    header: bool = True
    progress: Callable[[int, int, int], None] | None = None

    def rows(self, required: tuple[str, ...] = ()) -> Iterator[tuple[int, dict[str, str]]]:
        """(row number, {column: stripped value}); a missing required column is a RowError on row 1."""
        encoding = self.encoding or detect_encoding(self.path)
        total = os.path.getsize(self.path)
        with open(self.path, "rb", buffering=0) as raw:
            counting = _CountingReader(raw)
            text = io.TextIOWrapper(io.BufferedReader(counting, 1 << 20), encoding=encoding, newline="")
            reader = csv.reader(text, delimiter=self.delimiter)
            try:
                names = [name.strip().lstrip("\ufeff") for name in next(reader)] if self.header else None
            except StopIteration:
                names = []
            except UnicodeDecodeError as error:
                raise RowError(self.path, 1, "", "", f"not {encoding} text: {error.reason}") from None
            if names is not None:
                missing = [name for name in required if name not in names]
                if missing:
                    raise RowError(self.path, 1, ",".join(missing), ",".join(names), f"missing columns {missing}")
            progress = Progress(self.progress, total)
            number = 1 if self.header else 0
            try:
                for cells in reader:
                    number += 1
                    progress.tick(counting.position)
                    if not cells or (len(cells) == 1 and not cells[0].strip()):
                        continue
                    if names is None:
                        yield number, {str(index): cell.strip() for index, cell in enumerate(cells)}
                        continue
                    if len(cells) > len(names) and any(c.strip() for c in cells[len(names) :]):
                        raise RowError(
                            self.path,
                            number,
                            "",
                            self.delimiter.join(cells),
                            f"{len(cells)} cells, header has {len(names)}",
                        )
                    yield number, {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(names)}
            except UnicodeDecodeError as error:
                raise RowError(self.path, number + 1, "", "", f"not {encoding} text: {error.reason}") from None
            progress.done()


def parse_decimal(
    file: str | Path, row: int, column: str, text: str, *, positive: bool = False, non_negative: bool = False
) -> Decimal:
    """An exact decimal from a cell, refusing empty cells, thousands separators, nan and infinities."""
    if not text:
        raise RowError(file, row, column, text, "empty, a number is needed")
    if "," in text:
        raise RowError(file, row, column, text, "thousands separators are not accepted; write 1234.5")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise RowError(file, row, column, text, "not a number") from None
    if not value.is_finite():
        raise RowError(file, row, column, text, "not a finite number")
    if positive and not value > 0:
        raise RowError(file, row, column, text, "must be positive")
    if non_negative and value < 0:
        raise RowError(file, row, column, text, "must not be negative")
    return value


def parse_float(file: str | Path, row: int, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise RowError(file, row, column, text, "not a number") from None
    if not math.isfinite(value):
        raise RowError(file, row, column, text, "not a finite number")
    return value


class RejectReport:
    """Rejected rows, written as they come to a CSV: file, row, column, value, reason."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path else None
        self.count = 0
        self._handle = None
        self._writer = None

    def add(self, error: RowError) -> None:
        self.count += 1
        if self.path is None:
            return
        if self._writer is None:
            self._handle = open(self.path, "w", newline="", encoding="utf-8")  # noqa: SIM115 (closed by close())
            self._writer = csv.writer(self._handle)
            self._writer.writerow(["file", "row", "column", "value", "reason"])
        self._writer.writerow([error.file, error.row, error.column, error.value, error.reason])

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
