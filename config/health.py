"""/healthz: 200 when the database, cache, channel layer and Celery broker answer, else 503
naming what is down."""

import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse

from accounts.roles import ADMIN, role_of
from config.celery import app as celery_app
from oms import ledger


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache(backend=None):
    backend = backend or cache
    key = f"healthz:{uuid.uuid4().hex}"
    backend.set(key, "ok", 5)
    if backend.get(key) != "ok":
        raise RuntimeError("cache did not return what was stored")
    backend.delete(key)


def _channel_layer():
    layer = get_channel_layer()

    async def probe():
        name = await layer.new_channel()
        await layer.send(name, {"type": "healthz"})
        return await layer.receive(name)

    if async_to_sync(probe)().get("type") != "healthz":
        raise RuntimeError("channel layer lost a message")


def _broker(url: str | None = None):
    with celery_app.connection_for_write(url) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


CHECKS = {"database": _database, "cache": _cache, "channel_layer": _channel_layer, "celery_broker": _broker}


def _is_admin(request) -> bool:
    try:
        return request.user.is_staff or role_of(request.user) == ADMIN
    except Exception:  # noqa: BLE001 - the session store (the database) may be what is down
        return False


def healthz(request):
    # Exception text can name hosts, users and paths: only staff see it.
    detailed = _is_admin(request)
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure of a dependency means "down"
            results[name] = f"down: {type(exc).__name__}: {exc}"[:200] if detailed else "down"
    down = [name for name, state in results.items() if state != "ok"]
    body = {"status": "down" if down else "ok", "down": down, "checks": results}
    if detailed and "database" not in down:
        # The books are not a dependency (breaks do not make the service unhealthy), but
        # admins see at a glance whether the last reconciliation found any.
        body["reconciliation"] = _reconciliation()
    return JsonResponse(body, status=503 if down else 200)


def _reconciliation() -> dict:
    try:
        return ledger.reconciliation_summary()
    except DatabaseError as exc:
        return {"status": f"unknown: {type(exc).__name__}"}
