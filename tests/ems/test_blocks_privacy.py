# ruff: noqa: F811  (pytest fixtures imported from tests.ems.fixtures are parameters here)
"""A PM sees their own order's allocations, the block's average price and their share, and
nothing of the other members: pm2 learns nothing about pm's membership on the API, the
pages or the websockets. The desk sees every member."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient

from config.asgi import application
from ems import blocks, services
from ems.models import BlockAllocation
from tests.ems.fixtures import demo, market, memory_streams  # noqa: F401
from tests.ems.test_blocks import people, submit_as
from tests.oms.test_websocket import TIMEOUT, connected, cookie_of

pytestmark = pytest.mark.django_db(transaction=True)


def worked_block(market):
    """pm's two orders and pm2's one, blocked, worked and filled."""
    a = submit_as("pm", quantity="300")
    b = submit_as("pm", quantity="500")
    c = submit_as("pm2", quantity="200")
    block = blocks.block_form(actor=people()["trader"], order_ids=[a.pk, b.pk, c.pk]).block
    execution = blocks.block_execution_start(actor=people()["trader"], block_id=block.pk, strategy="DIRECT")
    services.execution_tick(execution_id=execution.pk)
    market.round()
    for order in (a, b, c):
        order.refresh_from_db()
    assert {o.status for o in (a, b, c)} == {"FILLED"}
    return block, execution, (a, b), c


def client_for(username):
    client = APIClient()
    client.force_authenticate(people()[username])
    return client


def leaks(text: str, orders, portfolio_name: str) -> list[str]:
    """What of pm's membership appears in `text`."""
    found = []
    data = json.loads(text) if text.strip().startswith(("{", "[")) else None
    ids = set()

    def walk(value, key=None):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif key == "order" and isinstance(value, int):
            ids.add(value)
        elif isinstance(value, str) and key == "fill_id" and "/" in value:
            ids.add(int(value.rsplit("/", 1)[1]))

    if data is not None:
        walk(data)
        found += [f"order {o.pk}" for o in orders if o.pk in ids]
    if portfolio_name in text:
        found.append(portfolio_name)
    for order in orders:
        if f"/orders/{order.pk}/" in text:
            found.append(f"link to {order.pk}")
    return found


def test_pm2_sees_only_their_own_allocation_on_the_api(market):
    block, execution, pms, theirs = worked_block(market)
    pm_portfolio = pms[0].portfolio.name
    pm2 = client_for("pm2")
    listed = pm2.get("/api/blocks/")
    assert listed.status_code == 200
    rows = listed.json()["results"] if isinstance(listed.json(), dict) else listed.json()
    assert [r["id"] for r in rows] == [block.pk]
    mine = rows[0]["mine"]
    assert [m["order"] for m in mine] == [theirs.pk]
    assert mine[0]["allocated_quantity"] == "200.00000000"
    assert mine[0]["share"] == "0.2000"  # 200 of the block's 1,000: their share
    assert rows[0]["average_price"] == str(execution.__class__.objects.get(pk=execution.pk).average_price)
    assert {a["fill_id"] for a in mine[0]["allocations"]} == set(
        BlockAllocation.objects.filter(order=theirs).values_list("fill_id", flat=True)
    )
    assert set(rows[0]) == {"id", "instrument", "side", "allocation", "status", "average_price", "mine"}
    detail = pm2.get(f"/api/blocks/{block.pk}/")
    assert detail.status_code == 200
    for response in (listed, detail):
        assert leaks(response.content.decode(), pms, pm_portfolio) == []
    # The block's execution, its children and fills are the desk's.
    assert pm2.get(f"/api/executions/{execution.pk}/").status_code == 404
    assert execution.pk not in [x["id"] for x in pm2.get("/api/executions/").json()["results"]]
    for order in pms:
        assert pm2.get(f"/api/orders/{order.pk}/").status_code == 404
        assert pm2.get(f"/api/tca/{order.pk}/").status_code == 404
    orders = pm2.get("/api/orders/").json()
    assert {o["id"] for o in orders["results"]} & {o.pk for o in pms} == set()
    assert leaks(json.dumps(orders), pms, pm_portfolio) == []
    # pm2 cannot form, join or leave blocks.
    assert pm2.post("/api/blocks/", {"orders": [theirs.pk, pms[0].pk]}, format="json").status_code == 403
    assert pm2.post(f"/api/blocks/{block.pk}/remove/", {"order": pms[0].pk}, format="json").status_code == 403
    assert pm2.post("/api/executions/", {"block": block.pk}, format="json").status_code == 403
    # pm sees their two, the desk all three with portfolios.
    pm_rows = client_for("pm").get(f"/api/blocks/{block.pk}/").json()
    assert sorted(m["order"] for m in pm_rows["mine"]) == sorted(o.pk for o in pms)
    assert theirs.portfolio.name not in json.dumps(pm_rows)
    desk = client_for("trader").get(f"/api/blocks/{block.pk}/").json()
    assert sorted(m["order"] for m in desk["members"]) == sorted([*(o.pk for o in pms), theirs.pk])


def test_a_pm_outside_the_block_sees_no_block(market):
    a = submit_as("pm", quantity="300")
    b = submit_as("pm", quantity="100")
    block = blocks.block_form(actor=people()["trader"], order_ids=[a.pk, b.pk]).block
    pm2 = client_for("pm2")
    assert pm2.get(f"/api/blocks/{block.pk}/").status_code == 404
    listed = pm2.get("/api/blocks/").json()
    assert (listed["results"] if isinstance(listed, dict) else listed) == []


def test_pm2_sees_only_their_own_allocation_on_the_pages(client, market):
    block, execution, pms, theirs = worked_block(market)
    client.force_login(people()["pm2"])
    assert client.get(f"/trader/blocks/{block.pk}/").status_code == 403
    assert client.get(f"/executions/{execution.pk}/").status_code == 404
    listing = client.get("/blocks/")
    assert listing.status_code == 200
    assert leaks(listing.content.decode(), pms, pms[0].portfolio.name) == []
    own = client.get(f"/orders/{theirs.pk}/")
    assert own.status_code == 200
    assert leaks(own.content.decode(), pms, pms[0].portfolio.name) == []
    for order in pms:
        assert client.get(f"/orders/{order.pk}/").status_code == 404
    client.force_login(people()["trader"])
    assert client.get(f"/trader/blocks/{block.pk}/").status_code == 200
    desk_page = client.get(f"/executions/{execution.pk}/")
    assert desk_page.status_code == 200
    assert f'href="/trader/blocks/{block.pk}/"'.encode() in desk_page.content


async def test_pm2_hears_nothing_of_pm_on_the_websockets(market):
    users = await database_sync_to_async(people)()
    cookies = {name: await database_sync_to_async(cookie_of)(users[name]) for name in ("pm2", "trader")}
    other, _ = await connected(cookies["pm2"])
    block, execution, pms, theirs = await database_sync_to_async(worked_block)(market)
    pm_portfolio = await database_sync_to_async(lambda: pms[0].portfolio.name)()
    # The block's execution stream refuses pm2.
    ws = WebsocketCommunicator(
        application,
        f"/ws/executions/{execution.pk}/",
        headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"), (b"cookie", cookies["pm2"])],
    )
    ok, code = await ws.connect(timeout=TIMEOUT)
    assert (ok, code) == (False, 4403)
    # pm2's own order stream carried pm2's order only: everything up to a sentinel of theirs.
    sentinel = await database_sync_to_async(submit_as)("pm2", quantity="100")
    heard = []
    while True:
        message = await other.receive_json_from(timeout=TIMEOUT)
        heard.append(message)
        if message.get("type") == "order.update" and message["order"]["id"] == sentinel.pk:
            break
    assert heard, "pm2 heard nothing at all"
    orders_heard = {m["order"]["id"] for m in heard if m["type"] == "order.update"}
    assert orders_heard <= {theirs.pk, sentinel.pk}
    assert theirs.pk in orders_heard  # their own allocations arrived live
    assert not [m for m in heard if m["type"] == "execution.update"]  # the block's work is the desk's
    assert leaks(json.dumps(heard), pms, pm_portfolio) == []
    await other.disconnect()
    await ws.disconnect()
