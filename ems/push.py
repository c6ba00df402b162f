"""Pushes execution changes to `/ws/executions/{id}/` over the channel layer, on commit, as
oms.push does for orders: the row is serialised inside the transaction (the committed
state), the message numbered after the commit (core.sequence) and sent."""

import json
import logging
import threading
from contextlib import contextmanager

from channels.layers import get_channel_layer
from django.db import transaction
from rest_framework.renderers import JSONRenderer

from core.pushes import group_send_all
from core.sequence import next_sequence_list
from oms import push as oms_push
from oms.push import order_work_changed

log = logging.getLogger(__name__)

EVENT = "execution.update"
DESK_GROUP = "executions.desk"  # the execution blotter: every execution's row


def execution_group(execution_id: int) -> str:
    return f"executions.{int(execution_id)}"


_local = threading.local()


@contextmanager
def batched():
    """The pushes made inside are sent together once the transaction commits: one event loop
    and one round of channel-layer calls for all of them, instead of one each (a batch of
    ticks pushes hundreds); the order pushes made inside (oms.push) are batched the same way.
    Nested, the outermost sends."""
    if getattr(_local, "messages", None) is not None:
        yield
        return
    _local.messages = []
    try:
        with oms_push.batched():
            yield
        messages = _local.messages
    finally:
        _local.messages = None
    if messages:
        transaction.on_commit(lambda: _send_many(messages), robust=True)


def _push(group: str, body: dict) -> None:
    messages = getattr(_local, "messages", None)
    if messages is not None:
        messages.append((group, body))
    else:
        transaction.on_commit(lambda: _send(group, body), robust=True)


def _json(data) -> dict:
    return json.loads(JSONRenderer().render(data))


def execution_changed(execution) -> None:
    from ems.api.serializers import ExecutionSerializer

    row = _json(ExecutionSerializer(execution).data)
    _push(execution_group(execution.pk), {"execution": row})
    _push(DESK_GROUP, {"execution": row})
    if execution.block_id is None:  # a block's is the desk's alone: its members' PMs see their orders
        order_work_changed(portfolio_id=execution.order.portfolio_id, execution=row)


def executions_changed(executions) -> None:
    """execution_changed for many executions, serialised in one pass."""
    from ems.api.serializers import ExecutionSerializer

    if not executions:
        return
    rows = _json(ExecutionSerializer(executions, many=True).data)
    for execution, row in zip(executions, rows, strict=True):
        _push(execution_group(execution.pk), {"execution": row})
        _push(DESK_GROUP, {"execution": row})
        if execution.block_id is None:
            order_work_changed(portfolio_id=execution.order.portfolio_id, execution=row)


def child_changed(child) -> None:
    from ems.api.serializers import ChildOrderSerializer

    row = _json(ChildOrderSerializer(child).data)
    _push(execution_group(child.execution_id), {"child": row})


def children_changed(children) -> None:
    """child_changed for many children, serialised in one pass (the serializer's fields are
    built once, not once per child)."""
    from ems.api.serializers import ChildOrderSerializer

    rows = _json(ChildOrderSerializer(children, many=True).data)
    for child, row in zip(children, rows, strict=True):
        _push(execution_group(child.execution_id), {"child": row})


def _send(group: str, body: dict) -> None:
    _send_many([(group, body)])


def _send_many(messages: list[tuple[str, dict]]) -> None:
    """Number each message on its stream (in order), then hand them all to the channel layer
    in one event loop."""
    layer = get_channel_layer()
    if layer is None:
        return
    seqs = next_sequence_list([group for group, _ in messages])
    numbered = [
        (group, {"type": EVENT, "message": {"type": EVENT, "stream": group, "seq": seq, **body}})
        for (group, body), seq in zip(messages, seqs, strict=True)
    ]
    try:
        group_send_all(layer, numbered)
    except RuntimeError:
        # Called from inside a running event loop (sync ORM in async tests): cannot block on it.
        log.warning("%d pushes skipped inside an event loop", len(numbered))
