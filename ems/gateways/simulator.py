"""The simulator adapter: commands to core.streams.COMMANDS, reports from core.streams.REPORTS,
with marketdata.venue on the other side, in whatever process owns the simulator. Reports
are acknowledged only after they were applied, so a worker killed mid-way leaves them
pending and another consumer claims them (report_apply is idempotent)."""

from __future__ import annotations

from collections.abc import Callable

from core.streams import COMMANDS, REPORTS, Streams

GROUP = "ems"


class SimulatorGateway:
    def __init__(self, streams: Streams, *, claim_idle_ms: int = 10_000):
        self.streams = streams
        self.claim_idle_ms = claim_idle_ms

    def send(self, command: dict) -> None:
        self.streams.publish(COMMANDS, {**command, "type": "NEW"})

    def cancel(self, command: dict) -> None:
        self.streams.publish(COMMANDS, {**command, "type": "CANCEL"})

    def send_many(self, new: list[dict], cancel: list[dict]) -> None:
        self.streams.publish_many(
            COMMANDS, [{**c, "type": "NEW"} for c in new] + [{**c, "type": "CANCEL"} for c in cancel]
        )

    def replace(self, cancel: dict, new: dict) -> None:
        self.cancel(cancel)
        self.send(new)

    def consume(self, handle: Callable[[dict], object], *, consumer: str, count: int = 500, block_ms: int = 0) -> int:
        entries = self.streams.claim_stale(REPORTS, GROUP, consumer, idle_ms=self.claim_idle_ms, count=count)
        entries += self.streams.read(REPORTS, GROUP, consumer, count=count, block_ms=block_ms)
        for entry_id, message in entries:
            handle(message)
            self.streams.ack(REPORTS, GROUP, [entry_id])
        return len(entries)

    def consume_many(
        self, handle: Callable[[list[dict]], object], *, consumer: str, count: int = 500, block_ms: int = 0
    ) -> int:
        entries = self.streams.claim_stale(REPORTS, GROUP, consumer, idle_ms=self.claim_idle_ms, count=count)
        entries += self.streams.read(REPORTS, GROUP, consumer, count=count, block_ms=block_ms)
        if entries:
            handle([message for _, message in entries])
            self.streams.ack(REPORTS, GROUP, [entry_id for entry_id, _ in entries])
        return len(entries)
