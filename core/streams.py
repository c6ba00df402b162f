"""Message streams with consumer groups, app-free: the transport between the EMS (Celery
workers) and the one process that owns the market (the venue side, marketdata.venue).

Two implementations of one interface:
- `RedisStreams` (production): Redis streams, XADD / XREADGROUP / XACK / XAUTOCLAIM, so
  every message of a stream is delivered to one consumer of a group, stays pending until
  acknowledged, and is claimed by another consumer when its reader died;
- `MemoryStreams` (embedded default): the same semantics in one process, thread-safe, for
  `make run`, where the worker threads and the simulator's loop share the process.

Messages are plain dicts of JSON values (decimals as strings). `streams()` returns the one
instance the settings select."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from typing import Protocol

Message = dict
Entry = tuple[str, Message]

# The venue side reads commands from COMMANDS and writes reports to REPORTS.
COMMANDS = "venue.commands"
REPORTS = "venue.reports"


class Streams(Protocol):
    def publish(self, stream: str, message: Message) -> str: ...

    def publish_many(self, stream: str, messages: list[Message]) -> list[str]:
        """`publish` for each message, in order (one round trip on Redis)."""

    def read(self, stream: str, group: str, consumer: str, *, count: int = 100, block_ms: int = 0) -> list[Entry]:
        """New messages for this group (each delivered to one consumer), pending until acked."""

    def ack(self, stream: str, group: str, ids: list[str]) -> None: ...

    def claim_stale(self, stream: str, group: str, consumer: str, *, idle_ms: int, count: int = 100) -> list[Entry]:
        """Messages delivered to some consumer and not acked for `idle_ms`: now this consumer's."""

    def length(self, stream: str) -> int: ...

    # A set beside the streams, outliving the processes that use it (the venue's memory of
    # the client order ids it has seen and the orders resting with it).
    def set_add(self, key: str, member: str) -> bool:
        """Add `member`; True if it was not there."""

    def set_remove(self, key: str, member: str) -> None: ...

    def set_members(self, key: str) -> set[str]: ...


class MemoryStreams:
    """In-process streams with consumer groups. `clock` (monotonic seconds) is injectable."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Condition()
        self._entries: dict[str, list[Entry]] = {}
        self._cursor: dict[tuple[str, str], int] = {}  # next index to deliver, per (stream, group)
        self._pending: dict[tuple[str, str], dict[str, tuple[str, float, Message]]] = {}
        self._ids = itertools.count(1)
        self._sets: dict[str, set[str]] = {}

    def publish(self, stream: str, message: Message) -> str:
        with self._lock:
            entry_id = f"{next(self._ids)}-0"
            # A copy through JSON: the reader gets what Redis would give it, never a shared object.
            self._entries.setdefault(stream, []).append((entry_id, json.loads(json.dumps(message))))
            self._lock.notify_all()
            return entry_id

    def publish_many(self, stream: str, messages: list[Message]) -> list[str]:
        return [self.publish(stream, message) for message in messages]

    def read(self, stream: str, group: str, consumer: str, *, count: int = 100, block_ms: int = 0) -> list[Entry]:
        # Blocking is real waiting, on the real clock; the injected clock only dates entries
        # (a fake clock that never moves must not make a blocking read wait for ever).
        deadline = time.monotonic() + block_ms / 1000
        with self._lock:
            while True:
                entries = self._entries.get(stream, [])
                start = self._cursor.get((stream, group), 0)
                batch = entries[start : start + count]
                if batch or block_ms <= 0:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._lock.wait(remaining)
            self._cursor[(stream, group)] = start + len(batch)
            pending = self._pending.setdefault((stream, group), {})
            now = self._clock()
            for entry_id, message in batch:
                pending[entry_id] = (consumer, now, message)
            return [(entry_id, json.loads(json.dumps(message))) for entry_id, message in batch]

    def ack(self, stream: str, group: str, ids: list[str]) -> None:
        with self._lock:
            pending = self._pending.get((stream, group), {})
            for entry_id in ids:
                pending.pop(entry_id, None)

    def claim_stale(self, stream: str, group: str, consumer: str, *, idle_ms: int, count: int = 100) -> list[Entry]:
        with self._lock:
            pending = self._pending.get((stream, group), {})
            now = self._clock()
            stale = [(i, m) for i, (_, at, m) in pending.items() if (now - at) * 1000 >= idle_ms][:count]
            for entry_id, message in stale:
                pending[entry_id] = (consumer, now, message)
            return [(entry_id, json.loads(json.dumps(message))) for entry_id, message in stale]

    def length(self, stream: str) -> int:
        with self._lock:
            return len(self._entries.get(stream, []))

    def pending_count(self, stream: str, group: str) -> int:
        with self._lock:
            return len(self._pending.get((stream, group), {}))

    def set_add(self, key: str, member: str) -> bool:
        with self._lock:
            members = self._sets.setdefault(key, set())
            added = member not in members
            members.add(member)
            return added

    def set_remove(self, key: str, member: str) -> None:
        with self._lock:
            self._sets.get(key, set()).discard(member)

    def set_members(self, key: str) -> set[str]:
        with self._lock:
            return set(self._sets.get(key, set()))


class RedisStreams:
    """Redis streams; one field `m` holds the JSON message. Groups start at the beginning of
    the stream and are created on first use."""

    FIELD = "m"

    def __init__(self, url: str, *, maxlen: int = 1_000_000):
        import redis

        self._redis = redis.Redis.from_url(url, decode_responses=True)
        self._maxlen = maxlen
        self._groups: set[tuple[str, str]] = set()

    def _ensure_group(self, stream: str, group: str) -> None:
        if (stream, group) in self._groups:
            return
        import redis

        try:
            self._redis.xgroup_create(stream, group, id="0", mkstream=True)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        self._groups.add((stream, group))

    def publish(self, stream: str, message: Message) -> str:
        return self._redis.xadd(stream, {self.FIELD: json.dumps(message)}, maxlen=self._maxlen, approximate=True)

    def publish_many(self, stream: str, messages: list[Message]) -> list[str]:
        if not messages:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for message in messages:
            pipe.xadd(stream, {self.FIELD: json.dumps(message)}, maxlen=self._maxlen, approximate=True)
        return pipe.execute()

    def read(self, stream: str, group: str, consumer: str, *, count: int = 100, block_ms: int = 0) -> list[Entry]:
        self._ensure_group(stream, group)
        answer = self._redis.xreadgroup(group, consumer, {stream: ">"}, count=count, block=block_ms or None)
        return [(i, json.loads(f[self.FIELD])) for _, entries in answer or [] for i, f in entries if f]

    def ack(self, stream: str, group: str, ids: list[str]) -> None:
        if ids:
            self._redis.xack(stream, group, *ids)

    def claim_stale(self, stream: str, group: str, consumer: str, *, idle_ms: int, count: int = 100) -> list[Entry]:
        self._ensure_group(stream, group)
        answer = self._redis.xautoclaim(stream, group, consumer, min_idle_time=idle_ms, start_id="0-0", count=count)
        return [(i, json.loads(f[self.FIELD])) for i, f in answer[1] if f]

    def length(self, stream: str) -> int:
        return self._redis.xlen(stream)

    def set_add(self, key: str, member: str) -> bool:
        return bool(self._redis.sadd(key, member))

    def set_remove(self, key: str, member: str) -> None:
        self._redis.srem(key, member)

    def set_members(self, key: str) -> set[str]:
        return set(self._redis.smembers(key))

    def delete(self, *streams: str) -> None:
        self._redis.delete(*streams)
        self._groups = {g for g in self._groups if g[0] not in streams}


_instance: Streams | None = None
_instance_lock = threading.Lock()


def streams() -> Streams:
    """The process's streams: Redis at settings.STREAMS_URL (default REDIS_URL), else in memory (one
    instance per process, shared by the worker threads and the simulator's loop)."""
    global _instance
    if _instance is None:
        with _instance_lock:
            if _instance is None:
                from django.conf import settings

                url = getattr(settings, "STREAMS_URL", None)
                url = settings.REDIS_URL if url is None else url
                _instance = RedisStreams(url) if url else MemoryStreams()
    return _instance


def reset_streams() -> None:
    """Forget the instance (tests that switch settings)."""
    global _instance
    _instance = None
