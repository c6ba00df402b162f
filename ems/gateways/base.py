"""The venue gateway port (ports and adapters, as NautilusTrader's ExecutionClient): the EMS
sends, cancels and replaces child orders through it and hears back four kinds of event.
It never knows which transport an adapter uses (the simulator over core.streams now, FIX
later). Commands and reports are the plain dicts documented in marketdata.venue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Protocol

ACKED: Final = "ACKED"
FILLED: Final = "FILLED"
REJECTED: Final = "REJECTED"
CANCELLED: Final = "CANCELLED"
EVENTS: Final = (ACKED, FILLED, REJECTED, CANCELLED)


class VenueGateway(Protocol):
    def send(self, command: dict) -> None:
        """A NEW child order: {client_order_id, symbol, venue, side, child_type, quantity, limit_price}."""

    def cancel(self, command: dict) -> None:
        """{client_order_id, venue}: the venue answers CANCELLED (with the leaves) or fills first."""

    def send_many(self, new: list[dict], cancel: list[dict]) -> None:
        """`send` each of `new`, then `cancel` each of `cancel`, in order, together."""

    def replace(self, cancel: dict, new: dict) -> None:
        """Cancel then send: simulated venues have no native replace."""

    def consume(self, handle: Callable[[dict], object], *, consumer: str, count: int = 500, block_ms: int = 0) -> int:
        """Hand each report to `handle` (report_apply), acknowledging it after; returns how many."""

    def consume_many(
        self, handle: Callable[[list[dict]], object], *, consumer: str, count: int = 500, block_ms: int = 0
    ) -> int:
        """Hand the reports read to `handle` at once (reports_apply), in the order received,
        acknowledging them all after it returned; returns how many."""
