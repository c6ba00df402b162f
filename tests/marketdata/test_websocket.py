"""Websocket /ws/marketdata/{symbol}/ through the real ASGI application and the configured
channel layer (channels_redis on the real Redis in CI): books published by the publisher
arrive in order with their sequence numbers, to authenticated desk users only."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.test import Client

from config.asgi import application
from marketdata.consumers import NOT_ALLOWED
from marketdata.feeds import SimulatorFeed
from marketdata.publisher import Publisher, build_simulator, instrument_grids
from marketdata.selectors import snapshot_key
from marketdata.sim import VirtualClock

pytestmark = pytest.mark.django_db(transaction=True)
TIMEOUT = 10  # generous: a slow machine must not fail the test, a missing message must


def cookie_of(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def socket(symbol: str, cookie: bytes | None = None, origin: bytes = b"http://127.0.0.1") -> WebsocketCommunicator:
    headers = [(b"origin", origin)] + ([(b"cookie", cookie)] if cookie else [])
    return WebsocketCommunicator(application, f"/ws/marketdata/{symbol}/", headers=headers)


@pytest.fixture
def market(aapl, btc, lit_venues, no_snapshots):
    clock = VirtualClock()
    return clock, Publisher(SimulatorFeed(build_simulator(seed=5, clock=clock), clock), instrument_grids())


@pytest.fixture
def trader_cookie(trader):
    return cookie_of(trader)


async def test_updates_arrive_in_sequence_through_the_channel_layer(market, trader_cookie):
    clock, publisher = market
    ws = socket("AAPL", trader_cookie)
    other = socket("BTC-USD", trader_cookie)
    assert (await ws.connect(timeout=TIMEOUT))[0] and (await other.connect(timeout=TIMEOUT))[0]
    assert await ws.receive_nothing(timeout=0.2)  # nothing published yet, nothing cached

    clock.advance(5)
    assert await publisher.publish_once() == 2
    first = await ws.receive_json_from(timeout=TIMEOUT)
    assert first["symbol"] == "AAPL" and first == await cache.aget(snapshot_key("AAPL"))
    assert set(first["venues"]) == {"NEXA", "LUMA", "ORBIT"} and first["best_bid"] and first["best_ask"]

    clock.advance(5)
    await publisher.publish_once()
    second = await ws.receive_json_from(timeout=TIMEOUT)
    assert second["seq"] == first["seq"] + 1
    assert second == await cache.aget(snapshot_key("AAPL"))  # the push is the cached snapshot
    # another symbol's group hears only its own books
    assert [(await other.receive_json_from(timeout=TIMEOUT))["symbol"] for _ in range(2)] == ["BTC-USD"] * 2
    assert await other.receive_nothing(timeout=0.2)
    await ws.disconnect()
    await other.disconnect()


async def test_a_late_subscriber_starts_from_the_latest_snapshot(market, trader_cookie):
    clock, publisher = market
    for _ in range(3):
        clock.advance(5)
        await publisher.publish_once()
    ws = socket("AAPL", trader_cookie)
    assert (await ws.connect(timeout=TIMEOUT))[0]
    snapshot = await ws.receive_json_from(timeout=TIMEOUT)
    assert snapshot == await cache.aget(snapshot_key("AAPL"))
    clock.advance(5)
    await publisher.publish_once()
    assert (await ws.receive_json_from(timeout=TIMEOUT))["seq"] == snapshot["seq"] + 1  # then events, no gap
    await ws.disconnect()


async def test_anonymous_websocket_is_refused(market):
    ws = socket("AAPL")
    assert await ws.connect(timeout=TIMEOUT) == (False, NOT_ALLOWED)


def test_user_without_a_desk_role_is_refused(market, make_user):
    from asgiref.sync import async_to_sync

    cookie = cookie_of(make_user("visitor"))
    ws = socket("AAPL", cookie)
    assert async_to_sync(ws.connect)(timeout=TIMEOUT) == (False, NOT_ALLOWED)


async def test_foreign_origin_is_refused(market, trader_cookie):
    ws = socket("AAPL", trader_cookie, origin=b"http://evil.example")
    connected, _ = await ws.connect(timeout=TIMEOUT)
    assert connected is False


async def test_unknown_symbol_and_unrouted_paths_are_refused(market, trader_cookie):
    from marketdata.consumers import NOT_FOUND

    assert await socket("NOPE", trader_cookie).connect(timeout=TIMEOUT) == (False, NOT_FOUND)
    assert await socket("A" * 41, trader_cookie).connect(timeout=TIMEOUT) == (False, NOT_FOUND)
    stray = WebsocketCommunicator(application, "/ws/elsewhere/", headers=[(b"origin", b"http://127.0.0.1")])
    assert await stray.connect(timeout=TIMEOUT) == (False, NOT_FOUND)


async def test_what_a_client_sends_is_ignored(market, trader_cookie):
    clock, publisher = market
    ws = socket("AAPL", trader_cookie)
    assert (await ws.connect(timeout=TIMEOUT))[0]
    await ws.send_to(text_data="hello")
    await ws.send_to(bytes_data=b"\x00\x01")
    clock.advance(5)
    await publisher.publish_once()
    book = await ws.receive_json_from(timeout=TIMEOUT)
    assert book == await cache.aget(snapshot_key("AAPL"))  # still connected and served
    await ws.disconnect()


def overview_socket(cookie: bytes | None = None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://127.0.0.1")] + ([(b"cookie", cookie)] if cookie else [])
    return WebsocketCommunicator(application, "/ws/marketdata/", headers=headers)


async def test_the_overview_stream_carries_every_instrument_on_one_socket(market, trader_cookie):
    clock, publisher = market
    clock.advance(5)
    await publisher.publish_once()
    ws = overview_socket(trader_cookie)
    assert (await ws.connect(timeout=TIMEOUT))[0]
    # first the latest cached book of each instrument, then every new book, each with its seq
    cached = {b["symbol"]: b for b in [await ws.receive_json_from(timeout=TIMEOUT) for _ in range(2)]}
    assert cached == {s: await cache.aget(snapshot_key(s)) for s in ("AAPL", "BTC-USD")}
    clock.advance(5)
    await publisher.publish_once()
    live = [await ws.receive_json_from(timeout=TIMEOUT) for _ in range(2)]
    assert sorted((b["symbol"], b["seq"]) for b in live) == sorted((s, b["seq"] + 1) for s, b in cached.items())
    assert {b["symbol"]: b for b in live} == {s: await cache.aget(snapshot_key(s)) for s in ("AAPL", "BTC-USD")}
    assert await ws.receive_nothing(timeout=0.2)
    await ws.disconnect()


async def test_the_overview_stream_skips_inactive_instruments(market, trader_cookie, aapl, btc):
    clock, publisher = market
    btc.is_active = False
    await btc.asave(update_fields=["is_active"])
    ws = overview_socket(trader_cookie)
    assert (await ws.connect(timeout=TIMEOUT))[0]
    clock.advance(5)
    await publisher.publish_once()
    assert [(await ws.receive_json_from(timeout=TIMEOUT))["symbol"]] == ["AAPL"]
    assert await ws.receive_nothing(timeout=0.2)
    await ws.disconnect()


async def test_the_overview_stream_refuses_anonymous_and_role_less_users(market, make_user):
    assert await overview_socket().connect(timeout=TIMEOUT) == (False, NOT_ALLOWED)
    cookie = await database_sync_to_async(lambda: cookie_of(make_user("visitor")))()
    assert await overview_socket(cookie).connect(timeout=TIMEOUT) == (False, NOT_ALLOWED)
