"""Sequence numbers for pushed streams (books, blotters, ladders): strictly increasing per
stream, unique across processes (an atomic INCR in the shared cache, Redis in production)
and still increasing after a restart, because a new counter starts from the clock."""

import time

from django.core.cache import cache

KEY = "seq:{stream}"
TIMEOUT = None  # never expires


def next_sequence(stream: str, *, backend=None) -> int:
    backend = backend or cache
    key = KEY.format(stream=stream)
    # A lost counter (first use, a cache flush, an embedded restart) resumes above any number
    # handed out before it: microseconds since the epoch outrun one increment per event.
    backend.add(key, int(time.time() * 1_000_000), timeout=TIMEOUT)
    return backend.incr(key)


async def current_sequences(streams: list[str], *, backend=None) -> dict[str, int | None]:
    """The last number handed out on each stream, None where none has been yet."""
    backend = backend or cache
    found = await backend.aget_many([KEY.format(stream=s) for s in streams])
    return {s: found.get(KEY.format(stream=s)) for s in streams}
