"""Sending a round of pushes to the channel layer: one event loop for all of them, the
streams in parallel, each stream's messages in order (its sequence numbers must arrive
increasing). The push modules (oms.push, ems.push) number and batch; this only sends."""

import asyncio

from asgiref.sync import async_to_sync


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

    async_to_sync(send_all)()
