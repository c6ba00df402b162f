"""Streams one instrument's consolidated book. Authenticates, authorises, joins the group and
forwards; never writes."""
import re

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.cache import cache

from marketdata.models import Instrument
from marketdata.selectors import snapshot_key
from accounts.roles import role_of

NOT_ALLOWED = 4403
NOT_FOUND = 4404


def book_group(symbol: str) -> str:
    # Channel-layer group names allow only ASCII letters, digits, '-', '_' and '.'.
    return "marketdata." + re.sub(r"[^A-Za-z0-9._-]", "_", symbol)


class MarketDataConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or await database_sync_to_async(role_of)(user) is None:
            await self.close(code=NOT_ALLOWED)
            return
        symbol = self.scope["url_route"]["kwargs"]["symbol"]
        if not await Instrument.objects.filter(symbol=symbol, is_active=True).aexists():
            await self.close(code=NOT_FOUND)
            return
        self.group = book_group(symbol)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        snapshot = await cache.aget(snapshot_key(symbol))
        if snapshot is not None:
            await self.send_json(snapshot)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """A read-only stream: whatever a client sends is ignored."""

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def book_update(self, event):
        await self.send_json(event["book"])
