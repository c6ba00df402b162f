"""Pushes order changes to the live blotters over the channel layer (websocket /ws/orders/).

The OMS services call `order_changed(order)` inside their transaction, after saving the
change. The order's blotter row is serialised there and then, under the service's row lock,
so the pushed state is the committed one; it is sent only once the transaction commits
(nothing is pushed for a rollback).

Every message carries a `seq` per stream (group): a PM's socket hears only some of the
orders, so one global counter would show gaps that are not losses. The seq is taken after
the commit, so a client that saw seq N and then fetches `/api/orders/` gets a snapshot that
already holds every change numbered up to N. Two commits can still reach a client out of
order; the client keeps the row with the later `updated_at`.
"""

import asyncio
import logging
import threading
from contextlib import contextmanager

from channels.layers import get_channel_layer
from django.db import transaction

from core.pushes import group_send_all
from core.sequence import next_sequence_list
from oms.api.serializers import OrderSerializer
from oms.models import Order

log = logging.getLogger(__name__)

DESK_GROUP = "orders.desk"  # traders and admins: every order
EVENT = "order.update"
WORK_EVENT = "execution.update"  # what clients see for an execution; carried like an order update


def portfolio_group(portfolio_id: int) -> str:
    """The group of one portfolio's orders, which its owning PM joins."""
    return f"orders.portfolio.{int(portfolio_id)}"


_local = threading.local()


@contextmanager
def batched():
    """The pushes made inside are sent together once the transaction commits, in one round
    (a batch of venue reports changes hundreds of orders). Nested, the outermost sends."""
    if getattr(_local, "messages", None) is not None:
        yield
        return
    _local.messages = []
    try:
        yield
        messages = _local.messages
    finally:
        _local.messages = None
    if messages:
        transaction.on_commit(lambda: _send_many(messages), robust=True)


def _push(groups: tuple[str, ...], body: dict, kind: str = EVENT) -> None:
    messages = getattr(_local, "messages", None)
    if messages is not None:
        messages.append((groups, body, kind))
    else:
        # robust: the write has committed; a channel layer that is down must not turn the
        # request into an error. Clients resync from the snapshot on the next gap or reconnect.
        transaction.on_commit(lambda: _send_many([(groups, body, kind)]), robust=True)


def order_row(order: Order) -> dict:
    """The order as one item of the REST list `/api/orders/`, as plain JSON data (the
    serializer gives strings, numbers, None and the JSON field's own lists)."""
    return dict(OrderSerializer(order).data)


def order_changed(order: Order) -> None:
    """Push `order`'s current blotter row to the desk and to its portfolio's owner once the
    surrounding transaction commits. Call it after saving the change; several calls in one
    transaction send several updates, in call order."""
    _push((DESK_GROUP, portfolio_group(order.portfolio_id)), {"order": order_row(order)})


def order_work_changed(*, portfolio_id: int, execution: dict) -> None:
    """An execution working one of the portfolio's orders changed (the EMS calls this with
    its row): it goes on the order's own streams as an `execution.update`, so the blotters
    follow the work (strategy, state, progress) on the socket they already hold."""
    _push((DESK_GROUP, portfolio_group(portfolio_id)), {"execution": execution}, WORK_EVENT)


def _send_many(pushes: list[tuple[tuple[str, ...], dict, str]]) -> None:
    """Number every message on its stream, in push order, then send them in one round."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        # Only reachable from sync ORM code run inside an event loop thread (tests with
        # DJANGO_ALLOW_ASYNC_UNSAFE): we cannot block on the loop we are running in.
        log.warning("%d pushes skipped, called from inside a running event loop", len(pushes))
        return
    flat = [(group, body, kind) for groups, body, kind in pushes for group in groups]
    seqs = next_sequence_list([group for group, _, _ in flat])
    group_send_all(
        layer,
        [
            (group, {"type": EVENT, "message": {"type": kind, "stream": group, "seq": seq, **body}})
            for (group, body, kind), seq in zip(flat, seqs, strict=True)
        ],
    )
