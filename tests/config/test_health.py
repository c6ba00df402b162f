"""/healthz reports each dependency; 503 names what is down. "Down" here is a real client
pointed at a port where nothing listens, not a mock."""

import pytest
from django.core.cache.backends.redis import RedisCache

from config import health

pytestmark = pytest.mark.django_db
DEAD_REDIS = "redis://127.0.0.1:1/0"


def test_all_up(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["checks"] == {"database": "ok", "cache": "ok", "channel_layer": "ok", "celery_broker": "ok"}


def test_cache_down_is_503_naming_it(client, monkeypatch):
    monkeypatch.setitem(health.CHECKS, "cache", lambda: health._cache(RedisCache(DEAD_REDIS, {})))
    r = client.get("/healthz")
    assert r.status_code == 503
    assert r.json()["down"] == ["cache"] and r.json()["checks"]["database"] == "ok"


def test_broker_down_is_503_naming_it(client, monkeypatch):
    monkeypatch.setitem(health.CHECKS, "celery_broker", lambda: health._broker(DEAD_REDIS))
    r = client.get("/healthz")
    assert r.status_code == 503 and r.json()["down"] == ["celery_broker"]
    assert r.json()["checks"]["celery_broker"] == "down"  # no exception text for anonymous callers


def test_staff_see_why(client, admin_user, monkeypatch):
    monkeypatch.setitem(health.CHECKS, "celery_broker", lambda: health._broker(DEAD_REDIS))
    client.force_login(admin_user)
    r = client.get("/healthz")
    assert r.status_code == 503 and r.json()["checks"]["celery_broker"].startswith("down: OperationalError")
