"""Pushes execution changes to `/ws/executions/{id}/` over the channel layer, on commit, as
oms.push does for orders: the row is serialised inside the transaction (the committed
state), the message numbered after the commit (core.sequence) and sent."""

import json
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from rest_framework.renderers import JSONRenderer

from core.sequence import next_sequence
from oms.push import order_work_changed

log = logging.getLogger(__name__)

EVENT = "execution.update"
DESK_GROUP = "executions.desk"  # the execution blotter: every execution's row


def execution_group(execution_id: int) -> str:
    return f"executions.{int(execution_id)}"


def _json(data) -> dict:
    return json.loads(JSONRenderer().render(data))


def execution_changed(execution) -> None:
    from ems.api.serializers import ExecutionSerializer

    row = _json(ExecutionSerializer(execution).data)
    transaction.on_commit(lambda: _send(execution_group(execution.pk), {"execution": row}), robust=True)
    transaction.on_commit(lambda: _send(DESK_GROUP, {"execution": row}), robust=True)
    order_work_changed(portfolio_id=execution.order.portfolio_id, execution=row)


def child_changed(child) -> None:
    from ems.api.serializers import ChildOrderSerializer

    row = _json(ChildOrderSerializer(child).data)
    transaction.on_commit(lambda: _send(execution_group(child.execution_id), {"child": row}), robust=True)


def _send(group: str, body: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": EVENT, "stream": group, "seq": next_sequence(group), **body}
    try:
        async_to_sync(layer.group_send)(group, {"type": EVENT, "message": message})
    except RuntimeError:
        # Called from inside a running event loop (sync ORM in async tests): cannot block on it.
        log.warning("%s: push skipped inside an event loop", group)
