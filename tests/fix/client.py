"""A FIX 4.4 client for the tests and bench/fix.py, on a different FIX implementation than
the product's: simplefix (message encoding and parsing) over a plain socket, with just
enough session handling of its own (logon, sequence numbers, heartbeats answering test
requests, a resend request on a gap) to drive the acceptor and see what it does."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime

import simplefix

BEGIN = "FIX.4.4"


def now() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H:%M:%S.%f")[:-3]


class Message(dict):
    """A received message as {tag: str} (a repeating group's last entry), with the raw bytes."""

    raw: bytes = b""

    @property
    def type(self) -> str:
        return self.get(35, "")


def parse(raw: bytes) -> Message:
    out = Message()
    for part in raw.split(b"\x01"):
        tag, sep, value = part.partition(b"=")
        if sep and tag.isdigit():
            out[int(tag)] = value.decode()
    out.raw = raw
    return out


class FixClient:
    def __init__(self, port: int, *, sender: str = "DEMOCLIENT", target: str = "SMARTTRADING", host="127.0.0.1"):
        self.host, self.port, self.sender, self.target = host, port, sender, target
        self.next_out = 1  # our next MsgSeqNum
        self.next_in = 1  # the acceptor's next MsgSeqNum we expect
        self.sock: socket.socket | None = None
        self.parser = simplefix.FixParser()
        self.received: list[Message] = []  # every application message, in arrival order
        self.closed = False
        self.auto_resend = True

    # ---- transport

    def connect(self) -> None:
        self.sock = socket.create_connection((self.host, self.port), timeout=5)
        self.parser = simplefix.FixParser()
        self.closed = False

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None
        self.closed = True

    def send_raw(self, data: bytes) -> None:
        assert self.sock is not None
        self.sock.sendall(data)

    def build(self, msg_type: str, fields: list[tuple[int, str]], *, seq: int | None = None, poss_dup=False):
        msg = simplefix.FixMessage()
        msg.append_pair(8, BEGIN, header=True)
        msg.append_pair(35, msg_type, header=True)
        msg.append_pair(49, self.sender, header=True)
        msg.append_pair(56, self.target, header=True)
        msg.append_pair(34, str(self.next_out if seq is None else seq), header=True)
        msg.append_pair(52, now(), header=True)
        if poss_dup:
            msg.append_pair(43, "Y", header=True)
            msg.append_pair(122, now(), header=True)
        for tag, value in fields:
            msg.append_pair(tag, value)
        return msg.encode()

    def send(self, msg_type: str, fields: list[tuple[int, str]], *, seq: int | None = None, poss_dup=False) -> int:
        used = self.next_out if seq is None else seq
        self.send_raw(self.build(msg_type, fields, seq=seq, poss_dup=poss_dup))
        if seq is None:
            self.next_out += 1
        return used

    def _read_one(self, deadline: float) -> Message | None:
        assert self.sock is not None
        while True:
            raw = self.parser.get_message()
            if raw is not None:
                return parse(raw.encode())
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                return None
            except (ConnectionResetError, OSError):
                data = b""
            if not data:
                self.closed = True
                return None
            self.parser.append_buffer(data)

    def pump(self, timeout: float) -> Message | None:
        """Read one message and run the session side (heartbeats, test requests, gaps);
        return it (admin messages too), or None on a timeout or a closed connection."""
        msg = self._read_one(time.monotonic() + timeout)
        if msg is None:
            return None
        seq = int(msg.get(34, "0"))
        if msg.type == "4" and msg.get(123) == "Y":  # gap fill
            self.next_in = int(msg[36])
            return msg
        if seq > self.next_in and msg.get(43) != "Y" and msg.type != "5" and self.auto_resend:
            self.send("2", [(7, str(self.next_in)), (16, "0")])
        if seq >= self.next_in:
            self.next_in = seq + 1
        if msg.type == "1":
            self.send("0", [(112, msg.get(112, ""))])
        elif msg.type not in ("0", "A", "2", "3", "4", "5", "1"):
            self.received.append(msg)
        return msg

    def wait_for(self, predicate, timeout: float = 15.0, what: str = "a message") -> Message:
        deadline = time.monotonic() + timeout
        while True:
            for msg in self.received:
                if predicate(msg):
                    self.received.remove(msg)
                    return msg
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.closed:
                raise AssertionError(f"no {what} within {timeout}s (closed={self.closed}); got {self.received}")
            self.pump(min(remaining, 0.5))

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self.closed:
            self.pump(deadline - time.monotonic())

    # ---- session

    def logon(self, username="pm", password="demo", *, timeout: float = 10.0, heartbeat: int = 30) -> Message | None:
        """Log on; the acceptor's Logon, or None when it closed the connection (refused)."""
        if self.sock is None:
            self.connect()
        self.send("A", [(98, "0"), (108, str(heartbeat)), (553, username), (554, password)])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.pump(deadline - time.monotonic())
            if msg is None:
                if self.closed:
                    return None
                continue
            if msg.type == "A":
                return msg
            if msg.type == "5":
                return None
        return None

    def logout(self) -> None:
        self.send("5", [])
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not self.closed:
            msg = self.pump(deadline - time.monotonic())
            if msg is not None and msg.type == "5":
                break
        self.close()

    # ---- orders

    def new_order(self, cl_ord_id: str, symbol: str, side: str, qty, price=None, **kw) -> int:
        fields = [(11, cl_ord_id), (55, symbol), (54, "1" if side == "BUY" else "2"), (60, now()), (38, str(qty))]
        fields.append((40, "2" if price is not None else "1"))
        if price is not None:
            fields.append((44, str(price)))
        return self.send("D", fields, **kw)

    def cancel(self, cl_ord_id: str, orig: str, symbol: str, side: str, qty) -> int:
        side_code = "1" if side == "BUY" else "2"
        return self.send("F", [(41, orig), (11, cl_ord_id), (55, symbol), (54, side_code), (60, now()), (38, str(qty))])

    def replace(self, cl_ord_id: str, orig: str, symbol: str, side: str, qty, price=None) -> int:
        side_code = "1" if side == "BUY" else "2"
        fields = [(41, orig), (11, cl_ord_id), (55, symbol), (54, side_code), (60, now()), (38, str(qty))]
        fields.append((40, "2" if price is not None else "1"))
        if price is not None:
            fields.append((44, str(price)))
        return self.send("G", fields)

    def report(self, cl_ord_id: str, exec_type: str | None = None, timeout: float = 15.0) -> Message:
        return self.wait_for(
            lambda m: m.type == "8" and m.get(11) == cl_ord_id and (exec_type is None or m.get(150) == exec_type),
            timeout,
            f"ExecutionReport {cl_ord_id} ExecType {exec_type}",
        )
