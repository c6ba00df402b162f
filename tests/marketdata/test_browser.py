"""The depth ladder in a real browser, fed live by the publisher that the server's lifespan
starts (the embedded mode), which stops with the server."""
import time

import pytest
from django.core.cache import cache

from marketdata.selectors import snapshot_key
from tests.browser import ServerThread, browser_page, login  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEQ = "() => Number((document.getElementById('ladder-seq').textContent.match(/seq (\\d+)/) || [0, 0])[1])"


def test_depth_ladder_updates_live(browser_page, trader, aapl, lit_venues, no_snapshots, settings):  # noqa: F811
    settings.MARKETDATA_EMBEDDED = True  # CI's production settings run the feed as its own process
    settings.MARKETDATA_PUBLISH_INTERVAL = 0.2
    page = browser_page
    with ServerThread() as server:
        login(page, server.url, "trader")
        page.goto(f"{server.url}/market/AAPL/")
        page.wait_for_function(f"({SEQ})() > 0")
        first = page.evaluate(SEQ)
        page.wait_for_function(f"({SEQ})() > {first}")  # the simulator moved the book: a new push
        assert page.evaluate(SEQ) > first
        assert page.locator("#ladder-rows tr").count() >= 10
        assert {h.inner_text() for h in page.locator("#venues h3").all()} == {"NEXA", "LUMA", "ORBIT"}
        assert "(" in page.inner_text("#best-bid") and "(" in page.inner_text("#best-ask")
    # The server is down: its publisher must be too, so the cached book stops changing.
    last = cache.get(snapshot_key("AAPL"))["seq"]
    time.sleep(1.5)  # several publish intervals and at least one simulator step
    assert cache.get(snapshot_key("AAPL"))["seq"] == last
