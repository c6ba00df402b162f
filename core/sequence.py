"""Sequence numbers for pushed streams (books, blotters, ladders): strictly increasing per
stream, unique across processes (an atomic INCR in the shared cache, Redis in production)
and still increasing after a restart, because a new counter starts from the clock."""

import time

from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache

KEY = "seq:{stream}"
TIMEOUT = None  # never expires


def next_sequence(stream: str, *, backend=None) -> int:
    backend = backend or cache
    key = KEY.format(stream=stream)
    # A lost counter (first use, a cache flush, an embedded restart) resumes above any number
    # handed out before it: microseconds since the epoch outrun one increment per event.
    backend.add(key, int(time.time() * 1_000_000), timeout=TIMEOUT)
    return backend.incr(key)


def next_sequences(streams: tuple[str, ...] | list[str], *, backend=None) -> dict[str, int]:
    """The next number of each stream, as `next_sequence` gives it, in one round trip to
    Redis (a pipeline of SET NX + INCR per stream) instead of three commands per stream."""
    backend = backend or caches[DEFAULT_CACHE_ALIAS]  # the backend itself, not the proxy
    client = _redis_client(backend)
    if client is None:
        return {stream: next_sequence(stream, backend=backend) for stream in streams}
    start = int(time.time() * 1_000_000)
    pipe = client.pipeline(transaction=False)
    for stream in streams:
        key = backend.make_and_validate_key(KEY.format(stream=stream))
        # Django's Redis cache stores an int as a plain integer, so INCR works on what add() wrote.
        pipe.set(key, start, nx=True)
        pipe.incr(key)
    answers = pipe.execute()
    return {stream: int(answers[2 * i + 1]) for i, stream in enumerate(streams)}


def next_sequence_list(streams: list[str], *, backend=None) -> list[int]:
    """One number for each item of `streams`, a stream named n times getting n increasing
    numbers in list order, in one round trip (SET NX + INCRBY n per distinct stream): a
    batch of pushes numbers all its messages at once."""
    backend = backend or caches[DEFAULT_CACHE_ALIAS]
    counts: dict[str, int] = {}
    for stream in streams:
        counts[stream] = counts.get(stream, 0) + 1
    client = _redis_client(backend)
    if client is None:
        return [next_sequence(stream, backend=backend) for stream in streams]
    start = int(time.time() * 1_000_000)
    pipe = client.pipeline(transaction=False)
    for stream, count in counts.items():
        key = backend.make_and_validate_key(KEY.format(stream=stream))
        pipe.set(key, start, nx=True)
        pipe.incrby(key, count)
    answers = pipe.execute()
    # INCRBY n answers the last of its n numbers: hand them out from the first.
    following = {stream: int(answers[2 * i + 1]) - count + 1 for i, (stream, count) in enumerate(counts.items())}
    numbers = []
    for stream in streams:
        numbers.append(following[stream])
        following[stream] += 1
    return numbers


def _redis_client(backend):
    """The redis-py client Django's Redis cache writes through (its first server), else None."""
    return backend._cache.get_client(write=True) if isinstance(backend, RedisCache) else None


async def current_sequences(streams: list[str], *, backend=None) -> dict[str, int | None]:
    """The last number handed out on each stream, None where none has been yet."""
    backend = backend or cache
    found = await backend.aget_many([KEY.format(stream=s) for s in streams])
    return {s: found.get(KEY.format(stream=s)) for s in streams}
