"""GET /api/marketdata/{symbol}/: the consolidated book with its age, and whether it is fresh
(MARKETDATA_STALE_SECONDS)."""
import time

import pytest
from asgiref.sync import async_to_sync

from marketdata.feeds import SimulatorFeed
from marketdata.publisher import Publisher, build_simulator, instrument_grids
from marketdata.selectors import is_fresh, latest_snapshot
from marketdata.sim import VirtualClock

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(aapl, lit_venues, no_snapshots):
    clock = VirtualClock()
    publisher = Publisher(SimulatorFeed(build_simulator(seed=5, clock=clock), clock), instrument_grids())
    clock.advance(5)
    async_to_sync(publisher.publish_once)()
    return publisher


def test_book_is_fresh_right_after_publication(api_client, trader, published):
    body = api_client(trader).get("/api/marketdata/AAPL/").json()
    assert body["fresh"] is True and 0 <= body["age_seconds"] < 5
    assert body["seq"] == 1 and set(body["venues"]) == {"NEXA", "LUMA", "ORBIT"}
    assert float(body["best_bid"]["price"]) < float(body["best_ask"]["price"])


def test_book_older_than_the_threshold_is_not_fresh(api_client, trader, published, settings):
    settings.MARKETDATA_STALE_SECONDS = 0.3
    time.sleep(0.6)  # nothing publishes any more: the book only ages
    body = api_client(trader).get("/api/marketdata/AAPL/").json()
    assert body["fresh"] is False and body["age_seconds"] >= 0.6
    assert body["seq"] == 1  # still the last book, flagged rather than hidden
    assert not is_fresh(latest_snapshot("AAPL"))
    assert is_fresh(latest_snapshot("AAPL"), max_age=60)


def test_no_book_yet(api_client, trader, aapl, no_snapshots):
    body = api_client(trader).get("/api/marketdata/AAPL/").json()
    assert (body["fresh"], body["age_seconds"], body["venues"]) == (False, None, {})


def test_unknown_symbol_and_anonymous(api_client, trader, aapl):
    assert api_client(trader).get("/api/marketdata/NOPE/").status_code == 404
    assert api_client().get("/api/marketdata/AAPL/").status_code in (401, 403)


def test_instruments_expose_the_analytics(api_client, pm, aapl):
    body = api_client(pm).get("/api/instruments/AAPL/").json()
    assert {"adv", "volatility", "avg_spread_bps", "volume_profile", "analytics_updated_at"} <= set(body)
