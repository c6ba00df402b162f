"""The FIX adapter: venues reached over FIX 4.4 sessions. A FIX session belongs to one process
(the engine owns its socket and sequence numbers), and the EMS sends from any worker, so this
adapter hands commands to that process, `manage.py run_fix_venue` (fix.venue), over
core.streams: it sends them to the venue as NewOrderSingle / OrderCancelRequest and publishes
the venue's ExecutionReports, as the same report dicts (marketdata.venue documents them), to
FIX_REPORTS. Reports are applied once by their venue execution id (ExecID), so a PossDup
resend after a reconnect changes nothing."""

from __future__ import annotations

from collections.abc import Callable

from core.streams import Streams

FIX_COMMANDS = "venue.fix.commands"
FIX_REPORTS = "venue.fix.reports"
GROUP = "ems"


class FixGateway:
    def __init__(self, streams: Streams, *, claim_idle_ms: int = 10_000):
        self.streams = streams
        self.claim_idle_ms = claim_idle_ms

    def send(self, command: dict) -> None:
        self.streams.publish(FIX_COMMANDS, {**command, "type": "NEW"})

    def cancel(self, command: dict) -> None:
        self.streams.publish(FIX_COMMANDS, {**command, "type": "CANCEL"})

    def send_many(self, new: list[dict], cancel: list[dict]) -> None:
        self.streams.publish_many(
            FIX_COMMANDS, [{**c, "type": "NEW"} for c in new] + [{**c, "type": "CANCEL"} for c in cancel]
        )

    def replace(self, cancel: dict, new: dict) -> None:
        self.cancel(cancel)
        self.send(new)

    def _entries(self, consumer: str, count: int, block_ms: int):
        entries = self.streams.claim_stale(FIX_REPORTS, GROUP, consumer, idle_ms=self.claim_idle_ms, count=count)
        return entries + self.streams.read(FIX_REPORTS, GROUP, consumer, count=count, block_ms=block_ms)

    def consume(self, handle: Callable[[dict], object], *, consumer: str, count: int = 500, block_ms: int = 0) -> int:
        entries = self._entries(consumer, count, block_ms)
        for entry_id, message in entries:
            handle(message)
            self.streams.ack(FIX_REPORTS, GROUP, [entry_id])
        return len(entries)

    def consume_many(
        self, handle: Callable[[list[dict]], object], *, consumer: str, count: int = 500, block_ms: int = 0
    ) -> int:
        entries = self._entries(consumer, count, block_ms)
        if entries:
            handle([message for _, message in entries])
            self.streams.ack(FIX_REPORTS, GROUP, [entry_id for entry_id, _ in entries])
        return len(entries)
