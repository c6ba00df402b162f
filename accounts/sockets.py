"""The base of every websocket consumer: an accepted socket also joins its user's own group,
so that ending the user's sessions (a disable, accounts.services.sessions_and_tokens_end)
closes their open sockets at once, not at their next reconnect."""

from asgiref.sync import async_to_sync
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.db import transaction

SESSION_ENDED = 4401  # the close code a browser sees when its user was logged out everywhere


def user_group(user_id: int) -> str:
    return f"user.{int(user_id)}"


def user_sockets_close(user_id: int) -> None:
    """Once the transaction commits: every socket of the user closes."""

    def send():
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(user_group(user_id), {"type": "user.ended"})

    transaction.on_commit(send, robust=True)


class UserSocket(AsyncJsonWebsocketConsumer):
    _user_group: str | None = None

    async def accept(self, subprotocol=None, headers=None):
        await super().accept(subprotocol, headers)
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            self._user_group = user_group(user.pk)
            await self.channel_layer.group_add(self._user_group, self.channel_name)

    async def websocket_disconnect(self, message):
        if self._user_group:
            await self.channel_layer.group_discard(self._user_group, self.channel_name)
        await super().websocket_disconnect(message)

    async def user_ended(self, event):
        await self.close(code=SESSION_ENDED)
