"""core.streams: one interface, in memory and on Redis: each message to one consumer of a
group, pending until acked, claimed by another consumer once stale."""

import uuid

import pytest
from django.conf import settings

from core.streams import MemoryStreams, RedisStreams
from tests.conftest import redis_only


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def memory():
    clock = FakeClock()
    return MemoryStreams(clock=clock), clock


def check_semantics(streams, stream, advance):
    ids = [streams.publish(stream, {"n": n, "price": "1.25"}) for n in range(3)]
    first = streams.read(stream, "g", "a", count=2)
    second = streams.read(stream, "g", "b", count=10)
    assert [m["n"] for _, m in first] == [0, 1]
    assert [m["n"] for _, m in second] == [2]
    assert streams.read(stream, "other", "x", count=10)[0][1] == {"n": 0, "price": "1.25"}
    streams.ack(stream, "g", [first[0][0]])
    assert streams.claim_stale(stream, "g", "c", idle_ms=60_000) == []
    advance()
    claimed = streams.claim_stale(stream, "g", "c", idle_ms=50)
    assert sorted(m["n"] for _, m in claimed) == [1, 2]
    streams.ack(stream, "g", [i for i, _ in claimed])
    advance()
    assert streams.claim_stale(stream, "g", "c", idle_ms=50) == []
    assert streams.length(stream) == len(ids)


def test_memory_streams():
    streams, clock = memory()

    def advance():
        clock.now += 1.0

    check_semantics(streams, "s", advance)


@redis_only
def test_redis_streams():
    import time

    streams = RedisStreams(settings.REDIS_URL)
    stream = f"test.{uuid.uuid4().hex}"
    try:
        check_semantics(streams, stream, lambda: time.sleep(0.1))  # Redis idle time is its own clock
    finally:
        streams.delete(stream)


@pytest.mark.parametrize("block_ms", [0, 20])
def test_memory_read_returns_nothing_when_empty(block_ms):
    streams, _ = memory()
    assert streams.read("empty", "g", "a", block_ms=block_ms) == []


def check_sets(streams, key):
    assert streams.set_add(key, "a") is True
    assert streams.set_add(key, "a") is False  # already there
    assert streams.set_add(key, "b") is True
    streams.set_remove(key, "a")
    streams.set_remove(key, "never-there")
    assert streams.set_members(key) == {"b"}


def test_memory_sets():
    check_sets(memory()[0], "k")


@redis_only
def test_redis_sets():
    streams = RedisStreams(settings.REDIS_URL)
    key = f"test.{uuid.uuid4().hex}"
    try:
        check_sets(streams, key)
    finally:
        streams.delete(key)
