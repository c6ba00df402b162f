"""Websocket /ws/orders/: order and execution updates for the orders the user may see.
Authenticates, authorises, joins the groups and forwards what oms.push sends; never writes.

A PM joins the groups of the portfolios they own; traders and admins join the desk group.
The first message is a `hello` with each joined stream's current sequence number, read
before the socket is accepted: any update numbered up to it was committed before the client
could fetch its `/api/orders/` snapshot, so the client drops those and applies the rest.
A stream with no number yet (null) has sent nothing since its counter was created."""

from channels.db import database_sync_to_async

from accounts.roles import PM, role_of
from accounts.sockets import UserSocket
from core.sequence import current_sequences
from oms.push import DESK_GROUP, portfolio_group
from oms.selectors import portfolios_visible_to

NOT_ALLOWED = 4403


def order_groups_for(user) -> list[str]:
    """The push groups whose orders `user` may see: none without a role."""
    role = role_of(user)
    if role is None:
        return []
    if role == PM:
        return [portfolio_group(pk) for pk in portfolios_visible_to(user).values_list("pk", flat=True)]
    return [DESK_GROUP]


class OrderConsumer(UserSocket):
    groups_joined: list[str] = []

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or await database_sync_to_async(role_of)(user) is None:
            await self.close(code=NOT_ALLOWED)
            return
        self.groups_joined = await database_sync_to_async(order_groups_for)(user)
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        # Read after joining and before accepting: see the module docstring.
        hello = await current_sequences(self.groups_joined)  # None: not numbered yet
        await self.accept()
        await self.send_json({"type": "hello", "seqs": hello})

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """A read-only stream: whatever a client sends is ignored."""

    async def disconnect(self, code):
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def order_update(self, event):
        await self.send_json(event["message"])
