"""ASGI entry point: Django over HTTP, Channels over websockets, and (embedded mode) the
market-data publisher started on the server's own event loop through ASGI lifespan."""

import asyncio
import logging
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import re_path  # noqa: E402

from config.consumers import NoRouteConsumer  # noqa: E402
from config.overload import ConcurrencyLimit  # noqa: E402
from core import metrics  # noqa: E402
from ems.routing import websocket_urlpatterns as ems_ws  # noqa: E402
from marketdata.routing import websocket_urlpatterns as marketdata_ws  # noqa: E402
from oms.routing import websocket_urlpatterns as oms_ws  # noqa: E402
from rfq.routing import websocket_urlpatterns as rfq_ws  # noqa: E402

log = logging.getLogger(__name__)


class Lifespan:
    """Starts the embedded background loops with the server and stops them with it."""

    def __init__(self, app):
        self.app = app
        self.tasks: list[asyncio.Task] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "lifespan":
            return await self.app(scope, receive, send)
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # This web process's database pool, sampled for /metrics whichever process answers.
                metrics.start_sampler()
                if settings.MARKETDATA_EMBEDDED:
                    from marketdata.publisher import publish_forever

                    self.tasks.append(asyncio.create_task(publish_forever(), name="marketdata-publisher"))
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for task in self.tasks:
                    task.cancel()
                # Wait for them: shutdown is complete only once nothing publishes any more.
                await asyncio.gather(*self.tasks, return_exceptions=True)
                self.tasks.clear()
                metrics.process_exited()
                await send({"type": "lifespan.shutdown.complete"})
                return


websocket_routes = [*marketdata_ws, *oms_ws, *ems_ws, *rfq_ws, re_path(r"", NoRouteConsumer.as_asgi())]
websocket_app = AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_routes)))
application = Lifespan(ProtocolTypeRouter({"http": ConcurrencyLimit(django_asgi_app), "websocket": websocket_app}))

from core.runtime import heap_settle  # noqa: E402

heap_settle()  # everything above stays out of the collector's walks
