"""Overload answers 503 with Retry-After, quickly, instead of a 500 after a long wait.

Two layers:
- `ConcurrencyLimit` (ASGI, outermost for HTTP): at most WEB_MAX_INFLIGHT requests of one
  process run at once, so threads and database connections per process are bounded by
  configuration (WEB_MAX_INFLIGHT <= DB_POOL_MAX_SIZE), whatever the load. A request waits
  WEB_QUEUE_SECONDS for a slot, then gets 503. It also refuses bodies over
  DATA_UPLOAD_MAX_MEMORY_SIZE with 413 before reading them (Django's ASGI handler would
  spool any size to disk first).
- `is_overload(exc)` and `OverloadMiddleware` / the API exception handler: a database that is
  busy (SQLite's writer lock held past the busy timeout, no pooled PostgreSQL connection
  within DB_POOL_TIMEOUT) is the server's temporary state, not a bug: 503 + Retry-After.
"""

import asyncio
import json

from django.conf import settings
from django.db import OperationalError
from django.http import JsonResponse

try:
    from psycopg_pool import PoolTimeout
except ImportError:  # pragma: no cover - the pool is a dependency; SQLite works without it
    PoolTimeout = ()

OVERLOAD_DETAIL = "The server is busy; retry shortly."


def is_overload(exc: BaseException) -> bool:
    if isinstance(exc, PoolTimeout or ()):
        return True
    if not isinstance(exc, OperationalError):
        return False
    return isinstance(exc.__cause__, PoolTimeout or ()) or "database is locked" in str(exc)


def overload_headers() -> dict[str, str]:
    return {"Retry-After": str(settings.OVERLOAD_RETRY_AFTER_SECONDS)}


def overload_response() -> JsonResponse:
    return JsonResponse({"detail": OVERLOAD_DETAIL}, status=503, headers=overload_headers())


class OverloadMiddleware:
    """Pages and views outside DRF: a busy database answers 503 + Retry-After."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return overload_response() if is_overload(exception) else None


async def _answer(send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class ConcurrencyLimit:
    """ASGI middleware bounding the HTTP requests in flight in this process."""

    def __init__(self, app, *, limit: int | None = None, queue_seconds: float | None = None):
        self.app = app
        self.limit = limit or settings.WEB_MAX_INFLIGHT
        self.queue_seconds = settings.WEB_QUEUE_SECONDS if queue_seconds is None else queue_seconds
        self._slots: asyncio.Semaphore | None = None
        self.in_flight = 0
        self.peak = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        max_bytes = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        length = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > max_bytes:
            return await _answer(send, 413, f"Request body too large (limit {max_bytes} bytes).")
        if self._slots is None:  # created on the server's loop
            self._slots = asyncio.Semaphore(self.limit)
        try:
            await asyncio.wait_for(self._slots.acquire(), timeout=self.queue_seconds)
        except TimeoutError:
            return await _answer(send, 503, OVERLOAD_DETAIL, overload_headers())
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await self.app(scope, _capped(receive, max_bytes), send)
        finally:
            self.in_flight -= 1
            self._slots.release()


def _capped(receive, max_bytes: int):
    """A chunked body (no Content-Length) that grows past the cap ends as a disconnect."""
    seen = 0

    async def capped_receive():
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > max_bytes:
                return {"type": "http.disconnect"}
        return message

    return capped_receive
