"""Pushes of the RFQ's ladder to /ws/rfqs/{id}/: built and numbered inside the transaction
that makes the change, sent once it commits.

Numbering: `ladder_changed` bumps `Rfq.seq` on the RFQ row, which the calling service holds
locked. The row lock serialises every change of one RFQ, so numbers rise strictly in commit
order, and a snapshot (rfq.selectors.rfq_snapshot) reads its number from the row it
describes: a client holding number N and a snapshot read later has everything up to N. A
rolled-back change takes its number with it (nothing is sent and the row keeps the old one).

Content: each push's `rfq` holds snapshot fields, which the client replaces in its copy:
every field for a dissemination, an execution, a last-look rejection or a close; for a
quote, an update, a withdrawal or a pass (the pushes that come by the hundred) only the
status, outcome, countdown, time and mid, and beside it a `delta` of the ladder: the rows
`add`ed (the quote just received), the quote ids to `remove` (the one it replaced or the one
withdrawn) and the `counterparties` entries whose answer changed. The client keeps its
ladder's rows, applies the delta and orders them as rfq.domain.ladder does (live at `as_of`,
best first, time left and distance from the new mid recomputed), so no push re-reads or
re-sends the whole ladder. The result equals a fresh snapshot (tests/rfq/test_push.py proves
it, for the browser's code too: static/js/rfq-ladder-state.js).

Sending: from the committing thread, on an event loop that thread keeps for its pushes,
so the channel layer's Redis connections are reused (`async_to_sync` outside an event loop
makes a new loop, and with it a new connection, for every push) and no push waits for
another thread. The in-memory layer of the embedded mode is bound to the server's loop, so
there the push goes through `async_to_sync` as before. A push that fails (Redis away) is
logged by the on_commit machinery and lost: the client sees the gap in the numbers and
re-fetches the snapshot."""

from __future__ import annotations

import asyncio
import logging
import os
import threading

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


def ladder_changed(rfq, body: dict, *, delta: dict | None = None, also: tuple[str, ...] = ()) -> dict:
    """Number `body` (snapshot fields of `rfq`, which the caller holds locked) and send it,
    with the ladder's `delta` when given, once the transaction commits. `also`: fields of
    `rfq` the caller changed, saved in the same UPDATE as the number. Returns the message."""
    rfq.seq += 1
    rfq.save(update_fields=["seq", *also])
    body["seq"] = rfq.seq
    message = {"type": EVENT, "stream": stream_of(rfq.pk), "seq": rfq.seq, "rfq": body}
    if delta is not None:
        message["delta"] = delta
    group = group_of(rfq.pk)
    transaction.on_commit(lambda: send(group, message), robust=True)
    return message


def send(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        log.warning("%s: push skipped, called from inside a running event loop", group)
        return
    event = {"type": EVENT, "message": message}
    if isinstance(layer, InMemoryChannelLayer):
        async_to_sync(layer.group_send)(group, event)
    else:
        _thread_loop().run_until_complete(layer.group_send(group, event))


_local = threading.local()


def _thread_loop() -> asyncio.AbstractEventLoop:
    """This thread's loop for pushes; a new one in a forked child (a Celery prefork worker),
    which must not share its parent's connections."""
    if getattr(_local, "pid", None) != os.getpid():
        _local.loop, _local.pid = asyncio.new_event_loop(), os.getpid()
    return _local.loop
