"""The PM's order entry in a real browser: field errors, compliance preview, submission and
the live blotter."""
from decimal import Decimal as D

import pytest

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
        page.wait_for_selector(".field-error[data-for=quantity]:not(:empty)")
        assert Order.objects.count() == 0

        page.fill("input[name=quantity]", "10000")  # 1.9M notional: over the limit
        page.wait_for_selector("#preview.bad")
        assert "MAX_ORDER_NOTIONAL" in page.inner_text("#preview")

        page.fill("input[name=quantity]", "1000")
        page.wait_for_selector("#preview.ok")
        page.click("#submit-order")
        page.wait_for_selector("#submit-result.pos")
        order = Order.objects.get()
        assert (order.quantity, order.status, order.created_by) == (D(1000), "ACCEPTED", pm)
        # Locators, not element handles: the live blotter re-renders its rows every 2 s.
        row = page.locator(f"#orders tr[data-order='{order.pk}']")
        row.locator(".s-ACCEPTED").wait_for()
        row.locator("button.cancel").click()
        page.wait_for_selector(f"#orders tr[data-order='{order.pk}'] .s-CANCELLED")
        order.refresh_from_db()
        assert order.status == "CANCELLED"


def test_trader_cannot_open_order_entry(browser_page, trader):  # noqa: F811
    with ServerThread() as server:
        login(browser_page, server.url, "trader")
        response = browser_page.goto(f"{server.url}/pm/")
        assert response.status == 403
