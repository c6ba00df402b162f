"""Pushes of the RFQ's ladder to /ws/rfqs/{id}/: built and numbered inside the transaction
that makes the change, sent once it commits.

Numbering: `ladder_changed` bumps `Rfq.seq` on the RFQ row, which the calling service holds
locked. The row lock serialises every change of one RFQ, so numbers rise strictly in commit
order, and a snapshot (rfq.selectors.rfq_snapshot) reads its number from the row it
describes: a client holding number N and a snapshot read later has everything up to N. A
rolled-back change takes its number with it (nothing is sent and the row keeps the old one).

Content: each push's `rfq` holds the snapshot fields the change touched (every field for a
dissemination, an execution or a close; the ladder, status and countdown for a quote, an
update, a withdrawal or a pass). A client applies a push by replacing those fields of its
copy; the result equals a fresh snapshot (tests/rfq/test_push.py proves it).

Sending: through a per-process event loop in a thread of its own, so that neither the
committing request, task or bench thread waits for Redis nor opens a connection per push
(`async_to_sync` outside an event loop makes a loop, and a connection, per call). Pushes of
one RFQ leave in the order they were handed over; different RFQs do not wait for each
other. The in-memory layer of the embedded mode is bound to the server's loop, so there the
push goes through `async_to_sync` as before."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from concurrent.futures import TimeoutError as FutureTimeout

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)

EVENT = "rfq.ladder"
STREAM = "rfq.{id}"


def group_of(rfq_id: int) -> str:
    return f"rfq.{int(rfq_id)}"


def stream_of(rfq_id: int) -> str:
    return STREAM.format(id=int(rfq_id))


def ladder_changed(rfq, body: dict) -> dict:
    """Number `body` (snapshot fields of `rfq`, which the caller holds locked) and send it
    once the transaction commits. Returns the message."""
    rfq.seq += 1
    rfq.save(update_fields=["seq"])
    body["seq"] = rfq.seq
    message = {"type": EVENT, "stream": stream_of(rfq.pk), "seq": rfq.seq, "rfq": body}
    group = group_of(rfq.pk)
    transaction.on_commit(lambda: send(group, message), robust=True)
    return message


def send(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    if isinstance(layer, InMemoryChannelLayer):
        _send_in_process(layer, group, message)
    else:
        _sender.submit(layer, group, message)


def flush(timeout: float = 5.0) -> bool:
    """Wait until every push handed over so far has left (bench, shutdown). False on timeout."""
    return _sender.flush(timeout)


def _send_in_process(layer, group: str, message: dict) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        log.warning("%s: push skipped, called from inside a running event loop", group)
        return
    async_to_sync(layer.group_send)(group, {"type": EVENT, "message": message})


class _Sender:
    """One event loop thread per process; started on first use and again after a fork (a
    Celery prefork child inherits the parent's object but not its thread)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tails: dict[str, asyncio.Future] = {}  # the last push of each group, in the loop

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="rfq-push", daemon=True).start()
                self._loop, self._pid, self._tails = loop, os.getpid(), {}
            return self._loop

    def submit(self, layer, group: str, message: dict) -> None:
        loop = self._running_loop()
        loop.call_soon_threadsafe(self._chain, loop, layer, group, message)

    def _chain(self, loop, layer, group: str, message: dict) -> None:
        previous = self._tails.get(group)
        task = loop.create_task(self._send(layer, group, message, previous))
        self._tails[group] = task
        task.add_done_callback(lambda t: self._done(group, t))

    @staticmethod
    async def _send(layer, group: str, message: dict, previous: asyncio.Future | None) -> None:
        if previous is not None:
            await asyncio.wait([previous])  # one RFQ's pushes in order; a failed one is logged, not re-raised
        await layer.group_send(group, {"type": EVENT, "message": message})

    def _done(self, group: str, task: asyncio.Task) -> None:
        if self._tails.get(group) is task:
            del self._tails[group]
        if not task.cancelled() and task.exception() is not None:
            # A lost push is a gap the client sees and repairs by re-fetching the snapshot.
            log.warning("%s: push failed: %r", group, task.exception())

    def flush(self, timeout: float) -> bool:
        if self._pid != os.getpid() or self._loop is None:
            return True

        async def drained():
            while self._tails:
                await asyncio.wait(list(self._tails.values()))

        try:
            asyncio.run_coroutine_threadsafe(drained(), self._loop).result(timeout)
        except FutureTimeout:
            return False
        return True


_sender = _Sender()
