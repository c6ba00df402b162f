"""GET /api/marketdata/{symbol}/: the consolidated book with its age, and whether it is fresh
(MARKETDATA_STALE_SECONDS). Ages come from the publisher's injected wall clock, never from
waiting."""

import time

import pytest
from asgiref.sync import async_to_sync

from marketdata.feeds import SimulatorFeed
from marketdata.publisher import Publisher, build_simulator, instrument_grids
from marketdata.selectors import is_fresh, latest_snapshot
from marketdata.sim import VirtualClock

pytestmark = pytest.mark.django_db


@pytest.fixture
def publish(aapl, lit_venues, no_snapshots):
    """Publish AAPL's book once, stamped `published_at` by the publisher's wall clock."""

    def publish_at(published_at: float) -> dict:
        clock = VirtualClock()
        publisher = Publisher(
            SimulatorFeed(build_simulator(seed=5, clock=clock), clock),
            instrument_grids(),
            wall_clock=lambda: published_at,
        )
        clock.advance(5)
        assert async_to_sync(publisher.publish_once)() == 1
        return latest_snapshot("AAPL", now=published_at)

    return publish_at


def test_book_is_fresh_right_after_publication(api_client, trader, publish):
    published = publish(time.time())
    body = api_client(trader).get("/api/marketdata/AAPL/").json()
    assert body["fresh"] is True and 0 <= body["age_seconds"] < 5
    assert body["seq"] == published["seq"] and set(body["venues"]) == {"NEXA", "LUMA", "ORBIT"}
    assert float(body["best_bid"]["price"]) < float(body["best_ask"]["price"])


def test_book_older_than_the_threshold_is_not_fresh(api_client, trader, publish, settings):
    settings.MARKETDATA_STALE_SECONDS = 0.3
    published = publish(time.time() - 0.6)  # published 0.6 s ago, nothing since: the book only ages
    body = api_client(trader).get("/api/marketdata/AAPL/").json()
    assert body["fresh"] is False and body["age_seconds"] >= 0.6
    assert body["seq"] == published["seq"]  # still the last book, flagged rather than hidden


def test_freshness_is_the_age_at_the_reading_time(publish, settings):
    settings.MARKETDATA_STALE_SECONDS = 0.3
    published_at = 1_700_000_000.0
    publish(published_at)
    assert latest_snapshot("AAPL", now=published_at)["age_seconds"] == 0.0
    assert latest_snapshot("AAPL", now=published_at + 0.3)["age_seconds"] == 0.3
    assert is_fresh(latest_snapshot("AAPL", now=published_at + 0.3))  # the threshold itself is still fresh
    stale = latest_snapshot("AAPL", now=published_at + 0.6)
    assert stale["age_seconds"] == 0.6
    assert not is_fresh(stale)
    assert is_fresh(stale, max_age=60)
    # A reader whose clock is behind the publisher's sees age 0, never a negative age.
    assert latest_snapshot("AAPL", now=published_at - 5)["age_seconds"] == 0.0


def test_no_book_yet(api_client, trader, aapl, no_snapshots):
    body = api_client(trader).get("/api/marketdata/AAPL/").json()
    assert (body["fresh"], body["age_seconds"], body["venues"]) == (False, None, {})
    assert latest_snapshot("AAPL") is None and not is_fresh(None)


def test_unknown_symbol_and_anonymous(api_client, trader, aapl):
    assert api_client(trader).get("/api/marketdata/NOPE/").status_code == 404
    assert api_client().get("/api/marketdata/AAPL/").status_code == 401


def test_instruments_expose_the_analytics(api_client, pm, aapl):
    body = api_client(pm).get("/api/instruments/AAPL/").json()
    assert {"adv", "volatility", "avg_spread_bps", "volume_profile", "analytics_updated_at"} <= set(body)
