"""Disabling a user closes the websockets they hold at once (the sessions behind them end),
while everyone else's stay open."""

import pytest
from channels.db import database_sync_to_async

from accounts.services import user_disable
from accounts.sockets import SESSION_ENDED
from tests.oms.test_websocket import TIMEOUT, connected, cookie_of, submit

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_disabled_users_sockets_close_and_others_stay(pm, trader, admin_user, portfolio, aapl):
    pm_socket, _ = await connected(await database_sync_to_async(cookie_of)(pm))
    desk_socket, _ = await connected(await database_sync_to_async(cookie_of)(trader))

    await database_sync_to_async(user_disable)(actor=admin_user, user_id=trader.pk)
    closed = await desk_socket.receive_output(timeout=TIMEOUT)
    assert closed == {"type": "websocket.close", "code": SESSION_ENDED}
    await desk_socket.disconnect()  # the browser's side of the close: the consumer ends

    # the PM's socket lives on: the next order reaches it
    order = await submit(pm, portfolio, aapl)
    message = await pm_socket.receive_json_from(timeout=TIMEOUT)
    assert (message["type"], message["order"]["id"]) == ("order.update", order.pk)
    await pm_socket.disconnect()
