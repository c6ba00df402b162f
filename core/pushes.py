"""Sending a round of pushes to the channel layer: one event loop for all of them, the
streams in parallel, each stream's messages in order (its sequence numbers must arrive
increasing). The push modules (oms.push, ems.push) number and batch; this only sends."""

import asyncio
import os
import threading

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer

_local = threading.local()


def group_send_all(layer, messages: list[tuple[str, dict]]) -> None:
    """`layer.group_send(group, event)` for every (group, event), in order within a group."""
    by_group: dict[str, list[dict]] = {}
    for group, event in messages:
        by_group.setdefault(group, []).append(event)

    async def one_group(group: str, events: list[dict]) -> None:
        for event in events:
            await layer.group_send(group, event)

    async def send_all() -> None:
        await asyncio.gather(*(one_group(group, events) for group, events in by_group.items()))

    if isinstance(layer, InMemoryChannelLayer):
        async_to_sync(send_all)()  # its queues belong to the loop of the consumers reading them
    else:
        # The same loop every time: the Redis layer keeps its connections per loop, and a new
        # loop per round (async_to_sync) connected anew each time.
        _thread_loop().run_until_complete(send_all())


def _thread_loop() -> asyncio.AbstractEventLoop:
    """This thread's loop for pushes; a new one in a forked child (a Celery prefork worker),
    which must not share its parent's connections."""
    if getattr(_local, "pid", None) != os.getpid():
        _local.loop, _local.pid = asyncio.new_event_loop(), os.getpid()
    return _local.loop
