# ruff: noqa: F811  (pytest fixtures imported from tests.ems.fixtures are parameters here)
"""The execution desk's pages: the blotter and the ticket for the desk only, an execution's
page for whoever may see its order; and /ws/executions/ for the desk only."""

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model

from config.asgi import application
from ems import services
from tests.ems.fixtures import demo, market, memory_streams, submit, users  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def page(client, user, path):
    client.force_login(user)
    return client.get(path)


def test_the_blotter_and_the_ticket_are_the_desks(client, market):
    order = submit()
    pm, trader = users()
    assert page(client, trader, "/trader/executions/").status_code == 200
    assert page(client, trader, f"/orders/{order.pk}/execute/").status_code == 200
    assert page(client, pm, "/trader/executions/").status_code == 403
    assert page(client, pm, f"/orders/{order.pk}/execute/").status_code == 403


def test_an_execution_page_for_whoever_may_see_its_order(client, market):
    order = submit()
    pm, trader = users()
    execution = services.execution_start(actor=trader, order_id=order.pk)
    assert b"Execution #%d" % execution.pk in page(client, trader, f"/executions/{execution.pk}/").content
    assert page(client, pm, f"/executions/{execution.pk}/").status_code == 200
    pm2 = get_user_model().objects.get(username="pm2")
    assert page(client, pm2, f"/executions/{execution.pk}/").status_code == 404


def test_the_order_page_links_its_execution(client, market):
    order = submit()
    _, trader = users()
    assert b'id="work-order"' in page(client, trader, f"/orders/{order.pk}/").content
    execution = services.execution_start(actor=trader, order_id=order.pk)
    assert f'href="/executions/{execution.pk}/"'.encode() in page(client, trader, f"/orders/{order.pk}/").content


def connect(user):
    async def attempt():
        communicator = WebsocketCommunicator(
            application, "/ws/executions/", headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
        )
        communicator.scope["user"] = user
        connected, code = await communicator.connect()
        first = await communicator.receive_json_from(timeout=5) if connected else None
        await communicator.disconnect()
        return connected, code, first

    return async_to_sync(attempt)()


def test_the_blotter_stream_is_for_the_desk(market):
    pm, trader = users()
    connected, _, hello = connect(trader)
    assert connected and hello == {"type": "hello", "seqs": {"executions.desk": hello["seqs"]["executions.desk"]}}
    assert connect(pm)[:2] == (False, 4403)
