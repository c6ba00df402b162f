"""Clients load a snapshot, then apply pushes (static/js/rfq-ladder.js): every push of an
RFQ, applied in order to an older snapshot, gives the fresh snapshot of that moment, through
the configured channel layer (Redis in CI). Numbers rise by one per push and a snapshot
carries the number of the last push it holds."""

import asyncio
import contextlib
import time
from decimal import Decimal as D

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import transaction

from marketdata.selectors import snapshot_key
from rfq import push, selectors, services
from tests.rfq.conftest import at

pytestmark = pytest.mark.django_db(transaction=True)
TIMEOUT = 10


def apply(state: dict, message: dict) -> dict:
    """What the browser does with a push: replace the fields it carries."""
    assert message["seq"] == state["seq"] + 1 == message["rfq"]["seq"]
    return {**state, **message["rfq"]}


@contextlib.asynccontextmanager
async def listening(rfq_id: int):
    """A channel in the RFQ's group, as a websocket consumer has, left again whatever happens."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(push.group_of(rfq_id), channel)
    try:
        yield layer, channel
    finally:
        await layer.group_discard(push.group_of(rfq_id), channel)


async def next_push(layer, channel: str, after: int) -> dict:
    """The next push numbered above `after` (the dissemination's may still be on its way)."""
    while True:
        event = await asyncio.wait_for(layer.receive(channel), TIMEOUT)
        if event["message"]["seq"] > after:
            return event["message"]


@database_sync_to_async
def sent_rfq(trader, order):
    # Sent in the transaction that opens it: a worker running for other tests then finds it
    # sent, and no simulated provider quotes into this test.
    with transaction.atomic():
        rfq = services.rfq_open(actor=trader, order_id=order.pk, now=at(0))
        services.rfq_disseminate(rfq_id=rfq.pk, now=at(0))
    return rfq


async def test_applying_the_pushes_to_an_old_snapshot_gives_the_fresh_snapshot(trader, order, counterparties):
    rfq = await sent_rfq(trader, order)
    invitation = dict(await database_sync_to_async(list)(rfq.invitations.values_list("counterparty__name", "pk")))
    async with listening(rfq.pk) as (layer, channel):
        snapshot = database_sync_to_async(selectors.rfq_snapshot)
        state = await snapshot(rfq.pk, now=at(0))
        assert state["seq"] == 1  # the dissemination's push

        def offer(name, ask, validity):
            def run(t):
                return services.quote_submit(
                    invitation_id=invitation[name],
                    bid=None,
                    ask=D(ask),
                    size=D("10000"),
                    validity_seconds=validity,
                    now=at(t),
                )

            return run

        def last_look_rejected(t):
            cache.set(snapshot_key("AAPL"), {"mid": "190.50", "published_at": time.time()})  # Apex is now 29 bps off
            apex = rfq.quotes.get(counterparty__name="Apex Markets", status="LIVE")
            assert not services.rfq_execute(actor=trader, rfq_id=rfq.pk, quote_id=apex.pk, now=at(t)).accepted

        def executed(t):
            birch = rfq.quotes.get(counterparty__name="Birch Capital", status="LIVE")
            assert services.rfq_execute(actor=trader, rfq_id=rfq.pk, quote_id=birch.pk, now=at(t)).accepted

        steps = [
            # (seconds, change, pushed as a ladder patch rather than a whole snapshot)
            (1.0, offer("Apex Markets", "190.10", 5), True),
            (1.5, offer("Birch Capital", "190.60", 8), True),
            (2.0, offer("Apex Markets", "190.05", 5), True),  # an update replaces Apex's quote
            (2.5, lambda t: services.invitation_pass(invitation_id=invitation["Dune Liquidity"], now=at(t)), True),
            (3.0, offer("Cobalt Trading", "190.30", 1), True),  # valid until 4 s
            (3.5, offer("Ember Securities", "190.40", 5), True),
            (4.5, lambda t: services.quote_withdraw(invitation_id=invitation["Ember Securities"], now=at(t)), True),
            (5.0, last_look_rejected, False),
            (5.5, executed, False),
        ]
        for seconds, change, patch in steps:
            await database_sync_to_async(change)(seconds)
            message = await next_push(layer, channel, after=state["seq"])
            assert ("legs" not in message["rfq"]) is patch
            state = apply(state, message)
            assert state == await snapshot(rfq.pk, now=at(seconds)), f"after the change at {seconds} s"

        # The ladder went through every case: an update, a pass, an expiry, a withdrawal, last look.
        assert state["status"] == "EXECUTED" and state["execution"]["provider"] == "Birch Capital"
        assert [r["provider"] for r in state["rejections"]] == ["Apex Markets"]
        assert {c["name"]: c["passed"] for c in state["counterparties"]}["Dune Liquidity"] is True


async def test_a_rolled_back_change_pushes_nothing_and_keeps_the_number(trader, order, counterparties):
    rfq = await sent_rfq(trader, order)
    async with listening(rfq.pk) as (layer, channel):
        apex = await database_sync_to_async(rfq.invitations.get)(counterparty__name="Apex Markets")

        class Abort(Exception):
            pass

        @database_sync_to_async
        def rolled_back_then_kept():
            with pytest.raises(Abort), transaction.atomic():
                services.quote_submit(
                    invitation_id=apex.pk, bid=None, ask=D("190.10"), size=D("1"), validity_seconds=5, now=at(1)
                )
                raise Abort
            return services.quote_submit(
                invitation_id=apex.pk, bid=None, ask=D("190.20"), size=D("1"), validity_seconds=5, now=at(2)
            )

        kept = await rolled_back_then_kept()
        message = await next_push(layer, channel, after=1)
        # The first push after the dissemination is the kept quote's, numbered 2: the rolled-back
        # one sent nothing and its number went with it.
        assert message["seq"] == 2 and [r["quote"] for r in message["rfq"]["ladder"]] == [kept.pk]
        assert (await database_sync_to_async(selectors.rfq_snapshot)(rfq.pk))["seq"] == 2
