"""The simulated venue side: runs where the simulator runs (the publisher's loop: inside
`serve` in the embedded mode, `run_marketdata` in production), reads order commands from
the command stream, executes them against the one simulator and writes execution reports
to the report stream (core.streams). Nothing else touches the simulator's orders, so there
is one market whatever the number of workers.

Message shapes (plain dicts; decimals as strings), the contract with any EMS gateway:

command  {"type": "NEW", "client_order_id", "symbol", "venue", "side": BUY|SELL,
          "child_type": MARKET|LIMIT|DARK, "quantity", "limit_price": str|None}
         {"type": "CANCEL", "client_order_id"}
report   {"type": ACKED|FILLED|REJECTED|CANCELLED, "exec_id", "client_order_id", "venue",
          "symbol", "quantity" (filled, or cancelled leaves), "price", "fee", "liquidity",
          "reason", "ts" (epoch seconds)}

`exec_id` is the venue's execution id, derived from the client order id and the event
(`{id}:A`, `{id}:F1`, `{id}:X`, `{id}:R`), so a report repeated for any reason repeats its
id and the EMS applies it once. A client order id the venue has already seen is refused
silently (the EMS resends orders it is unsure about). MARKET orders are immediate-or-cancel:
their unfilled rest is reported CANCELLED at once.

The venue remembers, beside the streams (so across its own restarts), every client order id
it has seen and the orders resting with it. A restarted venue (a new simulator: its book is
gone) first reports every order that was resting as CANCELLED, as an exchange cancels on
disconnect, and still refuses a resent order it had seen: nothing is executed twice."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from asgiref.sync import sync_to_async

from core.streams import COMMANDS, REPORTS, MemoryStreams, Streams

log = logging.getLogger(__name__)

GROUP = "venue"
SEEN = "venue:seen"  # every client order id received
RESTING = "venue:resting"  # the orders resting with the venue now
ACKED, FILLED, REJECTED, CANCELLED = "ACKED", "FILLED", "REJECTED", "CANCELLED"


@dataclass
class VenueOrder:
    symbol: str
    venue: str
    side: str
    quantity: float
    filled: float = 0.0
    fills: int = 0
    closed: bool = False


class VenueService:
    def __init__(
        self,
        simulator,
        streams: Streams,
        *,
        consumer: str = "venue-1",
        wall_clock: Callable[[], float] = time.time,
        batch: int = 500,
        memory: Streams | None = None,
    ):
        self.sim, self.streams, self.consumer = simulator, streams, consumer
        # Where the seen and resting ids live: the Redis beside the streams for a venue in its
        # own process (run_marketdata), which may restart alone; in process otherwise.
        self.memory = memory if memory is not None else MemoryStreams()
        self.wall_clock, self.batch = wall_clock, batch
        self.orders: dict[str, VenueOrder] = {}
        self.restarted = False  # becomes True once the previous session's orders are reported

    def _restart_reports(self) -> list[dict]:
        """Once per session, first: every order resting with the previous session is gone."""
        if self.restarted:
            return []
        self.restarted = True
        reports = []
        for coid in sorted(self.memory.set_members(RESTING)):
            if coid in self.orders:
                continue
            lost = VenueOrder("", "", "", 0.0)
            reports.append(self._report(CANCELLED, coid, lost, suffix="X", reason="venue restarted: order lost"))
            self.memory.set_remove(RESTING, coid)
        return reports

    # ------------------------------------------------------------------ one round

    def step(self) -> int:
        """Read, execute, report, acknowledge. Returns the reports written."""
        entries = self.streams.read(COMMANDS, GROUP, self.consumer, count=self.batch)
        reports = self.execute([message for _, message in entries])
        self.streams.publish_many(REPORTS, reports)  # in order, one round trip
        self.streams.ack(COMMANDS, GROUP, [entry_id for entry_id, _ in entries])
        return len(reports)

    async def astep(self) -> int:
        """`step` on an event loop: stream I/O in a thread, the simulator on the loop itself."""
        entries = await sync_to_async(self.streams.read, thread_sensitive=False)(
            COMMANDS, GROUP, self.consumer, count=self.batch
        )
        reports = self.execute([message for _, message in entries])

        def publish_and_ack():
            self.streams.publish_many(REPORTS, reports)  # in order, one round trip
            self.streams.ack(COMMANDS, GROUP, [entry_id for entry_id, _ in entries])

        if entries or reports:
            await sync_to_async(publish_and_ack, thread_sensitive=False)()
        return len(reports)

    def execute(self, commands: list[dict]) -> list[dict]:
        """The reports for these commands, then for every resting fill since the last call."""
        reports: list[dict] = self._restart_reports()
        for command in commands:
            try:
                kind = command.get("type")
                if kind == "NEW":
                    reports.extend(self._new(command))
                elif kind == "CANCEL":
                    reports.extend(self._cancel(command["client_order_id"]))
                else:
                    log.warning("venue: unknown command %r", command)
            except (KeyError, TypeError, ValueError) as error:
                # A malformed command is dropped with a log line: it cannot be answered.
                log.warning("venue: malformed command %r: %s", command, error)
        reports.extend(self._resting_fills())
        return reports

    # ------------------------------------------------------------------ commands

    def _new(self, command: dict) -> list[dict]:
        coid = command["client_order_id"]
        if not self.memory.set_add(SEEN, coid):
            return []  # a resend: the first one was executed
        symbol, venue, side = command["symbol"], command["venue"], command["side"]
        quantity = float(command["quantity"])
        limit = None if command.get("limit_price") in (None, "") else float(command["limit_price"])
        order = VenueOrder(symbol, venue, side, quantity)
        kind = command.get("child_type")
        try:
            if kind == "MARKET":
                fills = self.sim.execute_market(symbol, venue, side, quantity, limit, order_id=coid)
                self.orders[coid] = order
                reports = [self._report(ACKED, coid, order, suffix="A")]
                reports += [self._fill(coid, order, fill) for fill in fills]
                if order.filled < quantity:
                    reports.append(self._close(coid, order, "immediate-or-cancel: rest not filled"))
                order.closed = True
                return reports
            if kind == "LIMIT":
                if limit is None:
                    raise ValueError("a LIMIT order needs a limit price")
                self.sim.place_limit(coid, symbol, venue, side, quantity, limit)
            elif kind == "DARK":
                self.sim.place_dark(coid, symbol, venue, side, quantity)
            else:
                raise ValueError(f"unknown child type {kind!r}")
        except (KeyError, ValueError) as error:
            return [self._report(REJECTED, coid, order, suffix="R", reason=str(error)[:200])]
        self.orders[coid] = order
        self.memory.set_add(RESTING, coid)
        return [self._report(ACKED, coid, order, suffix="A")]

    def _cancel(self, coid: str) -> list[dict]:
        order = self.orders.get(coid)
        if order is None:
            # Never received (or refused, or lost in a restart): nothing is open, and a late NEW is refused.
            self.memory.set_add(SEEN, coid)
            return [self._report(CANCELLED, coid, VenueOrder("", "", "", 0.0), suffix="X", reason="unknown order")]
        reports = self._resting_fills()  # fills before the cancel, in order
        if not order.closed:
            self.sim.cancel(coid)
            reports.append(self._close(coid, order, "cancelled"))
        elif order.filled < order.quantity:
            # Already closed (an immediate-or-cancel rest): repeat the same report.
            reports.append(self._close(coid, order, "cancelled"))
        return reports

    def _resting_fills(self) -> list[dict]:
        reports = []
        for fill in self.sim.drain_fills():
            order = self.orders.get(fill.order_id or "")
            if order is None:
                continue
            reports.append(self._fill(fill.order_id, order, fill))
            if order.filled >= order.quantity - 1e-12:
                order.closed = True
                self.memory.set_remove(RESTING, fill.order_id)
        return reports

    # ------------------------------------------------------------------ reports

    def _fill(self, coid: str, order: VenueOrder, fill) -> dict:
        order.fills += 1
        order.filled += fill.quantity
        return self._report(
            FILLED,
            coid,
            order,
            suffix=f"F{order.fills}",
            quantity=repr(fill.quantity),
            price=repr(fill.price),
            fee=repr(fill.fee),
            liquidity=fill.liquidity,
        )

    def _close(self, coid: str, order: VenueOrder, reason: str) -> dict:
        order.closed = True
        self.memory.set_remove(RESTING, coid)
        leaves = max(order.quantity - order.filled, 0.0)
        return self._report(CANCELLED, coid, order, suffix="X", quantity=repr(leaves), reason=reason)

    def _report(self, kind: str, coid: str, order: VenueOrder, *, suffix: str, **fields) -> dict:
        return {
            "type": kind,
            "exec_id": f"{coid}:{suffix}",
            "client_order_id": coid,
            "venue": order.venue,
            "symbol": order.symbol,
            "quantity": fields.get("quantity"),
            "price": fields.get("price"),
            "fee": fields.get("fee"),
            "liquidity": fields.get("liquidity", ""),
            "reason": fields.get("reason", ""),
            "ts": self.wall_clock(),
        }
