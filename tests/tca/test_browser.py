# ruff: noqa: F811  (pytest fixtures imported are parameters here)
"""The TCA page in a real browser on the running product: the trader opens a finished
order, follows its TCA link and sees the shortfall's waterfall, its parts and the
counterfactual rows (the EMS backtest from the market recorded at arrival) beside the
realised cost."""

import os
from datetime import timedelta
from decimal import Decimal as D

import pytest
from playwright.sync_api import expect

from tca.services import counterfactuals_compute, tca_compute
from tests.browser import ServerThread, browser_page, login  # noqa: F401  (fixture)
from tests.ems.fixtures import demo  # noqa: F401
from tests.tca.conftest import finished, finished_with_arrival  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


WAYS = {
    "single_market_order": "One market order, main venue",
    "one_venue_twap": "Plain TWAP, one venue",
    "as_executed": "As executed (simulated)",
    "router_second_choice": "Router's second choice",
}


def bps(value) -> str:
    """As the page writes a figure in bps (two decimals, en-US grouping)."""
    return f"{D(str(value)).quantize(D('0.01')):,.2f} bps"


def test_trader_opens_the_tca_of_a_finished_order_and_sees_the_waterfall(browser_page, finished_with_arrival, settings):
    settings.MARKETDATA_EMBEDDED = False  # the stored facts are the example's; no live market needed
    order, t = finished_with_arrival
    assert tca_compute(order_id=order.pk, now=t + timedelta(seconds=200)) is not None
    stored = counterfactuals_compute(order_id=order.pk)  # the task's work, done here before the page opens
    simulated = {r["way"]: r for r in stored.figures["rows"]}
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
        # The counterfactual rows: the realised cost (from arrival), then the backtest's ways.
        expect(page.locator("#tca")).to_have_attribute("data-counterfactuals", "computed")
        expect(page.locator("#counterfactuals tbody tr")).to_have_count(5)
        realised = page.locator('#counterfactuals tr[data-counterfactual="realised"]')
        expect(realised.locator("th")).to_have_text("Realised (this order)")
        expect(realised.locator("td").nth(3)).to_have_text("13.19 bps")  # 132.00 over 1000 x 100.10
        expect(realised.locator("td").nth(4)).to_have_text("132.00")
        for way, label in WAYS.items():
            row = page.locator(f'#counterfactuals tr[data-counterfactual="{way}"]')
            expect(row.locator("td").nth(0)).to_have_text(label)
            expect(row.locator("td").nth(1)).to_have_text(simulated[way]["strategy"] or "–")
            if simulated[way]["shortfall_bps"] is not None:
                expect(row.locator("td").nth(4)).to_have_text(bps(simulated[way]["shortfall_bps"]))
                expect(row.locator("td").nth(6)).to_have_text(bps(simulated[way]["adjusted_shortfall_bps"]))
        expect(page.locator("#counterfactual-source")).to_contain_text(
            f"simulator seed {settings.MARKETDATA_SEED}, session time 1,800 s, mid anchored at the arrival 100.1"
        )
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
