# ruff: noqa: F811  (pytest fixtures imported from other test packages are parameters here)
"""An order's story in the JSON logs: its execution's start and its RFQ's opening carry the
request id and the execution, RFQ and order ids."""

import io
import json
import logging

import pytest

from core import logs
from tests.ems.fixtures import demo, market, memory_streams, submit, users  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter(json=True))
    loggers = [logging.getLogger(name) for name in ("oms.intake", "ems.start", "rfq.open")]
    for logger in loggers:
        logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    for logger in loggers:
        logger.removeHandler(handler)


def test_an_execution_started_through_the_api_logs_its_ids(market, api_client, lines):
    order = submit()
    _, trader = users()
    response = api_client(trader).post(
        "/api/executions/", {"order": order.pk, "strategy": "TWAP"}, format="json", HTTP_X_REQUEST_ID="req-exec-1"
    )
    assert response.status_code == 201, response.content
    [line] = [line for line in lines() if line["logger"] == "ems.start"]
    assert line["event"] == f"execution {response.json()['id']} started"
    assert (line["request_id"], line["execution_id"], line["order_id"]) == (
        "req-exec-1",
        response.json()["id"],
        order.pk,
    )
    assert line["strategy"] == "TWAP" and line["side"] == "BUY"


def test_an_rfq_opened_logs_its_ids(market, lines):
    from rfq import services

    order = submit(quantity="1000")
    _, trader = users()
    logs.bind(request_id="req-rfq-1")
    try:
        rfq = services.rfq_open(actor=trader, order_id=order.pk)
    finally:
        from structlog.contextvars import clear_contextvars

        clear_contextvars()
    [line] = [line for line in lines() if line["logger"] == "rfq.open"]
    assert line["event"] == f"RFQ {rfq.pk} opened"
    assert (line["request_id"], line["rfq_id"], line["order_id"]) == ("req-rfq-1", rfq.pk, order.pk)
    assert line["invited"] == rfq.invitations.count() >= 1
