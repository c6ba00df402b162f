"""Pushes the RFQ's ladder to /ws/rfqs/{id}/ once the surrounding transaction commits.

The pushed body is the RFQ snapshot read after the commit (the same body as
GET /api/rfqs/{id}/), numbered with core.sequence on the RFQ's stream after the commit, so a
client holding seq N and a snapshot read later has everything up to N. Each push carries the
whole ladder: applying it is replacing the view."""

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from core.sequence import next_sequence

log = logging.getLogger(__name__)

EVENT = "rfq.ladder"


def group_of(rfq_id: int) -> str:
    return f"rfq.{int(rfq_id)}"


def ladder_changed(rfq_id: int) -> None:
    transaction.on_commit(lambda: ladder_send(rfq_id), robust=True)


def ladder_message(rfq_id: int) -> dict:
    from rfq import selectors

    stream = selectors.stream_of(rfq_id)
    seq = next_sequence(stream)
    body = selectors.rfq_snapshot(rfq_id, seq=seq)
    return {"type": EVENT, "stream": stream, "seq": seq, "rfq": body}


def ladder_send(rfq_id: int) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        log.warning("RFQ %s: push skipped, called from inside a running event loop", rfq_id)
        return
    message = ladder_message(rfq_id)
    async_to_sync(layer.group_send)(group_of(rfq_id), {"type": "rfq.ladder", "message": message})
