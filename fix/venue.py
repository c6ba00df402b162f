"""Venues over FIX: both ends of the session between the EMS and the simulator.

- `VenueConnector` (`manage.py run_fix_venue`): the EMS's FIX initiator. It reads the
  commands the EMS's FixGateway (ems.gateways.fix) publishes, sends each as a NewOrderSingle
  or OrderCancelRequest, and publishes each ExecutionReport it receives as the report dict
  the EMS applies (by ExecID: once, a PossDup resend included).
- `SimulatorFront` (`manage.py run_fix_simulator`): the simulator's FIX acceptor. It turns
  the orders it receives into the venue's commands (the one simulator, in `run_marketdata`,
  executes them as it executes every venue command) and the venue's reports into
  ExecutionReports.

Both on QuickFIX with a persisted store; every callback guarded (fix.engine)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import quickfix as qf
from django.conf import settings

from core.streams import COMMANDS, REPORTS, Streams
from ems.gateways.fix import FIX_COMMANDS, FIX_REPORTS
from fix import engine, mapping
from fix import venue_mapping as vm

log = logging.getLogger(__name__)

OUR_COMP_ID, VENUE_COMP_ID = "SMARTTRADING", "SIMVENUE"
VENUE_USERNAME = "smarttrading"


class _Loop:
    """A daemon thread running `step` until stopped; a failed step is logged, never fatal."""

    def __init__(self, name: str, step):
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.step = step

    def _run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.step()
            except Exception:
                log.exception("%s step failed", self.thread.name)
                self.stop_event.wait(1.0)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=10)


class VenueConnector:
    """The engine handler of the EMS's session to the venue, and its command loop."""

    def __init__(self, streams: Streams, *, host: str, port: int, password: str, store_dir: str, consumer="fixvenue-1"):
        self.streams, self.password, self.consumer = streams, password, consumer
        self.logged_on = threading.Event()
        self.session_id = qf.SessionID(engine.BEGIN_STRING, OUR_COMP_ID, VENUE_COMP_ID)
        self.sent: dict[str, dict] = {}  # client order id -> NEW command (a cancel names the order)
        self.application = engine.SafeApplication(self)
        config = engine.session_settings(
            connection_type="initiator",
            sessions=[(OUR_COMP_ID, VENUE_COMP_ID)],
            store_dir=store_dir,
            host=host,
            port=port,
            heartbeat_seconds=settings.FIX_HEARTBEAT_SECONDS,
        )
        self.initiator = engine.initiator(self.application, config)
        self.loop = _Loop("fix-venue-commands", self.step)
        self.claimed = False

    # engine handler
    def on_create(self, session_id) -> None:
        return None

    def on_logon(self, session_id) -> None:
        log.info("FIX venue session %s logged on", session_id)
        self.logged_on.set()

    def on_logout(self, session_id) -> None:
        log.info("FIX venue session %s logged out", session_id)
        self.logged_on.clear()

    def to_admin(self, msg, session_id) -> None:
        if msg.getHeader().getField(35) == "A":
            msg.setField(mapping.USERNAME, VENUE_USERNAME)
            msg.setField(mapping.PASSWORD, self.password)

    def from_admin(self, fields, session_id) -> None:
        return None

    def from_app(self, fields: dict[int, str], session_id) -> None:
        if fields.get(mapping.MSG_TYPE) != mapping.EXECUTION_REPORT:
            return
        report = vm.report_of(fields)
        if report is not None:
            self.streams.publish(FIX_REPORTS, report)

    # commands
    def step(self) -> None:
        if not self.logged_on.wait(0.5):
            return
        entries = []
        if not self.claimed:  # what this consumer read and never acknowledged before a restart
            entries = self.streams.claim_stale(FIX_COMMANDS, "fixvenue", self.consumer, idle_ms=0, count=500)
            self.claimed = True
        entries += self.streams.read(FIX_COMMANDS, "fixvenue", self.consumer, count=500, block_ms=100)
        for _, command in entries:
            self.send(command)
        if entries:
            self.streams.ack(FIX_COMMANDS, "fixvenue", [entry_id for entry_id, _ in entries])

    def send(self, command: dict) -> None:
        if command.get("type") == "NEW":
            self.sent[command["client_order_id"]] = command
            engine.send(self.session_id, mapping.NEW_ORDER_SINGLE, vm.new_order_fields(command))
        elif command.get("type") == "CANCEL":
            original = self.sent.get(command["client_order_id"], {})
            engine.send(
                self.session_id,
                mapping.ORDER_CANCEL,
                vm.cancel_fields(
                    command,
                    symbol=original.get("symbol", ""),
                    side=original.get("side", "BUY"),
                    quantity=str(original.get("quantity", "0")),
                ),
            )

    def start(self) -> None:
        self.initiator.start()
        self.loop.start()

    def stop(self) -> None:
        self.loop.stop()
        self.initiator.stop()


@dataclass
class _Order:
    side: str
    quantity: float
    cum: float = 0.0
    notional: float = 0.0


class SimulatorFront:
    """The engine handler of the simulator's FIX acceptor, and its report loop."""

    def __init__(self, streams: Streams, *, port: int, password: str, store_dir: str, consumer="fixfront-1"):
        self.streams, self.password, self.consumer, self.port = streams, password, consumer, port
        self.session_id = qf.SessionID(engine.BEGIN_STRING, VENUE_COMP_ID, OUR_COMP_ID)
        self.orders: dict[str, _Order] = {}
        self.authenticated = False
        self.application = engine.SafeApplication(self)
        config = engine.session_settings(
            connection_type="acceptor",
            sessions=[(VENUE_COMP_ID, OUR_COMP_ID)],
            store_dir=store_dir,
            port=port,
            heartbeat_seconds=settings.FIX_HEARTBEAT_SECONDS,
        )
        self.acceptor = engine.acceptor(self.application, config)
        self.loop = _Loop("fix-simulator-reports", self.step)

    def on_create(self, session_id) -> None:
        return None

    def on_logon(self, session_id) -> None:
        if not self.authenticated:
            engine.disconnect(session_id)

    def on_logout(self, session_id) -> None:
        self.authenticated = False

    def to_admin(self, msg, session_id) -> None:
        return None

    def from_admin(self, fields: dict[int, str], session_id) -> None:
        if fields.get(mapping.MSG_TYPE) != "A":
            return
        self.authenticated = fields.get(mapping.USERNAME) == VENUE_USERNAME and (
            not self.password or fields.get(mapping.PASSWORD) == self.password
        )
        if not self.authenticated:
            log.warning("FIX simulator front: logon refused for %s", session_id)
            engine.disconnect(session_id)

    def from_app(self, fields: dict[int, str], session_id) -> None:
        msg_type = fields.get(mapping.MSG_TYPE)
        if not self.authenticated or msg_type not in (mapping.NEW_ORDER_SINGLE, mapping.ORDER_CANCEL):
            return
        command = vm.command_of(msg_type, fields)
        if command["type"] == "NEW":
            self.orders.setdefault(command["client_order_id"], _Order(command["side"], float(command["quantity"])))
        # A PossDup resend is passed on as it is: the venue refuses a client order id it has seen.
        self.streams.publish(COMMANDS, command)

    def step(self) -> None:
        entries = self.streams.read(REPORTS, "fixfront", self.consumer, count=500, block_ms=100)
        for _, report in entries:
            self.send(report)
        if entries:
            self.streams.ack(REPORTS, "fixfront", [entry_id for entry_id, _ in entries])

    def send(self, report: dict) -> None:
        order = self.orders.get(report.get("client_order_id", ""))
        if order is None:
            order = _Order("BUY", 0.0)
        if report["type"] == "FILLED":
            quantity, price = float(report["quantity"]), float(report["price"])
            order.cum += quantity
            order.notional += quantity * price
        done = report["type"] in ("CANCELLED", "REJECTED") or order.cum >= order.quantity - 1e-12
        fields = vm.report_fields(
            report,
            side=order.side,
            order_qty=repr(order.quantity),
            cum_qty=repr(order.cum),
            avg_px=repr(order.notional / order.cum) if order.cum else "0",
            leaves="0" if done else repr(max(order.quantity - order.cum, 0.0)),
        )
        engine.send(self.session_id, mapping.EXECUTION_REPORT, fields)

    def start(self) -> None:
        self.acceptor.start()
        self.loop.start()

    def stop(self) -> None:
        self.loop.stop()
        self.acceptor.stop()
