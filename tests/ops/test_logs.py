"""Structured logs: an order's submission is one JSON line carrying the request id and the
order's ids; production writes JSON, the embedded default readable lines; Celery tasks carry
the request id of whoever enqueued them and the ids their arguments name."""

import io
import json
import logging
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from structlog.contextvars import clear_contextvars

from config.celery import app as celery_app
from core import logs
from tests.ops.metrics_helpers import scrape

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def json_lines():
    """What the production formatter writes for the loggers of an order's story."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter(json=True))
    loggers = [logging.getLogger(name) for name in ("oms.intake", "oms.services")]
    for logger in loggers:
        logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    for logger in loggers:
        logger.removeHandler(handler)


@pytest.mark.django_db
def test_an_order_submission_logs_one_json_line_with_its_ids(api_client, pm, portfolio, aapl, json_lines):
    body = {
        "portfolio": portfolio.pk,
        "instrument": "AAPL",
        "side": "BUY",
        "quantity": "100",
        "urgency": "LOW",
        "client_order_id": "pm-ticket-42",
    }
    response = api_client(pm).post("/api/orders/", body, format="json", HTTP_X_REQUEST_ID="req-7f3a")
    assert response.status_code == 201, response.content
    assert response["X-Request-ID"] == "req-7f3a"
    order = response.json()
    [line] = [line for line in json_lines() if line["logger"] == "oms.intake"]
    assert line["event"] == f"order {order['id']} accepted"
    assert line["request_id"] == "req-7f3a"
    assert line["order_id"] == order["id"]
    assert line["client_order_id"] == "pm-ticket-42"
    assert (line["portfolio_id"], line["instrument_id"], line["side"]) == (portfolio.pk, aapl.pk, "BUY")
    assert line["quantity"] == "100.00000000" and line["status"] == "ACCEPTED" and line["level"] == "info"
    assert line["timestamp"].endswith("Z")
    # Nothing of this request is left bound for the next one on this thread.
    assert logs.current() == {}


@pytest.mark.django_db
def test_a_request_gets_an_id_when_it_brings_none_or_a_bad_one(client):
    generated = client.get("/healthz")["X-Request-ID"]
    assert len(generated) == 32 and int(generated, 16) >= 0
    assert (
        client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith a newline")["X-Request-ID"] != "bad id\nwith a newline"
    )


def test_a_task_carries_the_request_id_of_its_sender_and_the_ids_of_its_arguments():
    from ems.tasks import execution_tick_task

    headers = {}
    logs.bind(request_id="req-9")
    logs.task_publishing(headers=headers)
    assert headers == {"request_id": "req-9"}

    # The task's request as a worker builds it from the message (the header included).
    execution_tick_task.push_request(request_id="req-9")
    try:
        logs.task_starting(task=execution_tick_task, task_id="t-1", args=(55,), kwargs={})
        assert logs.current() == {
            "request_id": "req-9",
            "task_id": "t-1",
            "task": "ems.tasks.execution_tick",
            "execution_id": 55,
        }
    finally:
        execution_tick_task.pop_request()
    logs.task_ended(task=execution_tick_task, state="SUCCESS")
    assert logs.current() == {}


def test_tasks_are_counted_by_outcome_through_celerys_signals(client):
    from config.celery import app

    before = scrape(client).value("smart_trading_celery_tasks_total", task="celery.accumulate", outcome="success")
    app.tasks["celery.accumulate"].apply(args=(1, 2))  # runs here, with the worker's signals
    after = scrape(client).value("smart_trading_celery_tasks_total", task="celery.accumulate", outcome="success")
    assert after == before + 1


def _log_from_a_process(**env) -> str:
    code = "import logging; logging.getLogger('oms.intake').warning('order %s accepted', 7, extra={'order_id': 7})"
    environment = {k: v for k, v in os.environ.items() if k not in ("PRODUCTION", "LOG_FORMAT", "SECRET_KEY")}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr.strip().splitlines()[-1]


def test_production_writes_json_and_the_embedded_default_readable_lines():
    production = _log_from_a_process(PRODUCTION="true", SECRET_KEY=secrets.token_urlsafe(64))
    line = json.loads(production)
    assert line["event"] == "order 7 accepted" and line["order_id"] == 7 and line["level"] == "warning"
    embedded = _log_from_a_process()
    assert "order 7 accepted" in embedded and "order_id=7" in embedded and "[oms.intake]" in embedded
    with pytest.raises(json.JSONDecodeError):
        json.loads(embedded)


# A task of this test only, registered at import (before the worker starts, so it knows it):
# it records the log context the worker ran it in.
SEEN: list[dict] = []


@celery_app.task(name="tests.ops.context_probe", ignore_result=True)
def context_probe(order_id):
    SEEN.append(logs.current())


def test_a_task_on_the_real_worker_logs_with_the_request_id_of_its_sender(worker):
    SEEN.clear()
    logs.bind(request_id="req-through-the-broker")
    try:
        context_probe.delay(order_id=41)
    finally:
        clear_contextvars()
    deadline = time.monotonic() + 60
    while not SEEN and time.monotonic() < deadline:
        time.sleep(0.05)  # waiting for the exact state asserted below
    assert SEEN, "the worker did not run the task"
    context = SEEN[0]
    assert context["request_id"] == "req-through-the-broker"
    assert context["order_id"] == 41 and context["task"] == "tests.ops.context_probe"
