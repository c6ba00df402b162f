"""The depth ladder and the market overview in a real browser, fed live by the publisher that
the server's lifespan starts (the embedded mode), which stops with the server."""

import pytest

from config.asgi import application
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
        publishers = [t for t in application.tasks if t.get_name() == "marketdata-publisher"]
        assert len(publishers) == 1
        page.wait_for_function(f"({SEQ})() > 0")
        first = page.evaluate(SEQ)
        page.wait_for_function(f"({SEQ})() > {first}")  # the simulator moved the book: a new push
        assert page.evaluate(SEQ) > first
        assert page.locator("#ladder-rows tr").count() >= 10
        assert {h.inner_text() for h in page.locator("#venues h3").all()} == {"NEXA", "LUMA", "ORBIT"}
        assert "(" in page.inner_text("#best-bid") and "(" in page.inner_text("#best-ask")
    # The server is down and its lifespan waited for the publisher to finish: nothing can
    # write the cached book any more.
    assert not server.thread.is_alive()
    assert publishers[0].done() and application.tasks == []


def row_seq(symbol: str) -> str:
    return (
        f"() => Number((document.querySelector('#market tr[data-symbol=\"{symbol}\"] .c-age')"
        ".textContent.match(/seq (\\d+)/) || [0, 0])[1])"
    )


def test_market_overview_opens_one_websocket(browser_page, trader, aapl, btc, lit_venues, no_snapshots, settings):  # noqa: F811
    settings.MARKETDATA_EMBEDDED = True
    settings.MARKETDATA_PUBLISH_INTERVAL = 0.2
    page = browser_page
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    with ServerThread() as server:
        login(page, server.url, "trader")
        sockets.clear()  # the trader's landing page, the blotter, has its own
        page.goto(f"{server.url}/market/")
        for symbol in ("AAPL", "BTC-USD"):
            page.wait_for_function(f"({row_seq(symbol)})() > 0")
        first = {s: page.evaluate(row_seq(s)) for s in ("AAPL", "BTC-USD")}
        for symbol, seq in first.items():
            page.wait_for_function(f"({row_seq(symbol)})() > {seq}")  # both rows move on, live
        assert page.inner_text("#market tr[data-symbol='AAPL'] .c-bid") != "–"
        assert sockets == [f"ws://127.0.0.1:{server.port}/ws/marketdata/"]
