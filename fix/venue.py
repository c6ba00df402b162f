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

import json
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import quickfix as qf
from django.conf import settings
from django.db import connection

from core.decimals import to_step
from core.streams import COMMANDS, REPORTS, Streams
from ems.gateways.fix import FIX_COMMANDS, FIX_REPORTS
from fix import engine, mapping
from fix import venue_mapping as vm
from rfq.fix_lp import RFQ_FIX_REQUESTS

log = logging.getLogger(__name__)

OUR_COMP_ID, VENUE_COMP_ID, LP_COMP_ID = "SMARTTRADING", "SIMVENUE", "LPFIX"
VENUE_USERNAME = "smarttrading"
QUOTE_REQ_ID, QUOTE_ID, BID_PX, OFFER_PX, BID_SIZE, OFFER_SIZE, VALID_UNTIL = 131, 117, 132, 133, 134, 135, 62
NO_RELATED_SYM, QUOTE_REQUEST_REJECT_REASON, QUOTE_CANCEL_TYPE = 146, 658, 298
QUOTE, QUOTE_CANCEL, QUOTE_REQUEST, QUOTE_REQUEST_REJECT = "S", "Z", "R", "AG"
FIX_TIME = "%Y%m%d-%H:%M:%S.%f"


def _fix_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime(FIX_TIME)[:-3]


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
        self.lp_session_id = qf.SessionID(engine.BEGIN_STRING, OUR_COMP_ID, LP_COMP_ID)
        self.sent: dict[str, dict] = {}  # client order id -> NEW command (a cancel names the order)
        self.quote_ids: dict[str, str] = {}  # QuoteReqID (the invitation's token) -> the LP's last QuoteID
        self.replies: dict[str, str] = {}  # an RFQ execution's ClOrdID -> the key its caller waits on
        self.application = engine.SafeApplication(self)
        config = engine.session_settings(
            connection_type="initiator",
            sessions=[(OUR_COMP_ID, VENUE_COMP_ID), (OUR_COMP_ID, LP_COMP_ID)],
            store_dir=store_dir,
            host=host,
            port=port,
            heartbeat_seconds=settings.FIX_HEARTBEAT_SECONDS,
            without_dictionary=frozenset({LP_COMP_ID}),
        )
        self.initiator = engine.initiator(self.application, config)
        self.loop = _Loop("fix-venue-commands", self.step)
        self.claimed = False

    # engine handler
    def on_create(self, session_id) -> None:
        return None

    def on_logon(self, session_id) -> None:
        log.info("FIX venue session %s logged on", session_id)
        if engine.session_key(session_id) == VENUE_COMP_ID:
            self.logged_on.set()

    def on_logout(self, session_id) -> None:
        log.info("FIX venue session %s logged out", session_id)
        if engine.session_key(session_id) == VENUE_COMP_ID:
            self.logged_on.clear()

    def to_admin(self, msg, session_id) -> None:
        if msg.getHeader().getField(35) == "A":
            msg.setField(mapping.USERNAME, VENUE_USERNAME)
            msg.setField(mapping.PASSWORD, self.password)

    def from_admin(self, fields, session_id) -> None:
        return None

    def from_app(self, fields: dict[int, str], session_id) -> None:
        if engine.session_key(session_id) == LP_COMP_ID:
            try:
                self.from_lp(fields)
            finally:
                connection.close()
            return
        if fields.get(mapping.MSG_TYPE) != mapping.EXECUTION_REPORT:
            return
        report = vm.report_of(fields)
        if report is not None:
            self.streams.publish(FIX_REPORTS, report)

    def _redis(self):
        """Where rfq.fix_lp.FixProvider waits for an execution's answer (a list per ClOrdID)."""
        if getattr(self, "_redis_client", None) is None:
            import redis

            self._redis_client = redis.Redis.from_url(settings.STREAMS_URL or settings.REDIS_URL)
        return self._redis_client

    def from_lp(self, fields: dict[int, str]) -> None:
        """The LP's answers through the RFQ's own services, as a simulated provider's."""
        from rfq import services as rfq_services
        from rfq.models import Invitation

        msg_type = fields.get(mapping.MSG_TYPE)
        if msg_type == mapping.EXECUTION_REPORT:
            reply = self.replies.pop(fields.get(mapping.CL_ORD_ID, ""), None)
            if reply:
                filled = fields.get(mapping.EXEC_TYPE) in ("F", "2") and fields.get(mapping.ORD_STATUS) == "2"
                client = self._redis()
                client.rpush(reply, json.dumps({"filled": filled, "text": fields.get(mapping.TEXT, "")}))
                client.expire(reply, 60)
            return
        token = fields.get(QUOTE_REQ_ID, "")
        invitation = Invitation.objects.filter(token=token).values_list("pk", flat=True).first()
        if invitation is None:
            log.warning("FIX LP answer for an unknown request %r: %s", token, msg_type)
            return
        if msg_type == QUOTE:
            self.quote_ids[token] = fields.get(QUOTE_ID, "")
            bid = Decimal(fields[BID_PX]) if fields.get(BID_PX) else None
            ask = Decimal(fields[OFFER_PX]) if fields.get(OFFER_PX) else None
            size = Decimal(fields.get(OFFER_SIZE) or fields.get(BID_SIZE) or "0")
            validity = 5.0
            if fields.get(VALID_UNTIL):
                until = datetime.strptime(fields[VALID_UNTIL], FIX_TIME).replace(tzinfo=UTC)
                validity = max(0.0, (until - datetime.now(UTC)).total_seconds())
            rfq_services.quote_submit(invitation_id=invitation, bid=bid, ask=ask, size=size, validity_seconds=validity)
        elif msg_type == QUOTE_CANCEL:
            rfq_services.quote_withdraw(invitation_id=invitation)
        elif msg_type == QUOTE_REQUEST_REJECT:
            rfq_services.invitation_pass(invitation_id=invitation)

    # commands
    def step(self) -> None:
        if not self.logged_on.wait(0.5):
            return
        entries = []
        if not self.claimed:  # what this consumer read and never acknowledged before a restart
            entries = self.streams.claim_stale(FIX_COMMANDS, "fixvenue", self.consumer, idle_ms=0, count=500)
            self.claimed = True
        entries += self.streams.read(FIX_COMMANDS, "fixvenue", self.consumer, count=500, block_ms=50)
        for _, command in entries:
            self.send(command)
        if entries:
            self.streams.ack(FIX_COMMANDS, "fixvenue", [entry_id for entry_id, _ in entries])
        requests = self.streams.read(RFQ_FIX_REQUESTS, "fixvenue", self.consumer, count=100, block_ms=50)
        for _, request in requests:
            self.send_rfq(request)
        if requests:
            self.streams.ack(RFQ_FIX_REQUESTS, "fixvenue", [entry_id for entry_id, _ in requests])

    def send_rfq(self, request: dict) -> None:
        """A QuoteRequest (R), or the execution of a quote: NewOrderSingle, OrdType D, QuoteID."""
        side = vm.SIDE_OF.get(request.get("side") or "", "")
        if request["type"] == "R":
            fields = [
                (QUOTE_REQ_ID, request["quote_req_id"]),
                (NO_RELATED_SYM, "1"),
                (mapping.SYMBOL, request["symbol"]),
            ]
            if side:
                fields.append((mapping.SIDE, side))
            fields.append((mapping.ORDER_QTY, request["quantity"]))
            engine.send(self.lp_session_id, QUOTE_REQUEST, fields)
        elif request["type"] == "D":
            self.replies[request["cl_ord_id"]] = request["reply"]
            engine.send(
                self.lp_session_id,
                mapping.NEW_ORDER_SINGLE,
                [
                    (mapping.CL_ORD_ID, request["cl_ord_id"]),
                    (QUOTE_ID, self.quote_ids.get(request["quote_req_id"], "")),
                    (QUOTE_REQ_ID, request["quote_req_id"]),
                    (mapping.SYMBOL, request["symbol"]),
                    (mapping.SIDE, side or "1"),
                    (mapping.ORDER_QTY, request["quantity"]),
                    (mapping.ORD_TYPE, mapping.PREVIOUSLY_QUOTED),
                    (mapping.PRICE, request["price"]),
                ],
            )

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
        self.lp_session_id = qf.SessionID(engine.BEGIN_STRING, LP_COMP_ID, OUR_COMP_ID)
        self.orders: dict[str, _Order] = {}
        self.quotes: dict[str, dict] = {}  # QuoteID -> what the simulated LP quoted
        self.authenticated: set[str] = set()
        self.application = engine.SafeApplication(self)
        config = engine.session_settings(
            connection_type="acceptor",
            sessions=[(VENUE_COMP_ID, OUR_COMP_ID), (LP_COMP_ID, OUR_COMP_ID)],
            store_dir=store_dir,
            port=port,
            heartbeat_seconds=settings.FIX_HEARTBEAT_SECONDS,
            without_dictionary=frozenset({LP_COMP_ID}),
        )
        self.acceptor = engine.acceptor(self.application, config)
        self.loop = _Loop("fix-simulator-reports", self.step)

    def on_create(self, session_id) -> None:
        return None

    def on_logon(self, session_id) -> None:
        if session_id.getSenderCompID().getValue() not in self.authenticated:
            engine.disconnect(session_id)

    def on_logout(self, session_id) -> None:
        self.authenticated.discard(session_id.getSenderCompID().getValue())

    def to_admin(self, msg, session_id) -> None:
        return None

    def from_admin(self, fields: dict[int, str], session_id) -> None:
        if fields.get(mapping.MSG_TYPE) != "A":
            return
        ours = session_id.getSenderCompID().getValue()
        if fields.get(mapping.USERNAME) == VENUE_USERNAME and (
            not self.password or fields.get(mapping.PASSWORD) == self.password
        ):
            self.authenticated.add(ours)
            return
        self.authenticated.discard(ours)
        log.warning("FIX simulator front: logon refused for %s", session_id)
        engine.disconnect(session_id)

    def from_app(self, fields: dict[int, str], session_id) -> None:
        msg_type = fields.get(mapping.MSG_TYPE)
        ours = session_id.getSenderCompID().getValue()
        if ours not in self.authenticated:
            return
        if ours == LP_COMP_ID:
            try:
                self.lp_answer(fields)
            finally:
                connection.close()
            return
        if msg_type not in (mapping.NEW_ORDER_SINGLE, mapping.ORDER_CANCEL):
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

    # ---- the simulated liquidity provider on the LPFIX session

    def lp_answer(self, fields: dict[int, str]) -> None:
        """A QuoteRequest answered with a Quote around the simulator's mid (or a
        QuoteRequestReject above FIX_LP_MAX_NOTIONAL); an execution order filled at the quoted
        price while the quote is valid, else rejected (the provider's last look)."""
        from marketdata.models import Instrument
        from marketdata.selectors import mid_price

        msg_type = fields.get(mapping.MSG_TYPE)
        now = datetime.now(UTC)
        if msg_type == QUOTE_REQUEST:
            token, symbol = fields.get(QUOTE_REQ_ID, ""), fields.get(mapping.SYMBOL, "")
            instrument = Instrument.objects.filter(symbol=symbol).first()
            quantity = Decimal(fields.get(mapping.ORDER_QTY) or "0")
            mid = mid_price(instrument) if instrument else None
            limit = Decimal(str(getattr(settings, "FIX_LP_MAX_NOTIONAL", 5_000_000)))
            if mid is None or quantity <= 0 or quantity * mid > limit:
                engine.send(
                    self.lp_session_id,
                    QUOTE_REQUEST_REJECT,
                    [
                        (QUOTE_REQ_ID, token),
                        (QUOTE_REQUEST_REJECT_REASON, "99" if mid else "1"),
                        (NO_RELATED_SYM, "1"),
                        (mapping.SYMBOL, symbol or "NONE"),
                        (mapping.TEXT, "above the provider's limit" if mid else "unknown symbol"),
                    ],
                )
                return
            spread = Decimal("0.0004")  # 4 bps either side of the mid
            bid = to_step(mid * (1 - spread), instrument.tick_size)
            ask = to_step(mid * (1 + spread), instrument.tick_size)
            if ask <= bid:
                ask = bid + instrument.tick_size
            quote_id = f"{token}-Q{len(self.quotes) + 1}"
            until = now + timedelta(seconds=10)
            self.quotes[quote_id] = {"bid": bid, "ask": ask, "size": quantity, "until": until}
            engine.send(
                self.lp_session_id,
                QUOTE,
                [
                    (QUOTE_REQ_ID, token),
                    (QUOTE_ID, quote_id),
                    (mapping.SYMBOL, symbol),
                    (BID_PX, mapping.number(bid)),
                    (OFFER_PX, mapping.number(ask)),
                    (BID_SIZE, mapping.number(quantity)),
                    (OFFER_SIZE, mapping.number(quantity)),
                    (VALID_UNTIL, _fix_time(until)),
                ],
            )
        elif msg_type == mapping.NEW_ORDER_SINGLE and fields.get(mapping.ORD_TYPE) == mapping.PREVIOUSLY_QUOTED:
            quote = self.quotes.get(fields.get(QUOTE_ID, ""))
            side = fields.get(mapping.SIDE, "1")
            price = Decimal(fields.get(mapping.PRICE) or "0")
            quantity = Decimal(fields.get(mapping.ORDER_QTY) or "0")
            ok = (
                quote is not None
                and now < quote["until"]
                and quantity <= quote["size"]
                and price == (quote["ask"] if side == "1" else quote["bid"])
            )
            common = [
                (mapping.ORDER_ID, fields.get(mapping.CL_ORD_ID, "NONE")),
                (mapping.CL_ORD_ID, fields.get(mapping.CL_ORD_ID, "NONE")),
                (mapping.EXEC_ID, f"{fields.get(mapping.CL_ORD_ID, '')}:{'F' if ok else 'R'}"),
                (mapping.SYMBOL, fields.get(mapping.SYMBOL, "NONE")),
                (mapping.SIDE, side),
                (mapping.ORDER_QTY, mapping.number(quantity)),
                (QUOTE_ID, fields.get(QUOTE_ID, "")),
            ]
            if ok:
                fields_out = common + [
                    (mapping.EXEC_TYPE, "F"),
                    (mapping.ORD_STATUS, "2"),
                    (mapping.LAST_QTY, mapping.number(quantity)),
                    (mapping.LAST_PX, mapping.number(price)),
                    (mapping.LEAVES_QTY, "0"),
                    (mapping.CUM_QTY, mapping.number(quantity)),
                    (mapping.AVG_PX, mapping.number(price)),
                ]
            else:
                fields_out = common + [
                    (mapping.EXEC_TYPE, "8"),
                    (mapping.ORD_STATUS, "8"),
                    (mapping.LEAVES_QTY, "0"),
                    (mapping.CUM_QTY, "0"),
                    (mapping.AVG_PX, "0"),
                    (mapping.TEXT, "quote no longer valid at that price and size"),
                ]
            engine.send(self.lp_session_id, mapping.EXECUTION_REPORT, fields_out)

    def start(self) -> None:
        self.acceptor.start()
        self.loop.start()

    def stop(self) -> None:
        self.loop.stop()
        self.acceptor.stop()
