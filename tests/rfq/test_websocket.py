"""Websocket /ws/rfqs/{id}/ through the real ASGI application and the configured channel
layer (Redis in CI): authorisation, ladder pushes numbered per RFQ as quotes arrive, and a
reconnecting client that gets the current ladder."""

from decimal import Decimal as D

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from config.asgi import application
from rfq import services
from rfq.consumers import NOT_ALLOWED

pytestmark = pytest.mark.django_db(transaction=True)
TIMEOUT = 10


def cookie_of(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def socket(rfq_id: int, cookie: bytes | None = None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://127.0.0.1")] + ([(b"cookie", cookie)] if cookie else [])
    return WebsocketCommunicator(application, f"/ws/rfqs/{rfq_id}/", headers=headers)


@database_sync_to_async
def sent_rfq(trader, order):
    # Sent here, in the transaction that opens it: a worker running for other tests then
    # finds it sent, and no simulated provider quotes into this test.
    with transaction.atomic():
        rfq = services.rfq_open(actor=trader, order_id=order.pk)
        services.rfq_disseminate(rfq_id=rfq.pk)
    return rfq


@database_sync_to_async
def submit(rfq, name, ask):
    inv = rfq.invitations.get(counterparty__name=name)
    return services.quote_submit(invitation_id=inv.pk, bid=None, ask=D(ask), size=D("10000"), validity_seconds=60)


@database_sync_to_async
def snapshot(user, rfq_id):
    c = APIClient()
    c.force_authenticate(user)
    return c.get(f"/api/rfqs/{rfq_id}/").json()


async def receive_until(ws, predicate):
    while True:
        m = await ws.receive_json_from(timeout=TIMEOUT)
        if predicate(m):
            return m


async def test_quotes_reach_the_trader_live_numbered_and_a_reconnect_gets_the_ladder(trader, order, counterparties):
    cookie = await database_sync_to_async(cookie_of)(trader)
    rfq = await sent_rfq(trader, order)
    ws = socket(rfq.pk, cookie)
    assert (await ws.connect(timeout=TIMEOUT))[0]
    hello = await ws.receive_json_from(timeout=TIMEOUT)
    stream = f"rfq.{rfq.pk}"
    assert hello["type"] == "hello" and set(hello["seqs"]) == {stream}
    q1 = await submit(rfq, "Apex Markets", "190.10")
    m1 = await ws.receive_json_from(timeout=TIMEOUT)
    assert (m1["type"], m1["stream"]) == ("rfq.ladder", stream)
    # Each quote comes as the ladder's delta: its row added (rfq.push; test_push applies them).
    assert [(r["quote"], r["price"]) for r in m1["delta"]["add"]] == [(q1.pk, "190.10000000")]
    assert m1["rfq"]["status"] == "QUOTING" and m1["rfq"]["seq"] == m1["seq"]
    q2 = await submit(rfq, "Birch Capital", "190.02")
    m2 = await ws.receive_json_from(timeout=TIMEOUT)
    assert m2["seq"] == m1["seq"] + 1
    assert [r["quote"] for r in m2["delta"]["add"]] == [q2.pk] and m2["delta"]["remove"] == []
    await ws.disconnect()

    # Reconnect: the hello's number and the snapshot agree, and the snapshot is the current ladder.
    again = socket(rfq.pk, cookie)
    assert (await again.connect(timeout=TIMEOUT))[0]
    hello2 = await again.receive_json_from(timeout=TIMEOUT)
    assert hello2["seqs"] == {stream: m2["seq"]}
    snap = await snapshot(trader, rfq.pk)
    assert snap["seq"] == m2["seq"] and [r["quote"] for r in snap["ladder"]] == [q2.pk, q1.pk]
    await again.disconnect()


async def test_only_desk_users_who_may_see_the_order_connect(pm, trader, order, counterparties):
    rfq = await sent_rfq(trader, order)
    for cookie in (None, await database_sync_to_async(cookie_of)(pm)):
        ws = socket(rfq.pk, cookie)
        connected, code = await ws.connect(timeout=TIMEOUT)
        assert (connected, code) == (False, NOT_ALLOWED)
    ws = socket(999999, await database_sync_to_async(cookie_of)(trader))
    assert (await ws.connect(timeout=TIMEOUT)) == (False, NOT_ALLOWED)
