# ruff: noqa: F811  (pytest fixtures imported from tests.ems.fixtures are parameters here)
"""/metrics: every figure an operator watches is there and moves when what it counts happens,
on the real services, simulator, venue and streams; and only the internal network or a token
holder may read it."""

import threading
import urllib.error
import urllib.request
from decimal import Decimal as D

import pytest
from django.db import connections
from django.test import Client

from core import metrics
from ems import services as ems
from marketdata.models import Instrument
from oms import services as oms
from oms.models import ComplianceRule, Portfolio
from tests.conftest import postgres_only
from tests.ems.fixtures import Market, demo, market, memory_streams, submit, users  # noqa: F401
from tests.ops.metrics_helpers import NAMED, Scrape, scrape

pytestmark = pytest.mark.django_db


def test_every_named_figure_is_exposed(client):
    found = scrape(client)
    missing = {name: what for name, what in NAMED.items() if name not in found.families}
    assert not missing
    assert found.value("smart_trading_scrape_failures", part="work") == 0


def test_an_order_a_tick_and_a_fill_move_their_figures(market, django_capture_on_commit_callbacks, api_client):
    client = Client()
    pm, _ = users()
    portfolio = Portfolio.objects.filter(owner=pm).order_by("pk").first()
    before = scrape(client)

    # Enter an order through the API: accepted, timed.
    body = {"portfolio": portfolio.pk, "instrument": "AAPL", "side": "BUY", "quantity": "300", "urgency": "HIGH"}
    response = api_client(pm).post("/api/orders/", body, format="json")
    assert response.status_code == 201 and response.json()["status"] == "ACCEPTED"
    order = oms.Order.objects.get(pk=response.json()["id"])
    # And one that compliance rejects.
    ComplianceRule.objects.create(kind="MAX_ORDER_NOTIONAL", portfolio=portfolio, limit=D(1))
    rejected = api_client(pm).post("/api/orders/", {**body, "quantity": "5"}, format="json")
    assert rejected.json()["status"] == "REJECTED"
    after_orders = scrape(client)
    assert after_orders.value("smart_trading_orders_total", outcome="accepted") == (
        before.value("smart_trading_orders_total", outcome="accepted") + 1
    )
    assert after_orders.value("smart_trading_orders_total", outcome="rejected") == (
        before.value("smart_trading_orders_total", outcome="rejected") + 1
    )
    assert after_orders.value("smart_trading_order_intake_seconds_count") == (
        before.value("smart_trading_order_intake_seconds_count") + 2
    )
    assert after_orders.value("smart_trading_http_responses_total", status="2xx") > before.value(
        "smart_trading_http_responses_total", status="2xx"
    )

    # Start it and run a tick: an execution running, a tick with its lag, child orders open.
    _, trader = users()
    execution = ems.execution_start(actor=trader, order_id=order.pk, strategy="DIRECT")
    with django_capture_on_commit_callbacks(execute=True):
        outcome = ems.execution_tick(execution_id=execution.pk)
    assert outcome.sent >= 1
    ticked = scrape(client)
    assert ticked.value("smart_trading_executions", status="RUNNING") == (
        before.value("smart_trading_executions", status="RUNNING") + 1
    )
    assert (
        ticked.value("smart_trading_execution_ticks_total") == before.value("smart_trading_execution_ticks_total") + 1
    )
    assert (
        ticked.value("smart_trading_tick_lag_seconds_count") == before.value("smart_trading_tick_lag_seconds_count") + 1
    )
    open_before = sum(before.labelled("smart_trading_child_orders_open", "status").values())
    assert sum(ticked.labelled("smart_trading_child_orders_open", "status").values()) == open_before + outcome.sent

    # The venue fills them: fills counted, quantity counted, nothing left open.
    with django_capture_on_commit_callbacks(execute=True):
        market.round()
    order.refresh_from_db()
    assert order.status == "FILLED"
    filled = scrape(client)
    fills = oms.OrderFill.objects.filter(order=order).count()
    assert fills >= 1
    assert filled.value("smart_trading_fills_total") == before.value("smart_trading_fills_total") + fills
    assert (
        filled.value("smart_trading_filled_quantity_total") == before.value("smart_trading_filled_quantity_total") + 300
    )
    assert sum(filled.labelled("smart_trading_child_orders_open", "status").values()) == open_before

    # A fill beyond the order's quantity is refused, and counted as such.
    oms.apply_fill(order_id=order.pk, fill_id="overfill-1", quantity=D(1), price=D("190"))
    refused = scrape(client)
    assert refused.value("smart_trading_overfill_refusals_total") == (
        before.value("smart_trading_overfill_refusals_total") + 1
    )
    assert refused.value("smart_trading_fills_total") == filled.value("smart_trading_fills_total")


def test_market_data_age_is_per_symbol_and_grows_until_the_next_book(market):
    client = Client()
    symbols = set(Instrument.objects.values_list("symbol", flat=True))
    first = scrape(client).labelled("smart_trading_marketdata_age_seconds", "symbol")
    assert "AAPL" in first and set(first) <= symbols
    assert all(age >= 0 for age in first.values())
    # The publisher's book says when it was published: an older book is older on the scrape.
    from django.core.cache import cache

    from marketdata.selectors import snapshot_key

    book = cache.get(snapshot_key("AAPL"))
    cache.set(snapshot_key("AAPL"), {**book, "published_at": book["published_at"] - 120}, None)
    assert scrape(client).labelled("smart_trading_marketdata_age_seconds", "symbol")["AAPL"] >= 120
    market.advance(1)  # a new book
    assert scrape(client).labelled("smart_trading_marketdata_age_seconds", "symbol")["AAPL"] < 120


def test_queue_depth_counts_waiting_tasks():
    from config.celery import app

    client = Client()
    before = scrape(client).value("smart_trading_celery_queue_depth", queue="default")
    app.send_task("celery.accumulate", queue="default")
    try:
        assert scrape(client).value("smart_trading_celery_queue_depth", queue="default") == before + 1
    finally:
        app.control.purge()
    assert scrape(client).value("smart_trading_celery_queue_depth", queue="default") == 0


@postgres_only
def test_db_pool_in_use_counts_checked_out_connections():
    client = Client()
    with connections["default"].cursor() as cursor:  # this test's connection, from the pool
        cursor.execute("SELECT 1")
    base = scrape(client).value("smart_trading_db_pool_connections_in_use")
    assert base >= 1
    held, release, done = threading.Event(), threading.Event(), threading.Event()

    def hold():
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
        held.set()
        release.wait(30)
        connections["default"].close()  # back to the pool
        done.set()

    threading.Thread(target=hold, daemon=True).start()
    assert held.wait(30)
    assert scrape(client).value("smart_trading_db_pool_connections_in_use") == base + 1
    release.set()
    assert done.wait(30)
    assert scrape(client).value("smart_trading_db_pool_connections_in_use") == base


def test_the_fix_seam_reports_sessions():
    client = Client()
    metrics.fix_session_state("TEST-SESSION", logged_on=True)
    assert scrape(client).value("smart_trading_fix_session_logged_on", session="TEST-SESSION") == 1
    metrics.fix_session_state("TEST-SESSION", logged_on=False)
    assert scrape(client).value("smart_trading_fix_session_logged_on", session="TEST-SESSION") == 0


# --------------------------------------------------------------------------- who may read them


@pytest.mark.parametrize(
    "caller",
    [
        {"REMOTE_ADDR": "203.0.113.7"},  # from outside
        {"REMOTE_ADDR": "10.1.2.3"},  # another host of a private network, not configured as internal
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.7"},  # outside, through a local proxy
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_FORWARDED": "for=203.0.113.7"},
        {"REMOTE_ADDR": "203.0.113.7", "HTTP_AUTHORIZATION": "Bearer wrong-token"},
    ],
)
def test_anonymous_outside_callers_are_refused(settings, caller):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    response = Client().get("/metrics", **caller)
    assert response.status_code == 403
    assert b"smart_trading" not in response.content


def test_the_internal_network_and_the_token_are_answered(settings):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    assert Client().get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    through_proxy = Client().get(
        "/metrics",
        REMOTE_ADDR="203.0.113.7",
        HTTP_X_FORWARDED_FOR="203.0.113.8",
        HTTP_AUTHORIZATION="Bearer s3cret-metrics-token",
    )
    assert through_proxy.status_code == 200 and b"smart_trading_fills_total" in through_proxy.content
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert Client().get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert Client().get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


def test_without_a_token_configured_no_bearer_is_accepted(settings):
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics", REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_a_process_serves_its_figures_on_its_own_port_to_the_same_rule(settings):
    """The worker, beat and market-data processes (core.metrics.serve), here on a free port."""
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    server = metrics.serve("test-process", port=0, addr="127.0.0.1")
    url = f"http://127.0.0.1:{server.server_port}/metrics"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
            text = response.read().decode()
        families = set(Scrape(text).families)
        assert "smart_trading_fills" in families
        assert not {"smart_trading_executions", "smart_trading_rfqs_open"} & families  # no state copy
        settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]  # loopback is now outside
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=10)
        assert refused.value.code == 403
        request = urllib.request.Request(url, headers={"Authorization": "Bearer s3cret-metrics-token"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
    finally:
        server.shutdown()
        server.server_close()
        metrics._served.pop("test-process", None)
