"""The feed-handler port: whatever produces books and trades, consumers see snapshots."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from marketdata.sim.events import Snapshot


@runtime_checkable
class FeedHandler(Protocol):
    symbols: list[str]

    def poll(self) -> list[Snapshot]:
        """Catch up with the feed's clock; the latest snapshot of each symbol changed since the last poll."""
        ...

    def snapshot(self, symbol: str) -> Snapshot | None:
        """The current snapshot of a symbol, None when the feed has nothing for it."""
        ...
