"""The console in a real browser: the admin opens it, sees the product's look, runs a
reconciliation and exports the audit trail of one portfolio."""

import csv
import io
import pathlib
from decimal import Decimal as D

import pytest
from playwright.sync_api import expect

from core.models import ConsoleChange
from oms import services
from oms.models import ReconciliationRun
from tests.browser import ServerThread, browser_page, login  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_admin_reconciles_and_exports_one_portfolio(browser_page, admin_user, books, pm2, aapl):  # noqa: F811
    from accounts.services import user_role_set

    user_role_set(user=admin_user, role="Admin")
    # Every portfolio through the product's own paths (a factory's cash would be a real break).
    growth = services.portfolio_seed(owner=pm2, name="Growth", cash=D("50000"), holdings=[])
    services.order_submit(actor=pm2, portfolio=growth, instrument=aapl, side="SELL", quantity=D(5), urgency="LOW")
    mine, _ = books
    page = browser_page
    with ServerThread() as server:
        login(page, server.url, "admin")
        assert page.url == f"{server.url}/admin/"
        expect(page.locator("#site-name")).to_have_text("SMARTTRADING console")
        assert page.title() == "Compliance and operations · Smart Trading console"
        # The desk's colours, not Django's blue and white.
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(13, 17, 23)"
        assert page.evaluate("getComputedStyle(document.getElementById('header')).backgroundColor") == "rgb(10, 14, 20)"

        page.click("nav.console-nav >> text=Reconciliation")
        expect(page.locator("#reconciliation-status")).to_have_text("No reconciliation has run yet.")
        page.click("#run-reconciliation")
        expect(page.locator("#reconciliation-status")).to_have_text("clean")
        expect(page.locator("#reconciliation-latest")).to_contain_text(" UTC")
        run = ReconciliationRun.objects.get()
        assert (run.trigger, run.actor_id, run.breaks_found, run.portfolios_checked) == ("CONSOLE", admin_user.pk, 0, 2)

        page.click("nav.console-nav >> text=Audit trail")
        expect(page.locator("#audit-count")).to_have_text("6 events.")
        page.select_option("select[name=portfolio]", str(mine.pk))
        page.click("#audit-filters button[type=submit]")
        expect(page.locator("#audit-count")).to_have_text("4 events.")
        with page.expect_download() as download:
            page.click("#audit-export")
        body = pathlib.Path(download.value.path()).read_text(encoding="utf-8")
        rows = list(csv.DictReader(io.StringIO(body)))
        assert [(r["portfolio"], r["event"]) for r in rows] == [
            ("Books", "SUBMIT"),
            ("Books", "ACCEPT"),
            ("Books", "PARTIAL_FILL"),
            ("Books", "FILL"),
        ]
        export = ConsoleChange.objects.get(action="EXPORT")
        assert (export.actor_id, export.changes) == (
            admin_user.pk,
            {"filters": {"portfolio_id": str(mine.pk)}, "rows": 4},
        )
