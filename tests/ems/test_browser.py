"""The execution desk in a real browser, on the whole running product: the live server
(HTTP, websockets, the publisher and the simulated venue in its loop), the suite's real
Celery worker, and the one scheduled tick fired as beat fires it."""

import io
import threading
import time
from contextlib import contextmanager
from decimal import Decimal as D

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from playwright.sync_api import expect
from rest_framework.test import APIClient

from oms.models import Order, Portfolio
from tests.browser import ServerThread, browser_page, login  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def wait_for_book(symbol: str, timeout: float = 20.0) -> None:
    from marketdata.selectors import latest_snapshot

    deadline = time.monotonic() + timeout
    while latest_snapshot(symbol) is None:
        assert time.monotonic() < deadline, f"no book for {symbol} published"
        time.sleep(0.05)


@contextmanager
def beat(period: float = 0.5):
    """The beat entry's task, sent every `period` seconds while the block runs."""
    from ems.tasks import executions_tick_due

    stop = threading.Event()

    def send():
        while not stop.wait(period):
            executions_tick_due.delay()

    ticker = threading.Thread(target=send, name="test-beat", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        stop.set()
        ticker.join(5)


def test_trader_starts_the_recommended_execution_and_watches_it_fill(browser_page, settings, worker):  # noqa: F811
    settings.MARKETDATA_EMBEDDED = True  # CI's production settings run the feed (and venue) as their own process
    call_command("seed_demo", without_history=True, stdout=io.StringIO())
    page = browser_page
    with ServerThread() as server, beat():
        wait_for_book("NVDA")  # the PM enters the order on a live market, as on the desk
        pm = User.objects.get(username="pm")
        client = APIClient()
        client.force_authenticate(pm)
        entered = client.post(
            "/api/orders/",
            {
                "portfolio": Portfolio.objects.filter(owner=pm).first().pk,
                "instrument": "NVDA",
                "side": "BUY",
                "quantity": "200",
                "urgency": "HIGH",
            },
            format="json",
        )
        assert entered.status_code == 201, entered.json()
        order = Order.objects.get(pk=entered.json()["id"])
        login(page, server.url, "trader", "demo")
        page.goto(f"{server.url}/orders/{order.pk}/")
        page.click("#work-order")
        expect(page.locator("#recommendation .strategy")).to_have_text("DIRECT")
        page.click("#start-execution")
        page.wait_for_url(f"{server.url}/executions/*/")
        # The fills arrive live: the table, the progress bar and the state follow them.
        expect(page.locator("#fills tbody tr[data-fill]").first).to_be_visible(timeout=30000)
        expect(page.locator("#progress span")).to_contain_text("filled 100.0%", timeout=30000)
        expect(page.locator('[data-field="status"]')).to_have_text("DONE", timeout=30000)
        # The blotter shows the work under the order's status.
        page.goto(f"{server.url}/trader/")
        expect(page.locator(f"#orders tr[data-order='{order.pk}'] .work")).to_have_text("DIRECT · DONE")
    order.refresh_from_db()
    assert (order.status, order.filled_quantity) == ("FILLED", D(200))
