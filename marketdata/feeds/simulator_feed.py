"""A feed handler backed by the market simulator."""

from __future__ import annotations

from marketdata.sim.clock import Clock
from marketdata.sim.events import Snapshot
from marketdata.sim.simulator import MarketSimulator


class SimulatorFeed:
    def __init__(self, simulator: MarketSimulator, clock: Clock) -> None:
        self.simulator = simulator
        self.clock = clock
        self.symbols: list[str] = simulator.symbols
        self._known = set(self.symbols)
        self._seen_seq: dict[str, int] = {}

    def poll(self) -> list[Snapshot]:
        self.simulator.advance_to(self.clock.now())
        changed = []
        for symbol in self.symbols:
            # Comparing sequence numbers avoids building snapshots nobody needs.
            seq = self.simulator.sequence(symbol)
            if self._seen_seq.get(symbol) != seq:
                self._seen_seq[symbol] = seq
                changed.append(self.simulator.snapshot(symbol))
        return changed

    def snapshot(self, symbol: str) -> Snapshot | None:
        if symbol not in self._known:
            return None
        return self.simulator.snapshot(symbol)
