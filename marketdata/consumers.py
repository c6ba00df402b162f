"""Streams consolidated books: one instrument's (/ws/marketdata/{symbol}/) or every active
instrument's (/ws/marketdata/, the market overview's one socket). Authenticates, authorises,
joins the groups and forwards; never writes. On connect each stream first sends the latest
cached book of every instrument it covers."""

from channels.db import database_sync_to_async
from django.core.cache import cache

from accounts.roles import role_of
from accounts.sockets import UserSocket
from marketdata.groups import book_group
from marketdata.models import Instrument
from marketdata.selectors import snapshot_key

NOT_ALLOWED = 4403
NOT_FOUND = 4404


class _BookStream(UserSocket):
    """Joins the book groups of `symbols()` for a user with a role and forwards their books."""

    groups_joined: list[str] = []

    async def symbols(self) -> list[str] | None:
        """The instruments to stream, or None to refuse the connection as not found."""
        raise NotImplementedError

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or await database_sync_to_async(role_of)(user) is None:
            await self.close(code=NOT_ALLOWED)
            return
        symbols = await self.symbols()
        if symbols is None:
            await self.close(code=NOT_FOUND)
            return
        self.groups_joined = [book_group(s) for s in symbols]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        cached = await cache.aget_many([snapshot_key(s) for s in symbols])
        for symbol in symbols:
            if (book := cached.get(snapshot_key(symbol))) is not None:
                await self.send_json(book)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """A read-only stream: whatever a client sends is ignored."""

    async def disconnect(self, code):
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def book_update(self, event):
        await self.send_json(event["book"])


class MarketDataConsumer(_BookStream):
    """One instrument's books."""

    async def symbols(self):
        symbol = self.scope["url_route"]["kwargs"]["symbol"]
        if not await Instrument.objects.filter(symbol=symbol, is_active=True).aexists():
            return None
        return [symbol]


class MarketOverviewConsumer(_BookStream):
    """Every active instrument's books on one socket (instruments listed at connect)."""

    async def symbols(self):
        return [s async for s in Instrument.objects.filter(is_active=True).values_list("symbol", flat=True)]
