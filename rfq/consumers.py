"""Websocket /ws/rfqs/{id}/: the RFQ's ladder as it changes. Authenticates, authorises (a
desk user who may see the RFQ's order), joins the RFQ's group and forwards what rfq.push
sends; never writes. The first message is a `hello` with the number of the RFQ's last push,
read after joining: a snapshot (GET /api/rfqs/{id}/) fetched afterwards holds every push
numbered up to it, so a reconnecting browser re-fetches it and has the current ladder."""

from channels.db import database_sync_to_async

from accounts.sockets import UserSocket
from rfq import selectors
from rfq.push import group_of, stream_of

NOT_ALLOWED = 4403


def _may_see(user, rfq_id: int) -> bool:
    return selectors.rfqs_visible_to(user).filter(pk=rfq_id).exists()


class RfqLadderConsumer(UserSocket):
    group = ""

    async def connect(self):
        user = self.scope.get("user")
        rfq_id = int(self.scope["url_route"]["kwargs"]["rfq_id"])
        if user is None or not user.is_authenticated or not await database_sync_to_async(_may_see)(user, rfq_id):
            await self.close(code=NOT_ALLOWED)
            return
        self.group = group_of(rfq_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        seq = await database_sync_to_async(selectors.seq_visible_to)(user, rfq_id)
        await self.accept()
        await self.send_json({"type": "hello", "seqs": {stream_of(rfq_id): seq or None}})

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """A read-only stream: whatever a client sends is ignored."""

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def rfq_ladder(self, event):
        await self.send_json(event["message"])
