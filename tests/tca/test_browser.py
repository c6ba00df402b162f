# ruff: noqa: F811  (pytest fixtures imported are parameters here)
"""The TCA page in a real browser on the running product: the trader opens a finished
order, follows its TCA link and sees the shortfall's waterfall, its parts and the
counterfactual rows' table."""

import os
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tca.services import tca_compute
from tests.browser import ServerThread, browser_page, login  # noqa: F401  (fixture)
from tests.ems.fixtures import demo  # noqa: F401
from tests.tca.conftest import finished  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_trader_opens_the_tca_of_a_finished_order_and_sees_the_waterfall(browser_page, finished, settings):
    settings.MARKETDATA_EMBEDDED = False  # the stored facts are the example's; no live market needed
    order, t = finished
    assert tca_compute(order_id=order.pk, now=t + timedelta(seconds=200)) is not None
    page = browser_page
    with ServerThread() as server:
        login(page, server.url, "trader", "demo")
        page.goto(f"{server.url}/orders/{order.pk}/")
        page.click("#open-tca")
        page.wait_for_url(f"{server.url}/orders/{order.pk}/tca/")
        expect(page.locator("#tca")).to_have_attribute("data-drawn", "1")
        expect(page.locator("#waterfall-chart")).to_be_visible()
        assert page.locator("#waterfall-chart").bounding_box()["height"] > 100
        expect(page.locator('#shortfall tr[data-part="total"]')).to_contain_text("232.00")
        expect(page.locator('#shortfall tr[data-part="opportunity"]')).to_contain_text("90.00")
        expect(page.locator("#tca-state")).to_contain_text("final")
        expect(page.locator("#counterfactuals tbody tr")).to_have_count(1)  # the seam: no rows wired yet
        # The waterfall's bars are the parts in bps, ending in the total.
        bars = page.evaluate(
            "() => window.Chart.getChart(document.getElementById('waterfall-chart')).data.datasets[0].data"
        )
        assert bars[-1] == [0, 23.2] and bars[0] == [0, 7.0]
        if os.environ.get("TCA_SCREENSHOT"):
            page.screenshot(path=os.environ["TCA_SCREENSHOT"], full_page=True)
        # The execution blotter links the same page.
        page.goto(f"{server.url}/trader/executions/")
        page.click(f'a[data-tca="{order.pk}"]')
        page.wait_for_url(f"{server.url}/orders/{order.pk}/tca/")
        expect(page.locator("#tca")).to_have_attribute("data-drawn", "1")
