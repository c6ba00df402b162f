from channels.generic.websocket import AsyncWebsocketConsumer

NOT_FOUND = 4404


class NoRouteConsumer(AsyncWebsocketConsumer):
    """Any websocket path without a route: refused cleanly instead of an ASGI error."""

    async def connect(self):
        await self.close(code=NOT_FOUND)
