"""The whole flow through a real Celery worker on the configured broker: the API opens an
RFQ, the worker disseminates it, the simulated providers answer on their own schedule, and
the window's close expires or auto-executes it. Waits for exact states, never sleeps to
prove something did not happen."""

import time
from decimal import Decimal as D

import pytest

from config.celery import app
from oms.models import Order
from rfq.models import Quote, Rfq
from rfq.tasks import rfq_close_task, rfq_disseminate_task, rfq_provider_act_task

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError("the worker did not get there in time")
        time.sleep(0.05)
    return value


def test_tasks_are_registered_with_queue_and_limits():
    for task in (rfq_disseminate_task, rfq_provider_act_task, rfq_close_task):
        assert task.name in app.tasks and task.queue == "default" and task.time_limit == 30


def test_an_rfq_runs_end_to_end_and_auto_executes_at_the_window_end(worker, api_client, trader, order, counterparties):
    r = api_client(trader).post(
        "/api/rfqs/", {"order": order.pk, "window_seconds": 3, "auto_execute_bps": "50"}, format="json"
    )
    assert r.status_code == 201, r.content
    rfq_id = r.json()["id"]
    wait_for(lambda: Rfq.objects.filter(pk=rfq_id, status="QUOTING").exists())
    rfq = wait_for(lambda: Rfq.objects.filter(pk=rfq_id, status__in=["EXECUTED", "EXPIRED"]).first())
    assert rfq.status == "EXECUTED", list(Quote.objects.filter(rfq_id=rfq_id).values_list("status", "ask"))
    assert rfq.execution.reason == "auto-executed at the window's end: within 50.00 bps of the mid"
    o = Order.objects.get(pk=order.pk)
    assert (o.status, o.filled_quantity, o.fills.get().fill_id) == ("FILLED", D("10000"), f"rfq-{rfq_id}-leg0")
    # Every invited provider got the same anonymous message shape.
    assert {tuple(sorted(i.message)) for i in rfq.invitations.all()} == {
        ("legs", "quantity", "request", "respond_within_seconds", "side", "two_way")
    }


def test_without_threshold_the_window_close_expires_it(worker, api_client, trader, order, counterparties):
    r = api_client(trader).post("/api/rfqs/", {"order": order.pk, "window_seconds": 2}, format="json")
    rfq_id = r.json()["id"]
    rfq = wait_for(lambda: Rfq.objects.filter(pk=rfq_id, status__in=["EXECUTED", "EXPIRED"]).first())
    assert rfq.status == "EXPIRED"
    assert not Quote.objects.filter(rfq_id=rfq_id, status="LIVE").exists()
