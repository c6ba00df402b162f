"""Packages in a real browser: the PM enters a straddle with a delta hedge on the multi-leg
ticket; the trader sends the package RFQ, sees net quotes arrive live with their implied leg
prices, executes one with one click, and sees every leg filled and the positions updated. A
real Celery worker disseminates and plays the simulated makers. Every wait is for the exact
text asserted."""

import re
from decimal import Decimal as D

import pytest
from playwright.sync_api import expect

from oms.models import Order, OrderFill, Package, Position
from rfq.models import Rfq
from tests.browser import ServerThread, browser_page, login  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pm_straddle_with_hedge_then_trader_package_rfq_one_click(
    browser_page,  # noqa: F811
    worker,
    trader,
    pm,
    portfolio,
    aapl_chain,
    counterparties,
):
    page = browser_page
    with ServerThread() as server:
        login(page, server.url, "pm")
        page.goto(f"{server.url}/pm/packages/new/")
        page.select_option("select[name=template]", "STRADDLE")
        legs = page.locator("#package-legs tbody tr")
        expect(legs).to_have_count(2)
        expect(legs.nth(0).locator("[name=leg-instrument]")).to_have_value("AAPL-270319-C-200")
        expect(legs.nth(1).locator("[name=leg-instrument]")).to_have_value("AAPL-270319-P-200")
        page.fill("input[name=quantity]", "50")
        page.check("input[name=hedge]")
        page.click("#submit-package")
        expect(page.locator("#package-status")).to_have_text("ACCEPTED")
        expect(page.locator("#package-orders tbody tr")).to_have_count(3)
        expect(page.locator("#package-orders")).to_contain_text("delta hedge")
        package = Package.objects.get()
        assert [x.order.status for x in package.legs.select_related("order")] == ["ACCEPTED"] * 3

        page.context.clear_cookies()
        login(page, server.url, "trader")
        page.goto(f"{server.url}/rfqs/")
        page.locator(f"#packages tr[data-package='{package.pk}'] a", has_text="Request quotes").click()
        expect(page.locator("#package-recommendation")).to_contain_text("Router: RFQ")
        expect(page.locator("#package-recommendation")).to_contain_text("legging risk")
        page.fill("input[name=window_seconds]", "60")
        for name in ["Apex Markets", "Birch Capital"]:
            page.locator("label.cp", has_text=name).locator("input").check()
        page.click("#send-rfq")
        page.wait_for_url(re.compile(r"/rfqs/\d+/$"))
        rfq = Rfq.objects.get()
        assert rfq.package_id == package.pk
        # Net quotes arrive live; Apex (tight and fast) answers within 0.25 s.
        apex = page.locator("#rfq-ladder tbody tr", has_text="Apex Markets")
        expect(apex).to_have_count(1)
        expect(apex.locator(".implied-legs")).to_contain_text("BUY AAPL-270319-C-200")
        expect(apex.locator(".implied-legs")).to_contain_text("BUY AAPL-270319-P-200")
        answers = []
        for _attempt in range(3):  # Apex may replace its quote just as we click: take the new one
            with page.expect_response(lambda r: r.url.endswith("/execute/")) as response:
                apex.locator("button.execute:not([disabled])").click()
            answers.append((response.value.status, response.value.json()))
            if response.value.status == 200:
                break
        assert answers[-1][0] == 200 and answers[-1][1]["attempt"]["accepted"], answers
        expect(page.locator("#rfq-outcome")).to_have_text("Filled")
        rows = page.locator("#rfq-leg-orders tbody tr")
        expect(rows).to_have_count(3)
        for i in range(3):
            expect(rows.nth(i).locator(".status")).to_have_text("FILLED")
        expect(page.locator("#rfq-parts")).to_contain_text("Apex Markets: 50")
        for x in package.legs.select_related("order__instrument"):
            o = Order.objects.get(pk=x.order_id)
            assert (o.status, o.filled_quantity) == ("FILLED", o.quantity)
            signed = sum(f.quantity for f in OrderFill.objects.filter(order=o)) * (1 if o.side == "BUY" else -1)
            assert Position.objects.get(portfolio=portfolio, instrument=o.instrument).quantity == signed

        page.context.clear_cookies()
        login(page, server.url, "pm")
        page.goto(f"{server.url}/pm/")
        for symbol in ("AAPL-270319-C-200", "AAPL-270319-P-200"):
            expect(page.locator("tr", has_text=symbol).first).to_contain_text("50")
    assert D(answers[-1][1]["execution"]["quantity"]) == D(50)
