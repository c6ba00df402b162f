"""Websocket /ws/executions/{id}/: updates of one execution, for a user who may see it (its
parent order is visible to them, as on /ws/orders/). Authenticates, authorises, joins the
group and forwards what ems.push sends; never writes. The first message is a `hello` with
the stream's current sequence number (see oms.consumers)."""

from channels.db import database_sync_to_async

from accounts.roles import DESK_ROLES, role_of
from accounts.sockets import UserSocket
from core.sequence import current_sequences
from ems.push import DESK_GROUP, execution_group
from ems.selectors import executions_visible_to

NOT_ALLOWED = 4403


def _may_see(user, execution_id: int) -> bool:
    return role_of(user) is not None and executions_visible_to(user).filter(pk=execution_id).exists()


class ExecutionConsumer(UserSocket):
    group: str | None = None

    async def connect(self):
        user = self.scope.get("user")
        execution_id = int(self.scope["url_route"]["kwargs"]["execution_id"])
        if user is None or not user.is_authenticated or not await database_sync_to_async(_may_see)(user, execution_id):
            await self.close(code=NOT_ALLOWED)
            return
        self.group = execution_group(execution_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        hello = await current_sequences([self.group])
        await self.accept()
        await self.send_json({"type": "hello", "seqs": hello})

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """A read-only stream: whatever a client sends is ignored."""

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def execution_update(self, event):
        await self.send_json(event["message"])


class ExecutionBlotterConsumer(ExecutionConsumer):
    """Websocket /ws/executions/: every execution's row, for the desk's blotter (traders and
    admins only; a PM follows their orders on /ws/orders/)."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or await database_sync_to_async(role_of)(user) not in DESK_ROLES:
            await self.close(code=NOT_ALLOWED)
            return
        self.group = DESK_GROUP
        await self.channel_layer.group_add(self.group, self.channel_name)
        hello = await current_sequences([self.group])
        await self.accept()
        await self.send_json({"type": "hello", "seqs": hello})
