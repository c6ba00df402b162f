# ruff: noqa: F811  (pytest fixtures imported are parameters here)
"""The counterfactuals are a task's work: a request for an order's TCA queues it once, the
suite's real Celery worker runs the backtest, and the next request shows the rows."""

import time

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from tca.domain import counterfactual
from tca.models import OrderCounterfactuals
from tca.tasks import counterfactuals_compute_order
from tests.ems.fixtures import demo  # noqa: F401
from tests.tca.conftest import finished, finished_with_arrival  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the worker did not get there in time")
        time.sleep(0.1)


def test_a_request_queues_the_backtest_and_the_worker_stores_the_rows(worker, finished_with_arrival):
    order, _ = finished_with_arrival
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username="trader"))
    first = client.get(f"/api/tca/{order.pk}/").json()
    assert (first["counterfactual"]["status"], first["counterfactuals"]) == ("pending", [])
    wait_for(lambda: OrderCounterfactuals.objects.filter(order=order).exists())
    body = client.get(f"/api/tca/{order.pk}/").json()
    assert body["counterfactual"]["status"] == "computed"
    assert [r["way"] for r in body["counterfactuals"]] == list(counterfactual.WAYS)
    # A task run again (a retry, a second sweep) changes nothing: the rows are stored once.
    stored = OrderCounterfactuals.objects.get(order=order)
    assert counterfactuals_compute_order(order.pk) is True
    assert OrderCounterfactuals.objects.get(order=order).pk == stored.pk
    assert OrderCounterfactuals.objects.count() == 1
