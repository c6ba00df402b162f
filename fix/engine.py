"""QuickFIX, the engine that owns the session layer (logon, heartbeats, test requests,
sequence numbers, resend requests and gap fill, the persisted message store), and the one
wrapper every callback goes through.

The engine is `quickfix-ssl` (QuickFIX 1.15.1, a prebuilt wheel: `make install` takes seconds;
the official `quickfix` 1.16 compiles for ~8 minutes). In that build a Python exception escaping
a callback terminates the process, `RejectLogon` and `IncorrectTagValue` included. So no
callback here ever raises: `SafeApplication` catches everything, logs it with the message,
and answers with a message instead (a BusinessMessageReject for an application message, a
closed connection for a logon), and a logon is refused by disconnecting from `fromAdmin`.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Protocol

import quickfix as qf

from fix import mapping

log = logging.getLogger(__name__)

BEGIN_STRING = "FIX.4.4"
SOH = "\x01"
SPEC = Path(__file__).resolve().parent / "spec" / "FIX44.xml"


def fields_of(message: qf.Message) -> dict[int, str]:
    """A message as {tag: value} (header, body and trailer; a repeating group's last entry)."""
    out: dict[int, str] = {}
    for part in message.toString().split(SOH):
        tag, sep, value = part.partition("=")
        if sep and tag.isdigit():
            out[int(tag)] = value
    return out


def message(msg_type: str, fields: mapping.Fields) -> qf.Message:
    msg = qf.Message()
    header = msg.getHeader()
    header.setField(qf.BeginString(BEGIN_STRING))
    header.setField(qf.MsgType(msg_type))
    for tag, value in fields:
        msg.setField(tag, value)
    if msg_type in (mapping.EXECUTION_REPORT, mapping.NEW_ORDER_SINGLE):
        msg.setField(qf.TransactTime())
    return msg


def send(session_id: qf.SessionID, msg_type: str, fields: mapping.Fields) -> bool:
    """Send (or, logged off, store for the resend the client will ask for on its next logon)."""
    return qf.Session.sendToTarget(message(msg_type, fields), session_id)


def session_key(session_id: qf.SessionID) -> str:
    """The counterparty's CompID: our sessions are keyed by it."""
    return session_id.getTargetCompID().getValue()


class Handler(Protocol):
    def on_create(self, session_id: qf.SessionID) -> None: ...
    def on_logon(self, session_id: qf.SessionID) -> None: ...
    def on_logout(self, session_id: qf.SessionID) -> None: ...
    def to_admin(self, msg: qf.Message, session_id: qf.SessionID) -> None: ...
    def from_admin(self, fields: dict[int, str], session_id: qf.SessionID) -> None: ...
    def from_app(self, fields: dict[int, str], session_id: qf.SessionID) -> None: ...


class SafeApplication(qf.Application):
    """The QuickFIX Application of every FIX process: each callback converts the message to
    plain data and calls the handler, inside one guard. Nothing escapes to the engine."""

    def __init__(self, handler: Handler):
        super().__init__()
        self.handler = handler
        self.errors = 0
        self._lock = threading.Lock()

    def _failed(self, where: str, session_id, msg: qf.Message | None) -> None:
        with self._lock:
            self.errors += 1
        text = msg.toString().replace(SOH, "|") if msg is not None else ""
        log.exception("FIX %s failed for %s: %s", where, session_id, text[:2000])

    def onCreate(self, sessionID):  # noqa: N802, N803 (QuickFIX's names)
        try:
            self.handler.on_create(sessionID)
        except Exception:  # noqa: BLE001 - an escaping exception would end the process
            self._failed("onCreate", sessionID, None)

    def onLogon(self, sessionID):  # noqa: N802, N803
        try:
            self.handler.on_logon(sessionID)
        except Exception:  # noqa: BLE001
            self._failed("onLogon", sessionID, None)

    def onLogout(self, sessionID):  # noqa: N802, N803
        try:
            self.handler.on_logout(sessionID)
        except Exception:  # noqa: BLE001
            self._failed("onLogout", sessionID, None)

    def toAdmin(self, message, sessionID):  # noqa: N802, N803
        try:
            self.handler.to_admin(message, sessionID)
        except Exception:  # noqa: BLE001
            self._failed("toAdmin", sessionID, message)

    def toApp(self, message, sessionID):  # noqa: N802, N803
        return None

    def fromAdmin(self, message, sessionID):  # noqa: N802, N803
        try:
            self.handler.from_admin(fields_of(message), sessionID)
        except Exception:  # noqa: BLE001
            self._failed("fromAdmin", sessionID, message)
            # A logon we could not check is not a logon.
            if message.getHeader().getField(35) == "A":
                disconnect(sessionID)

    def fromApp(self, message, sessionID):  # noqa: N802, N803
        fields = None
        try:
            fields = fields_of(message)
            self.handler.from_app(fields, sessionID)
        except Exception:  # noqa: BLE001
            self._failed("fromApp", sessionID, message)
            fields = fields or {}
            try:
                send(
                    sessionID,
                    mapping.BUSINESS_MESSAGE_REJECT,
                    mapping.business_reject(
                        ref_seq_num=fields.get(mapping.MSG_SEQ_NUM, ""),
                        ref_msg_type=fields.get(mapping.MSG_TYPE, ""),
                        text="internal error processing the message; it was not applied",
                    ),
                )
            except Exception:  # noqa: BLE001
                self._failed("fromApp reject", sessionID, message)


def disconnect(session_id: qf.SessionID) -> None:
    session = qf.Session.lookupSession(session_id)
    if session is not None:
        session.disconnect()


def logout(session_id: qf.SessionID, reason: str) -> None:
    session = qf.Session.lookupSession(session_id)
    if session is not None and session.isLoggedOn():
        session.logout(reason)


def session_settings(
    *,
    connection_type: str,
    sessions: list[tuple[str, str]],
    store_dir: str,
    port: int,
    host: str = "127.0.0.1",
    heartbeat_seconds: int = 30,
    without_dictionary: frozenset[str] = frozenset(),
) -> qf.SessionSettings:
    """Sessions (SenderCompID, TargetCompID) as we are the sender, 24-hour, FIX 4.4 with the
    data dictionary validating every message (a malformed one gets a session-level Reject),
    the store and logs in `store_dir`."""
    Path(store_dir, "store").mkdir(parents=True, exist_ok=True)
    Path(store_dir, "log").mkdir(parents=True, exist_ok=True)
    settings = qf.SessionSettings()
    defaults = qf.Dictionary()
    values = {
        "ConnectionType": connection_type,
        "FileStorePath": os.path.join(store_dir, "store"),
        "FileLogPath": os.path.join(store_dir, "log"),
        "StartTime": "00:00:00",
        "EndTime": "00:00:00",
        "UseDataDictionary": "Y",
        "DataDictionary": str(SPEC),
        "ValidateUserDefinedFields": "N",
        "AllowUnknownMsgFields": "Y",
        "ValidateFieldsOutOfOrder": "N",
        "CheckLatency": "N",
        "PersistMessages": "Y",
        "HeartBtInt": str(heartbeat_seconds),
        "ReconnectInterval": "1",
        "LogonTimeout": "5",
    }
    if connection_type == "acceptor":
        values["SocketAcceptPort"] = str(port)
    else:
        values["SocketConnectHost"] = host
        values["SocketConnectPort"] = str(port)
    for key, value in values.items():
        defaults.setString(key, value)
    settings.set(defaults)
    for sender, target in sessions:
        own = qf.Dictionary()
        if target in without_dictionary or sender in without_dictionary:
            # The RFQ sessions carry repeating groups our flat builder does not order: no validation there.
            own.setString("UseDataDictionary", "N")
        settings.set(qf.SessionID(BEGIN_STRING, sender, target), own)
    return settings


def acceptor(application: SafeApplication, settings: qf.SessionSettings) -> qf.SocketAcceptor:
    """One engine thread for every connection; the persisted file store (sequence numbers and sent messages
    survive a restart, so a resend request after one is answered)."""
    return qf.SocketAcceptor(application, qf.FileStoreFactory(settings), settings, qf.FileLogFactory(settings))


def initiator(application: SafeApplication, settings: qf.SessionSettings) -> qf.SocketInitiator:
    return qf.SocketInitiator(application, qf.FileStoreFactory(settings), settings, qf.FileLogFactory(settings))
