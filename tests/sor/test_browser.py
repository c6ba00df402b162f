"""The router seen in a real browser: the PM's what-if estimate before submitting, and the
trader's order view with the recommendation and its rationale."""

from decimal import Decimal as D

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from marketdata.models import Instrument
from oms import services as oms_services
from oms.models import Portfolio
from sor import services as sor_services
from tests.browser import ServerThread, browser_page, login  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pm_sees_the_what_if_before_submitting(live_market, browser_page):  # noqa: F811
    page = browser_page
    with ServerThread() as server:
        login(page, server.url, "pm", "demo")
        page.select_option("select[name=instrument]", "NVDA")
        adv = Instrument.objects.get(symbol="NVDA").adv
        page.fill("input[name=quantity]", str(int(adv * D("0.15"))))
        page.select_option("select[name=urgency]", "LOW")
        # The answer for exactly these inputs: earlier answers (MEDIUM urgency) may be on the page already.
        expect(page.locator("#whatif .rationale")).to_contain_text("15.0% of ADV")
        expect(page.locator("#whatif .strategy")).to_have_text("VWAP")
        expect(page.locator("#whatif")).to_contain_text("bps")


def test_trader_sees_the_recommendation_with_rationale(live_market, browser_page):  # noqa: F811
    pm = User.objects.get(username="pm")
    order = oms_services.order_submit(
        actor=pm,
        portfolio=Portfolio.objects.filter(owner=pm).first(),
        instrument=Instrument.objects.get(symbol="AAPL-270319-C-200"),
        side="BUY",
        quantity=D(2400),
        urgency="MEDIUM",
    )
    sor_services.order_decision_record(order=order, actor=pm)  # what the order entry stores on acceptance
    page = browser_page
    with ServerThread() as server:
        login(page, server.url, "trader", "demo")
        page.goto(f"{server.url}/orders/{order.pk}/")
        page.wait_for_selector("#recommendation .strategy")
        assert page.inner_text("#recommendation .strategy") == "RFQ"
        assert "RFQ" in page.inner_text("#recommendation .rationale")
