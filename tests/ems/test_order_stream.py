# ruff: noqa: F811  (pytest fixtures imported from tests.ems.fixtures are parameters here)
"""/ws/orders/ carries execution updates too, on the order's own streams: the desk and the
order's PM follow the work; another PM hears nothing of it."""

import pytest
from channels.db import database_sync_to_async

from ems import services
from oms import push
from tests.ems.fixtures import demo, market, memory_streams, submit, users  # noqa: F401
from tests.oms.test_websocket import TIMEOUT, connected, cookie_of

pytestmark = pytest.mark.django_db(transaction=True)


async def until(ws, wanted):
    """The first message `wanted` accepts (others on the stream are skipped)."""
    while True:
        message = await ws.receive_json_from(timeout=TIMEOUT)
        if wanted(message):
            return message


async def test_an_execution_streams_to_the_desk_and_its_pm_only(market):
    from django.contrib.auth import get_user_model

    pm, trader = await database_sync_to_async(users)()
    pm2 = await database_sync_to_async(get_user_model().objects.get)(username="pm2")
    cookies = {u.username: await database_sync_to_async(cookie_of)(u) for u in (pm, pm2, trader)}
    desk, _ = await connected(cookies["trader"])
    owner, _ = await connected(cookies["pm"])
    other, _ = await connected(cookies["pm2"])

    order = await database_sync_to_async(submit)(quantity="300")
    execution = await database_sync_to_async(services.execution_start)(
        actor=trader, order_id=order.pk, strategy="TWAP", parameters={"horizon_seconds": 600}
    )
    for ws, stream in ((desk, push.DESK_GROUP), (owner, push.portfolio_group(order.portfolio_id))):
        message = await until(ws, lambda m: m["type"] == "execution.update")
        assert message["stream"] == stream
        assert (message["execution"]["id"], message["execution"]["order"]) == (execution.pk, order.pk)
        assert message["execution"]["strategy"] == "TWAP"

    # pm2's stream: the next thing it hears is its own order, nothing of pm's execution before it
    theirs = await database_sync_to_async(_submit_for)(pm2)
    first = await other.receive_json_from(timeout=TIMEOUT)
    assert (first["type"], first["order"]["id"]) == ("order.update", theirs.pk)
    for ws in (desk, owner, other):
        await ws.disconnect()


def _submit_for(user):
    from decimal import Decimal as D

    from marketdata.models import Instrument
    from oms.models import Portfolio
    from oms.services import order_submit

    portfolio = Portfolio.objects.filter(owner=user).order_by("pk").first()
    return order_submit(
        actor=user, portfolio=portfolio, instrument=Instrument.objects.get(symbol="AAPL"), side="BUY", quantity=D(5)
    )
