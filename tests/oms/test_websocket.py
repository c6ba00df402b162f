"""Websocket /ws/orders/ through the real ASGI application and the configured channel layer:
order updates pushed after commit by oms.push, numbered per stream, only to the users who may
see the order (a PM: the portfolios they own; the desk: everything)."""

from decimal import Decimal as D

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from config.asgi import application
from oms import push, services
from oms.consumers import NOT_ALLOWED
from oms.models import Order

pytestmark = pytest.mark.django_db(transaction=True)
TIMEOUT = 10  # generous: a slow machine must not fail the test, a missing message must


def cookie_of(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def socket(cookie: bytes | None = None, origin: bytes = b"http://127.0.0.1") -> WebsocketCommunicator:
    headers = [(b"origin", origin)] + ([(b"cookie", cookie)] if cookie else [])
    return WebsocketCommunicator(application, "/ws/orders/", headers=headers)


async def connected(cookie: bytes) -> tuple[WebsocketCommunicator, dict]:
    ws = socket(cookie)
    assert (await ws.connect(timeout=TIMEOUT))[0]
    hello = await ws.receive_json_from(timeout=TIMEOUT)
    assert hello["type"] == "hello"
    return ws, hello


@database_sync_to_async
def submit(user, portfolio, instrument, quantity="100") -> Order:
    return services.order_submit(
        actor=user, portfolio=portfolio, instrument=instrument, side="BUY", quantity=D(quantity), urgency="LOW"
    )


@database_sync_to_async
def api_submit(user, portfolio, quantity="100") -> dict:
    client = APIClient()
    client.force_authenticate(user)
    body = {"portfolio": portfolio.pk, "instrument": "AAPL", "side": "BUY", "quantity": quantity, "urgency": "LOW"}
    r = client.post("/api/orders/", body, format="json")
    assert r.status_code == 201, r.content
    return r.json()


@database_sync_to_async
def api_cancel(user, order_id: int) -> dict:
    client = APIClient()
    client.force_authenticate(user)
    r = client.post(f"/api/orders/{order_id}/cancel/")
    assert r.status_code == 200, r.content
    return r.json()


@database_sync_to_async
def api_list_item(user, order_id: int) -> dict:
    client = APIClient()
    client.force_authenticate(user)
    return next(o for o in client.get("/api/orders/?limit=100").json()["results"] if o["id"] == order_id)


@pytest.fixture
def cookies(pm, pm2, trader, admin_user):
    return {u.username: cookie_of(u) for u in (pm, pm2, trader, admin_user)}


async def test_an_order_submitted_through_the_api_reaches_the_desk_and_its_pm(cookies, pm, trader, portfolio, aapl):
    desk, desk_hello = await connected(cookies["trader"])
    owner, owner_hello = await connected(cookies["pm"])
    assert list(desk_hello["seqs"]) == [push.DESK_GROUP]
    assert list(owner_hello["seqs"]) == [push.portfolio_group(portfolio.pk)]

    created = await api_submit(pm, portfolio)
    for ws, stream in ((desk, push.DESK_GROUP), (owner, push.portfolio_group(portfolio.pk))):
        message = await ws.receive_json_from(timeout=TIMEOUT)
        assert (message["type"], message["stream"]) == ("order.update", stream)
        # the pushed row is the REST list item, decimals as strings
        assert message["order"] == created == await api_list_item(trader, created["id"])
        assert (message["order"]["status"], message["order"]["quantity"]) == ("ACCEPTED", "100.00000000")
        assert message["order"]["leaves_quantity"] == "100.00000000" and message["order"]["filled_percent"] == "0.00"

    await api_cancel(trader, created["id"])
    cancelled = await desk.receive_json_from(timeout=TIMEOUT)
    assert (cancelled["order"]["id"], cancelled["order"]["status"]) == (created["id"], "CANCELLED")
    assert (await owner.receive_json_from(timeout=TIMEOUT))["order"]["status"] == "CANCELLED"
    assert await desk.receive_nothing(timeout=0.1) and await owner.receive_nothing(timeout=0.1)
    await desk.disconnect()
    await owner.disconnect()


async def test_updates_are_numbered_per_stream_without_gaps(cookies, pm, portfolio, aapl):
    ws, hello = await connected(cookies["trader"])
    first = await submit(pm, portfolio, aapl)
    await database_sync_to_async(services.order_cancel)(actor=pm, order_id=first.pk)
    await submit(pm, portfolio, aapl)
    seqs = [(await ws.receive_json_from(timeout=TIMEOUT))["seq"] for _ in range(3)]
    base = seqs[0] - 1
    assert seqs == [base + 1, base + 2, base + 3]
    # the hello is the stream's number as of subscription: the first update follows it
    assert hello["seqs"][push.DESK_GROUP] in (None, base)
    again, later_hello = await connected(cookies["admin"])
    assert later_hello["seqs"] == {push.DESK_GROUP: base + 3}
    await ws.disconnect()
    await again.disconnect()


async def test_a_pm_hears_only_the_portfolios_they_own(cookies, pm, pm2, portfolio, portfolio2, aapl):
    mine, _ = await connected(cookies["pm"])
    theirs, _ = await connected(cookies["pm2"])
    other = await submit(pm2, portfolio2, aapl)
    own = await submit(pm, portfolio, aapl, quantity="7")
    # The first message pm receives is their own later order: pm2's never came.
    first = await mine.receive_json_from(timeout=TIMEOUT)
    assert (first["order"]["id"], first["order"]["portfolio"]) == (own.pk, portfolio.pk)
    assert (await theirs.receive_json_from(timeout=TIMEOUT))["order"]["id"] == other.pk
    assert await theirs.receive_nothing(timeout=0.1)
    await mine.disconnect()
    await theirs.disconnect()


async def test_nothing_is_pushed_for_a_rolled_back_change(cookies, pm, portfolio, aapl):
    ws, _ = await connected(cookies["trader"])

    @database_sync_to_async
    def change_then_roll_back():
        order = Order.objects.select_related("portfolio", "instrument", "created_by").get()
        with pytest.raises(RuntimeError), transaction.atomic():
            order.status = "CANCELLED"
            push.order_changed(order)
            raise RuntimeError("rolled back")

    first = await submit(pm, portfolio, aapl)
    assert (await ws.receive_json_from(timeout=TIMEOUT))["order"]["id"] == first.pk
    await change_then_roll_back()
    await database_sync_to_async(services.order_cancel)(actor=pm, order_id=first.pk)
    message = await ws.receive_json_from(timeout=TIMEOUT)
    assert message["order"]["status"] == "CANCELLED"  # the committed cancel, not the rolled-back change
    assert await ws.receive_nothing(timeout=0.1)
    await ws.disconnect()


async def test_anonymous_and_users_without_a_role_are_refused(make_user, pm):
    assert await socket().connect(timeout=TIMEOUT) == (False, NOT_ALLOWED)
    nobody = await database_sync_to_async(make_user)("visitor")
    cookie = await database_sync_to_async(cookie_of)(nobody)
    assert await socket(cookie).connect(timeout=TIMEOUT) == (False, NOT_ALLOWED)


async def test_foreign_origin_is_refused(cookies):
    connected_, _ = await socket(cookies["trader"], origin=b"http://evil.example").connect(timeout=TIMEOUT)
    assert connected_ is False


async def test_what_a_client_sends_is_ignored(cookies, pm, portfolio, aapl):
    ws, _ = await connected(cookies["trader"])
    await ws.send_to(text_data='{"type": "order.update", "order": {"id": 1}}')
    await ws.send_to(bytes_data=b"\x00\x01")
    order = await submit(pm, portfolio, aapl)
    assert (await ws.receive_json_from(timeout=TIMEOUT))["order"]["id"] == order.pk  # still served
    assert await Order.objects.acount() == 1
    await ws.disconnect()
