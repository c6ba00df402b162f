"""The PM's order entry in a real browser: field errors, compliance preview, submission and
the live blotter, which follows /ws/orders/ without polling. Every wait is for the exact text
or row the test then asserts, never for a class an earlier step may already have set."""

import json
import re
import time
import urllib.request
from decimal import Decimal as D

import pytest
from playwright.sync_api import expect
from rest_framework.authtoken.models import Token

from oms import services
from oms.models import ComplianceRule, Order
from tests.browser import ServerThread, browser_page, login  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pm_enters_an_order(browser_page, pm, portfolio, aapl):  # noqa: F811
    ComplianceRule.objects.create(kind="MAX_ORDER_NOTIONAL", portfolio=portfolio, limit=D(1000000))
    page = browser_page
    with ServerThread() as server:
        login(page, server.url, "pm")
        assert page.url.endswith("/pm/")
        page.fill("input[name=quantity]", "-5")
        page.click("#submit-order")
        expect(page.locator("#submit-result")).to_have_text("Not sent: fix the highlighted fields.")
        expect(page.locator(".field-error[data-for=quantity]")).not_to_be_empty()
        assert Order.objects.count() == 0

        page.fill("input[name=quantity]", "10000")  # 1.9M notional: over the limit
        expect(page.locator("#preview")).to_contain_text("max order notional: order notional 1,900,000.00 exceeds")
        assert page.inner_text("#preview").startswith("Compliance would reject:")

        page.fill("input[name=quantity]", "1000")
        expect(page.locator("#preview")).to_have_text("Compliance: passes all pre-trade rules.")
        page.click("#submit-order")
        expect(page.locator("#submit-result")).to_have_text(re.compile(r"^Order #\d+ ACCEPTED$"))
        order = Order.objects.get()
        assert page.inner_text("#submit-result") == f"Order #{order.pk} ACCEPTED"
        assert (order.quantity, order.status, order.created_by) == (D(1000), "ACCEPTED", pm)
        # Locators, not element handles: the blotter replaces a row on every update.
        status = page.locator(f"#orders tr[data-order='{order.pk}'] .cell-status .status")
        expect(status).to_have_text("ACCEPTED")
        asked = []
        page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
        page.locator(f"#orders tr[data-order='{order.pk}'] button.cancel").click()
        wait_until(page, lambda: asked)
        assert asked == [f"Cancel order #{order.pk} — BUY 1,000 AAPL (MKT)?"]
        order.refresh_from_db()
        assert order.status == "ACCEPTED"  # dismissed: nothing sent
        page.once("dialog", lambda d: d.accept())
        page.locator(f"#orders tr[data-order='{order.pk}'] button.cancel").click()
        expect(status).to_have_text("CANCELLED")
        order.refresh_from_db()
        assert order.status == "CANCELLED"


def api_post(server, token: str, path: str, body: dict | None = None) -> dict:
    """A REST call from outside the page, served by the live server (whose commit pushes)."""
    request = urllib.request.Request(
        f"{server.url}{path}",
        data=json.dumps(body or {}).encode(),
        method="POST",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.loads(response.read())


def wait_until(page, condition, timeout: float = 15):
    """Let Playwright deliver its events until `condition()` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(50)


def test_the_blotter_follows_the_orders_socket(browser_page, pm, trader, portfolio, aapl):  # noqa: F811
    before = services.order_submit(
        actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=D(100), urgency="LOW"
    )
    token = Token.objects.create(user=pm).key
    page = browser_page
    sockets, frames, order_lists = [], [], []

    def opened(ws):
        sockets.append(ws.url)
        ws.on("framereceived", lambda payload: frames.append(payload))

    page.on("websocket", opened)
    page.on("request", lambda r: "/api/orders/?" in r.url and order_lists.append(r.url))
    with ServerThread() as server:
        login(page, server.url, "trader")
        assert page.url.endswith("/trader/")  # the trader lands on the blotter
        # the snapshot drew the row (JS rows carry data-updated), the socket said hello
        expect(page.locator(f"#orders tr[data-order='{before.pk}'][data-updated] .status")).to_have_text("ACCEPTED")
        wait_until(page, lambda: any('"hello"' in f for f in frames))
        snapshots = len(order_lists)

        api_post(server, token, f"/api/orders/{before.pk}/cancel/")
        expect(page.locator(f"#orders tr[data-order='{before.pk}'] .status")).to_have_text("CANCELLED")
        created = api_post(
            server,
            token,
            "/api/orders/",
            {"portfolio": portfolio.pk, "instrument": "AAPL", "side": "SELL", "quantity": "5", "urgency": "LOW"},
        )
        new_row = page.locator("#orders tbody tr").first
        expect(new_row).to_have_attribute("data-order", str(created["id"]))
        expect(new_row.locator(".status")).to_have_text("ACCEPTED")
        assert page.locator("#orders tr[data-order]").count() == 2

        # Both arrived as order.update events on the one socket, not by re-reading the list.
        assert len(order_lists) == snapshots == 1
        assert [s.rsplit("/", 2)[-2] for s in sockets] == ["orders"]
        updates = [json.loads(f) for f in frames if '"order.update"' in f]
        assert [(u["order"]["id"], u["order"]["status"]) for u in updates] == [
            (before.pk, "CANCELLED"),
            (created["id"], "ACCEPTED"),
        ]
        assert updates[1]["seq"] == updates[0]["seq"] + 1


def test_trader_cannot_open_order_entry(browser_page, trader):  # noqa: F811
    with ServerThread() as server:
        login(browser_page, server.url, "trader")
        response = browser_page.goto(f"{server.url}/pm/")
        assert response.status == 403


def test_the_ticket_protects_its_user(browser_page, pm, portfolio, aapl, btc):  # noqa: F811
    ComplianceRule.objects.create(kind="FAT_FINGER_SOFT", limit=D(1))  # 1% of ADV
    page = browser_page
    with ServerThread() as server:
        login(page, server.url, "pm")
        page.select_option("select[name=instrument]", "AAPL")
        page.fill("input[name=quantity]", "1000")
        expect(page.locator("#size-hint")).to_have_text("notional 190,000 · 0.0018% of ADV")
        expect(page.locator("#preview")).to_have_text("Compliance: passes all pre-trade rules.")
        page.fill("input[name=quantity]", "")  # cleared: the old verdict and what-if go too
        expect(page.locator("#preview")).to_have_text(
            "Enter a quantity to see the compliance check and the router's estimate."
        )
        assert page.inner_text("#whatif") == "" and page.inner_text("#size-hint") == ""

        page.fill("input[name=quantity]", "1000")
        page.fill("input[name=start_time]", "2031-01-02T10:00")
        page.fill("input[name=end_time]", "2031-01-02T09:00")
        expect(page.locator(".field-error[data-for=end_time]")).to_have_text("End time must be after the start time.")
        expect(page.locator("#preview")).to_have_text("No estimate: End time must be after the start time.")
        page.fill("input[name=start_time]", "")
        page.fill("input[name=end_time]", "")

        page.fill("input[name=quantity]", "1000")
        expect(page.locator("#preview")).to_have_text("Compliance: passes all pre-trade rules.")
        page.dblclick("#submit-order")
        page.evaluate(
            "() => { const f = document.getElementById('order-form'); f.requestSubmit(); f.requestSubmit(); }"
        )
        expect(page.locator("#submit-result")).to_have_text(re.compile(r"^Order #\d+ ACCEPTED$"))
        wait_until(page, lambda: not page.is_disabled("#submit-order"))
        assert Order.objects.count() == 1  # one ticket, one order

        page.fill("input[name=quantity]", "1100000")  # 2% of ADV: the soft limit asks
        expect(page.locator("#preview")).to_contain_text("Compliance asks you to confirm:")
        asked = []
        page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
        page.click("#submit-order")
        expect(page.locator("#submit-result")).to_have_text(re.compile(r"^Order #\d+ ACCEPTED$"))
        assert asked[0].startswith("Confirm to enter this order: 1,100,000 AAPL is 2% of its average daily volume")
        assert Order.objects.count() == 2

        page.select_option("select[name=instrument]", "BTC-USD")
        page.fill("input[name=quantity]", "0.00005")
        expect(page.locator(".field-error[data-for=quantity]")).to_have_text(
            "BTC-USD trades in lots of 0.0001: use at most 4 decimal places."
        )


def test_desk_pages_fit_800_pixels(browser_page, pm, portfolio, aapl):  # noqa: F811
    ComplianceRule.objects.create(kind="MAX_ORDER_NOTIONAL", limit=D("1000.0000000000000000"))
    order = services.order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=D(10000))
    page = browser_page
    page.set_viewport_size({"width": 800, "height": 900})
    with ServerThread() as server:
        login(page, server.url, "pm")
        for path in ("/pm/", f"/orders/{order.pk}/"):
            page.goto(f"{server.url}{path}")
            page.wait_for_selector("footer, main, body")
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 800, (path, width)


def test_pm_amends_an_order_and_sees_compliance_refuse_a_breach(browser_page, pm, portfolio, aapl):  # noqa: F811
    ComplianceRule.objects.create(kind="MAX_ORDER_NOTIONAL", portfolio=portfolio, limit=D(100000))
    order = services.order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=D(100))
    page = browser_page
    with ServerThread() as server:
        login(page, server.url, "pm")
        page.goto(f"{server.url}/orders/{order.pk}/")
        page.fill("#amend input[name=quantity]", "150")
        page.click("#amend-submit")
        expect(page.locator("td", has_text="amended: passed pre-trade compliance")).to_have_count(1)
        order.refresh_from_db()
        assert order.quantity == D(150)
        page.fill("#amend input[name=quantity]", "5000")  # 950k notional: over the limit
        page.click("#amend-submit")
        expect(page.locator("#amend-result")).to_contain_text("Refused by compliance: order notional")
        order.refresh_from_db()
        assert order.quantity == D(150)
        page.fill("#amend input[name=quantity]", "1.5")
        page.click("#amend-submit")
        expect(page.locator(".field-error[data-for=quantity]")).not_to_be_empty()
