"""Blocks in a real browser, on the whole running product (live server, websockets, the
simulated venue, the suite's Celery worker, the beat's tick): the trader blocks three orders
from two PMs on the blotter, starts the block's execution and watches the block and each
member fill; each PM then sees only their own allocation."""

import io
from decimal import Decimal as D

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from playwright.sync_api import expect
from rest_framework.test import APIClient

from ems.models import Block, BlockAllocation
from oms.models import Order, Portfolio
from tests.browser import ServerThread, browser_page, login  # noqa: F401  (fixture)
from tests.ems.test_browser import beat, wait_for_book

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def enter(username: str, quantity: str) -> Order:
    user = User.objects.get(username=username)
    client = APIClient()
    client.force_authenticate(user)
    entered = client.post(
        "/api/orders/",
        {
            "portfolio": Portfolio.objects.filter(owner=user).order_by("pk").first().pk,
            "instrument": "NVDA",
            "side": "BUY",
            "quantity": quantity,
            "urgency": "HIGH",
        },
        format="json",
    )
    assert entered.status_code == 201, entered.json()
    return Order.objects.get(pk=entered.json()["id"])


def test_trader_blocks_three_orders_of_two_pms_and_each_pm_sees_only_their_own(browser_page, settings, worker):  # noqa: F811
    settings.MARKETDATA_EMBEDDED = True  # CI's production settings run the feed (and venue) as their own process
    call_command("seed_demo", without_history=True, stdout=io.StringIO())
    page = browser_page
    with ServerThread() as server, beat():
        wait_for_book("NVDA")
        first, second, theirs = enter("pm", "300"), enter("pm", "200"), enter("pm2", "100")
        login(page, server.url, "trader", "demo")
        page.goto(f"{server.url}/trader/")
        for order in (first, second, theirs):
            page.locator(f"#orders tr[data-order='{order.pk}'] input.pick").check()
        page.select_option("#block-allocation", "PRO_RATA")
        page.click("#block-form")
        page.wait_for_url(f"{server.url}/trader/blocks/*/")
        block = Block.objects.get()
        members = page.locator("#block-members tbody tr")
        expect(members).to_have_count(3)
        expect(page.locator("#block-decision")).to_contain_text("Router on the block's 600")
        page.click("#block-start")
        # The block's execution and every member fill live, on the block's page.
        expect(page.locator("#block-execution-status")).to_have_text("DONE", timeout=30000)
        expect(page.locator("#block-progress span")).to_have_text("100.0%", timeout=30000)
        for order, quantity in ((first, "300"), (second, "200"), (theirs, "100")):
            row = page.locator(f"#block-members tr[data-member-order='{order.pk}']")
            expect(row.locator(".cell-progress span")).to_have_text("100.0%", timeout=30000)
            expect(row.locator(".cell-allocated")).to_have_text(quantity)
            expect(row.locator(".status")).to_have_text("FILLED")

        # Each PM sees only their own allocation.
        page.context.clear_cookies()
        login(page, server.url, "pm", "demo")
        page.goto(f"{server.url}/blocks/")
        mine = page.locator("#my-blocks tbody tr[data-order]")
        expect(mine).to_have_count(2)
        expect(page.locator(f"#my-blocks tr[data-order='{first.pk}'] .cell-allocated")).to_have_text("300")
        expect(page.locator(f"#my-blocks tr[data-order='{second.pk}'] .cell-allocated")).to_have_text("200")
        expect(page.locator(f"#my-blocks tr[data-order='{theirs.pk}']")).to_have_count(0)
        expect(page.locator(f"#my-blocks tr[data-order='{first.pk}'] .cell-share")).to_have_text("50.0%")

        page.context.clear_cookies()
        login(page, server.url, "pm2", "demo")
        page.goto(f"{server.url}/blocks/")
        mine = page.locator("#my-blocks tbody tr[data-order]")
        expect(mine).to_have_count(1)
        expect(page.locator(f"#my-blocks tr[data-order='{theirs.pk}'] .cell-allocated")).to_have_text("100")
        expect(page.locator(f"#my-blocks tr[data-order='{theirs.pk}'] .cell-share")).to_have_text("16.7%")
        text = page.locator("main").inner_text()
        for order in (first, second):
            expect(page.locator(f"a[href='/orders/{order.pk}/']")).to_have_count(0)
        assert Portfolio.objects.filter(owner__username="pm").first().name not in text
        response = page.goto(f"{server.url}/trader/blocks/{block.pk}/")
        assert response.status == 403
    for order, quantity in ((first, "300"), (second, "200"), (theirs, "100")):
        order.refresh_from_db()
        assert (order.status, order.filled_quantity) == ("FILLED", D(quantity))
        assert sum(a.quantity for a in BlockAllocation.objects.filter(order=order)) == D(quantity)
