"""The product as a FIX 4.4 acceptor for clients: a thin edge, like an API view. Each
message is converted to plain data (fix.mapping) and goes to the same OMS services the API
calls (order_submit with compliance and the router's steps, order_cancel, order_amend), as
the session's user, into the session's portfolio. Fills, cancels confirmed by the EMS and
expiries reach the client through the report loop (`OrderEntry.report_once`), which compares
each open FIX order with what its client was last told (FixOrder) and sends the difference.

Sessions come from the console (FixSession) when the acceptor starts; a logon checks the
session is enabled and Username (553) / Password (554) are its user's. Nothing here raises
into the engine (fix.engine.SafeApplication guards every callback); a refusal is a message."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime

import quickfix as qf
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.roles import PM, role_of
from core.errors import Conflict, IllegalTransition
from fix import engine, mapping
from fix.models import FixClOrdId, FixOrder, FixSession
from marketdata.models import Instrument
from oms import services
from oms.api.inputs import precision_errors
from oms.domain import compliance
from oms.models import Order

log = logging.getLogger(__name__)

_exec_ids = itertools.count(1)


def _exec_id(prefix: str) -> str:
    return f"{prefix}{time.time_ns():x}{next(_exec_ids)}"


def _send(session_id, msg_type: str, fields: mapping.Fields) -> None:
    """Send once the surrounding transaction commits (now, outside one): a client that reads
    the OMS after a report finds what the report said."""
    transaction.on_commit(lambda: engine.send(session_id, msg_type, fields), robust=True)


def snapshot(order: Order) -> mapping.Snapshot:
    return mapping.Snapshot(
        order_id=order.pk,
        symbol=order.instrument.symbol,
        side=order.side,
        quantity=order.quantity,
        limit_price=order.limit_price,
        status=order.status,
        cum_qty=order.filled_quantity,
        avg_px=order.average_fill_price,
    )


def reported_of(row: FixOrder) -> mapping.Reported:
    return mapping.Reported(
        cl_ord_id=row.cl_ord_id,
        status=row.reported_status,
        cum_qty=row.reported_cum_qty,
        avg_px=row.reported_avg_px,
        quantity=row.reported_quantity,
        limit_price=row.reported_limit_price,
        last_fill_row_id=row.reported_fill_row_id,
        pending_cl_ord_id=row.pending_cl_ord_id,
        pending_orig_cl_ord_id=row.pending_orig_cl_ord_id,
    )


def _store_reported(row: FixOrder, reported: mapping.Reported, *, at: datetime, hidden: bool = False) -> None:
    row.cl_ord_id = reported.cl_ord_id
    row.reported_status = reported.status
    row.reported_cum_qty = reported.cum_qty
    row.reported_avg_px = reported.avg_px
    row.reported_quantity = reported.quantity
    row.reported_limit_price = reported.limit_price
    row.reported_fill_row_id = reported.last_fill_row_id
    row.pending_cl_ord_id = reported.pending_cl_ord_id
    row.pending_orig_cl_ord_id = reported.pending_orig_cl_ord_id
    done = reported.status in mapping.TERMINAL and not reported.pending_cl_ord_id
    row.done = done or hidden
    # The order's own stamp of the version reported (never our clock): a change committed
    # after it was read has a later updated_at (the order's row lock orders them), so the
    # report loop's `order__updated_at > reported_at` sees it.
    row.reported_at = at
    row.save()


@dataclass
class SessionState:
    config: FixSession
    session_id: qf.SessionID
    authenticated: bool = False
    refused_seqs: tuple[int, int] | None = None  # (sender, target) before a refused logon
    messages: int = 0
    last_message_at: datetime | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class OrderEntry:
    """The engine handler of the client acceptor (fix.engine.Handler)."""

    def __init__(self, sessions: list[FixSession]):
        self.sessions: dict[str, SessionState] = {}
        for config in sessions:
            sid = qf.SessionID(engine.BEGIN_STRING, config.target_comp_id, config.sender_comp_id)
            self.sessions[config.sender_comp_id] = SessionState(config=config, session_id=sid)
        self.on_accepted = _on_accepted_steps()

    # ------------------------------------------------------------------ session layer

    def _state(self, session_id) -> SessionState | None:
        return self.sessions.get(engine.session_key(session_id))

    def _count(self, state: SessionState) -> None:
        with state.lock:
            state.messages += 1
            state.last_message_at = timezone.now()

    def on_create(self, session_id) -> None:
        log.info("FIX session %s created", session_id)

    def on_logon(self, session_id) -> None:
        state = self._state(session_id)
        if state is None or not state.authenticated:
            # The engine goes on with a logon we refused (disconnected) in fromAdmin: it counts
            # the client's Logon and its own answer. Put the sequence numbers back as they were
            # before the refused logon, so the session's real client is not told it is out of step.
            session = qf.Session.lookupSession(session_id)
            if state is not None and state.refused_seqs and session is not None:
                sender, target = state.refused_seqs
                session.setNextSenderMsgSeqNum(sender)
                session.setNextTargetMsgSeqNum(target)
                state.refused_seqs = None
            engine.disconnect(session_id)
            return
        log.info("FIX session %s logged on", session_id)

    def on_logout(self, session_id) -> None:
        state = self._state(session_id)
        if state is not None:
            state.authenticated = False
        log.info("FIX session %s logged out", session_id)
        close_old_connections()

    def to_admin(self, msg, session_id) -> None:
        return None

    def from_admin(self, fields: dict[int, str], session_id) -> None:
        state = self._state(session_id)
        if state is None:
            return
        self._count(state)
        if fields.get(mapping.MSG_TYPE) != "A":
            return
        refusal = self._logon_refusal(state, fields)
        if refusal:
            state.authenticated = False
            log.warning("FIX logon refused for %s: %s", session_id, refusal)
            session = qf.Session.lookupSession(session_id)
            if session is not None:
                state.refused_seqs = (session.getExpectedSenderNum(), session.getExpectedTargetNum())
            engine.disconnect(session_id)
            return
        state.authenticated = True

    def _logon_refusal(self, state: SessionState, fields: dict[int, str]) -> str:
        try:
            return self._check_logon(state, fields)
        finally:
            connection.close()

    def _check_logon(self, state: SessionState, fields: dict[int, str]) -> str:
        config = FixSession.objects.select_related("user", "portfolio").filter(pk=state.config.pk).first()
        if config is None or not config.enabled:
            return "session disabled"
        user = config.user
        username, password = fields.get(mapping.USERNAME, ""), fields.get(mapping.PASSWORD, "")
        if username != user.username or not user.is_active or not user.check_password(password):
            return "wrong username or password"
        state.config = config
        return ""

    # ------------------------------------------------------------------ application messages

    def from_app(self, fields: dict[int, str], session_id) -> None:
        state = self._state(session_id)
        if state is None:
            return
        self._count(state)
        if not state.authenticated:
            engine.disconnect(session_id)
            return
        try:
            self._dispatch(state, fields, session_id)
        finally:
            connection.close()  # back to the pool: the engine thread holds none between messages

    def _dispatch(self, state: SessionState, fields: dict[int, str], session_id) -> None:
        msg_type = fields.get(mapping.MSG_TYPE)
        handler = {
            mapping.NEW_ORDER_SINGLE: self.new_order,
            mapping.ORDER_CANCEL: self.cancel,
            mapping.ORDER_REPLACE: self.replace,
        }.get(msg_type)
        if handler is None:
            engine.send(
                session_id,
                mapping.BUSINESS_MESSAGE_REJECT,
                mapping.business_reject(
                    ref_seq_num=fields.get(mapping.MSG_SEQ_NUM, ""),
                    ref_msg_type=msg_type or "",
                    text=f"message type {msg_type} is not supported on this session",
                    reason="3",
                ),
            )
            return
        handler(state, fields)

    def _reject_new(self, state: SessionState, fields: dict[int, str], text: str, reason: str) -> None:
        engine.send(
            state.session_id,
            mapping.EXECUTION_REPORT,
            mapping.rejected_new_order(fields, exec_id=_exec_id("R"), text=text, reason=reason),
        )

    def _seen(self, state: SessionState, cl_ord_id: str) -> FixClOrdId | None:
        return FixClOrdId.objects.filter(session=state.config, cl_ord_id=cl_ord_id).first()

    def new_order(self, state: SessionState, fields: dict[int, str]) -> None:
        config = state.config
        try:
            request = mapping.new_order(fields)
        except mapping.Refused as refused:
            self._reject_new(state, fields, refused.text, refused.reason)
            return
        if self._seen(state, request.cl_ord_id):
            if mapping.is_poss_dup(fields):
                log.info("FIX %s: PossDup NewOrderSingle %s already taken", config, request.cl_ord_id)
                return
            self._reject_new(state, fields, f"duplicate ClOrdID {request.cl_ord_id}", mapping.REJ_DUPLICATE)
            return
        if role_of(config.user) != PM or config.portfolio.owner_id != config.user_id:
            self._reject_new(state, fields, "this user's role may not enter orders in this portfolio", "99")
            return
        instrument = Instrument.objects.filter(symbol=request.symbol).first()
        if instrument is None:
            self._reject_new(state, fields, f"unknown symbol {request.symbol}", mapping.REJ_UNKNOWN_SYMBOL)
            return
        errors = precision_errors(instrument, quantity=request.quantity, limit_price=request.limit_price)
        if errors:
            self._reject_new(state, fields, " ".join(m for ms in errors.values() for m in ms), mapping.REJ_OTHER)
            return
        try:
            with transaction.atomic():
                order = services.order_submit(
                    actor=config.user,
                    portfolio=config.portfolio,
                    instrument=instrument,
                    side=request.side,
                    quantity=request.quantity,
                    limit_price=request.limit_price,
                    client_order_id=f"{config.sender_comp_id}:{request.cl_ord_id}"[:64],
                    on_accepted=self.on_accepted,
                )
                FixClOrdId.objects.create(
                    session=config, cl_ord_id=request.cl_ord_id, msg_type=mapping.NEW_ORDER_SINGLE, order=order
                )
                snap = snapshot(order)
                reported = mapping.reported_now(snap, cl_ord_id=request.cl_ord_id)
                row = FixOrder(session=config, order=order)
                # Hidden from the report loop (done) until the New is out, so the client hears
                # New (or Rejected) first, once the order is committed, and then its fills.
                _store_reported(row, reported, at=order.updated_at, hidden=True)
            if order.status == "REJECTED":
                text = "; ".join(r.get("message", "") for r in order.rejection_reasons) or "rejected"
                er = mapping.execution_report(
                    snap,
                    cl_ord_id=request.cl_ord_id,
                    exec_id=f"{order.pk}-N",
                    exec_type=mapping.EXEC_REJECTED,
                    text=text,
                    rej_reason=mapping.REJ_EXCEEDS_LIMIT,
                )
            else:
                er = mapping.execution_report(
                    snap, cl_ord_id=request.cl_ord_id, exec_id=f"{order.pk}-N", exec_type=mapping.EXEC_NEW
                )
            _send(state.session_id, mapping.EXECUTION_REPORT, er)
            if order.status not in mapping.TERMINAL:
                FixOrder.objects.filter(pk=row.pk).update(done=False)
        except compliance.ConfirmationRequired as exc:
            self._reject_new(state, fields, f"needs a confirmation FIX cannot give: {exc}", mapping.REJ_EXCEEDS_LIMIT)
        except Conflict as exc:
            self._reject_new(state, fields, str(exc), mapping.REJ_OTHER)

    def _cancel_reject(self, state, *, cl_ord_id, orig, order_id, ord_status, response_to, reason, text) -> None:
        engine.send(
            state.session_id,
            mapping.CANCEL_REJECT,
            mapping.cancel_reject(
                cl_ord_id=cl_ord_id,
                orig_cl_ord_id=orig,
                order_id=order_id,
                ord_status=ord_status,
                response_to=response_to,
                reason=reason,
                text=text,
            ),
        )

    def _target(self, state: SessionState, fields: dict[int, str], parse, response_to: str):
        """The request and the locked FixOrder it is about, or None after answering with an OrderCancelReject."""
        cl = fields.get(mapping.CL_ORD_ID, "")
        orig = fields.get(mapping.ORIG_CL_ORD_ID, "")
        try:
            request = parse(fields)
        except mapping.Refused as refused:
            self._cancel_reject(
                state,
                cl_ord_id=cl,
                orig=orig,
                order_id="NONE",
                ord_status="8",
                response_to=response_to,
                reason=mapping.CXL_OTHER,
                text=refused.text,
            )
            return None
        seen = self._seen(state, request.cl_ord_id)
        if seen is not None:
            if not mapping.is_poss_dup(fields):
                row = FixOrder.objects.filter(order_id=seen.order_id).select_related("order").first()
                self._cancel_reject(
                    state,
                    cl_ord_id=request.cl_ord_id,
                    orig=request.orig_cl_ord_id,
                    order_id=str(seen.order_id or "NONE"),
                    ord_status=mapping.ORD_STATUS_OF[row.order.status] if row else "8",
                    response_to=response_to,
                    reason=mapping.CXL_OTHER,
                    text=f"duplicate ClOrdID {request.cl_ord_id}",
                )
            return None
        original = self._seen(state, request.orig_cl_ord_id)
        row = None
        if original is not None and original.order_id is not None:
            row = FixOrder.objects.select_for_update().filter(order_id=original.order_id).first()
        if row is None:
            self._cancel_reject(
                state,
                cl_ord_id=request.cl_ord_id,
                orig=request.orig_cl_ord_id,
                order_id="NONE",
                ord_status="8",
                response_to=response_to,
                reason=mapping.CXL_UNKNOWN_ORDER,
                text=f"unknown order {request.orig_cl_ord_id}",
            )
            return None
        return request, row

    def cancel(self, state: SessionState, fields: dict[int, str]) -> None:
        with transaction.atomic():
            found = self._target(state, fields, mapping.cancel_request, mapping.CXL_RESPONSE_CANCEL)
            if found is None:
                return
            request, row = found
            self._flush(state, row)  # fills not yet reported go first
            order = row.order
            FixClOrdId.objects.create(
                session=state.config, cl_ord_id=request.cl_ord_id, msg_type=mapping.ORDER_CANCEL, order=order
            )
            if not order.is_cancellable or row.pending_cl_ord_id:
                self._cancel_reject(
                    state,
                    cl_ord_id=request.cl_ord_id,
                    orig=request.orig_cl_ord_id,
                    order_id=str(order.pk),
                    ord_status=mapping.ORD_STATUS_OF[order.status],
                    response_to=mapping.CXL_RESPONSE_CANCEL,
                    reason=mapping.CXL_TOO_LATE,
                    text=f"order is {order.status.lower().replace('_', ' ')}",
                )
                return
            try:
                order = services.order_cancel(actor=state.config.user, order_id=order.pk, reason="FIX cancel request")
            except (Conflict, IllegalTransition) as exc:
                self._cancel_reject(
                    state,
                    cl_ord_id=request.cl_ord_id,
                    orig=request.orig_cl_ord_id,
                    order_id=str(order.pk),
                    ord_status=mapping.ORD_STATUS_OF[order.status],
                    response_to=mapping.CXL_RESPONSE_CANCEL,
                    reason=mapping.CXL_TOO_LATE,
                    text=str(exc),
                )
                return
            reported = replace(
                reported_of(row), pending_cl_ord_id=request.cl_ord_id, pending_orig_cl_ord_id=request.orig_cl_ord_id
            )
            row.order = order
            self._send_due(state, row, reported, order, fills=[])

    def replace(self, state: SessionState, fields: dict[int, str]) -> None:
        with transaction.atomic():
            found = self._target(state, fields, mapping.replace_request, mapping.CXL_RESPONSE_REPLACE)
            if found is None:
                return
            request, row = found
            self._flush(state, row)
            order = row.order
            FixClOrdId.objects.create(
                session=state.config, cl_ord_id=request.cl_ord_id, msg_type=mapping.ORDER_REPLACE, order=order
            )

            def refuse(text: str, reason: str = mapping.CXL_OTHER) -> None:
                self._cancel_reject(
                    state,
                    cl_ord_id=request.cl_ord_id,
                    orig=request.orig_cl_ord_id,
                    order_id=str(order.pk),
                    ord_status=mapping.ORD_STATUS_OF[order.status],
                    response_to=mapping.CXL_RESPONSE_REPLACE,
                    reason=reason,
                    text=text,
                )

            if not order.is_open or row.pending_cl_ord_id:
                refuse(f"order is {order.status.lower().replace('_', ' ')}", mapping.CXL_TOO_LATE)
                return
            errors = precision_errors(order.instrument, quantity=request.quantity, limit_price=request.limit_price)
            if errors:
                refuse(" ".join(m for ms in errors.values() for m in ms))
                return
            try:
                with transaction.atomic():
                    result = services.order_amend(
                        actor=state.config.user,
                        order_id=order.pk,
                        quantity=request.quantity,
                        limit_price=request.limit_price,
                    )
            except compliance.ConfirmationRequired as exc:
                refuse(f"needs a confirmation FIX cannot give: {exc}")
                return
            except (Conflict, IllegalTransition) as exc:
                refuse(str(exc), mapping.CXL_TOO_LATE)
                return
            if result.refusals:
                refuse("; ".join(b.message for b in result.refusals))
                return
            order = result.order
            snap = snapshot(order)
            _send(
                state.session_id,
                mapping.EXECUTION_REPORT,
                mapping.execution_report(
                    snap,
                    cl_ord_id=request.cl_ord_id,
                    orig_cl_ord_id=request.orig_cl_ord_id,
                    exec_id=_exec_id(f"{order.pk}-R"),
                    exec_type=mapping.EXEC_REPLACED,
                ),
            )
            reported = replace(
                reported_of(row),
                cl_ord_id=request.cl_ord_id,
                quantity=snap.quantity,
                limit_price=snap.limit_price,
                status=snap.status,
            )
            _store_reported(row, reported, at=order.updated_at)

    # ------------------------------------------------------------------ reports

    def _send_due(self, state: SessionState, row: FixOrder, reported: mapping.Reported, order: Order, fills) -> None:
        due = mapping.reports_due(reported, snapshot(order), fills, exec_id_prefix=str(order.pk))
        for msg_type, fields in due.messages:
            _send(state.session_id, msg_type, fields)
        _store_reported(row, due.reported, at=order.updated_at)

    def _flush(self, state: SessionState, row: FixOrder) -> None:
        """Bring the client up to date on one locked FixOrder."""
        order = Order.objects.select_related("instrument").get(pk=row.order_id)
        row.order = order
        fills = [
            mapping.Fill(f.pk, f.fill_id, f.quantity, f.price)
            for f in order.fills.filter(pk__gt=row.reported_fill_row_id, refused_reason="").order_by("pk")
        ]
        self._send_due(state, row, reported_of(row), order, fills)

    def report_once(self, limit: int = 500) -> int:
        """One pass of the report loop: every open FIX order changed since it was last
        reported, each under its row lock (a handler answering a cancel holds the same lock)."""
        sent = 0
        by_pk = {s.config.pk: s for s in self.sessions.values()}
        with transaction.atomic():
            rows = list(
                FixOrder.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(done=False, session_id__in=list(by_pk), order__updated_at__gt=F("reported_at"))
                .order_by("id")[:limit]
            )
            for row in rows:
                self._flush(by_pk[row.session_id], row)
                sent += 1
        return sent

    def refresh_sessions(self) -> None:
        """The console's columns from the engine; a session disabled in the console is logged out."""
        today = timezone.localdate()
        for state in self.sessions.values():
            session = qf.Session.lookupSession(state.session_id)
            if session is None:
                continue
            enabled = FixSession.objects.filter(pk=state.config.pk).values_list("enabled", flat=True).first()
            if not enabled and session.isLoggedOn():
                log.warning("FIX session %s disabled in the console: logging out", state.session_id)
                state.authenticated = False
                session.logout("session disabled")
            with state.lock:
                count, state.messages = state.messages, 0
                last = state.last_message_at
            updates = {
                "logged_on": bool(session.isLoggedOn() and state.authenticated),
                "next_sender_seq": session.getExpectedSenderNum(),
                "next_target_seq": session.getExpectedTargetNum(),
            }
            if last is not None:
                updates["last_message_at"] = last
            FixSession.objects.filter(pk=state.config.pk, messages_day=today).update(
                messages_today=F("messages_today") + count, **updates
            ) or FixSession.objects.filter(pk=state.config.pk).update(
                messages_day=today, messages_today=count, **updates
            )


def _on_accepted_steps() -> tuple:
    """The steps the API adds to an accepted order (the router's decision): the same here."""
    from oms.api.views import OrderViewSet
    from sor.api import views as _sor_views  # noqa: F401 - registers the router's step

    return tuple(OrderViewSet.on_accepted)


class ClientAcceptor:
    """The acceptor and its report loop, started and stopped together (`run_fix`, or `serve`
    in the embedded mode)."""

    def __init__(self, *, port: int | None = None, store_dir: str | None = None):
        self.port = port or settings.FIX_PORT
        self.store_dir = store_dir or settings.FIX_STORE_DIR
        self.sessions = list(FixSession.objects.select_related("user", "portfolio"))
        self.entry = OrderEntry(self.sessions)
        self.application = engine.SafeApplication(self.entry)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._acceptor = None

    def start(self) -> None:
        pairs = [(s.target_comp_id, s.sender_comp_id) for s in self.sessions]
        if not pairs:
            log.warning("no FIX sessions configured: the acceptor is not started")
            return
        config = engine.session_settings(
            connection_type="acceptor",
            sessions=pairs,
            store_dir=self.store_dir,
            port=self.port,
            heartbeat_seconds=settings.FIX_HEARTBEAT_SECONDS,
        )
        self._acceptor = engine.acceptor(self.application, config)
        self._acceptor.start()
        log.info("FIX acceptor on port %s (every interface), sessions %s", self.port, [s for _, s in pairs])
        self._thread = threading.Thread(target=self._loop, name="fix-reports", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        # Every pass reads the open FIX orders: at FIX_REPORT_POLL_SECONDS while reports flow,
        # backing off to FIX_REPORT_IDLE_SECONDS when nothing changed (an idle desk costs little).
        base, idle = settings.FIX_REPORT_POLL_SECONDS, max(settings.FIX_REPORT_IDLE_SECONDS, 0.0)
        interval = base
        last_refresh = 0.0
        while not self._stop.is_set():
            try:
                sent = self.entry.report_once()
                if time.monotonic() - last_refresh >= 1.0:
                    self.entry.refresh_sessions()
                    last_refresh = time.monotonic()
            except Exception:
                log.exception("FIX report loop pass failed")
                sent = 0
                connection.close()
            if sent:
                interval = base
            else:
                self._stop.wait(interval)
                interval = min(max(interval * 2, base), max(idle, base))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._acceptor is not None:
            self._acceptor.stop()


__all__ = ["ClientAcceptor", "OrderEntry"]
