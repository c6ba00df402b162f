"""Feed -> publisher -> cache: a recorded CSV replayed through the real publisher gives the
expected consolidated books, in order, with per-symbol sequence numbers that keep growing
across publisher restarts and never repeat between two publishers."""

from decimal import Decimal as D

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import cache

from marketdata.feeds import ReplayFeed
from marketdata.groups import book_group
from marketdata.publisher import Publisher, instrument_grids
from marketdata.selectors import latest_snapshot, snapshot_key
from marketdata.sim import VirtualClock

pytestmark = pytest.mark.django_db

QUOTES = """ts,symbol,venue,bid_price,bid_size,ask_price,ask_size,level
0,AAPL,NEXA,100.00,500,100.02,400,0
0,AAPL,NEXA,99.99,800,100.03,700,1
0.5,AAPL,LUMA,100.01,200,100.03,300,0
0.5,MSFT,NEXA,400.10,100,400.20,150,0
2,AAPL,NEXA,100.01,600,100.02,100,0
"""
TRADES = """ts,symbol,venue,price,size,side
1,AAPL,NEXA,100.02,100,BUY
3,AAPL,LUMA,100.01,75,
"""


@pytest.fixture
def replay(tmp_path, aapl, no_snapshots):
    (tmp_path / "q.csv").write_text(QUOTES)
    (tmp_path / "t.csv").write_text(TRADES)
    clock = VirtualClock()
    # MSFT is in the files but not an instrument here: the publisher skips it.
    return clock, Publisher(ReplayFeed(tmp_path / "t.csv", tmp_path / "q.csv", clock), instrument_grids())


def cached(symbol="AAPL"):
    return cache.get(snapshot_key(symbol))


def test_replay_through_the_publisher_gives_the_expected_snapshots(replay):
    clock, publisher = replay
    publish = async_to_sync(publisher.publish_once)

    clock.advance(0.5)
    assert publish() == 1
    book = cached()
    first = book["seq"]
    assert first > 0 and publisher.seq == {"AAPL": first}
    assert {k: book[k] for k in ("symbol", "ts", "mid", "best_bid", "best_ask", "last_trade", "volume")} == {
        "symbol": "AAPL",
        "ts": 0.5,
        "mid": "100.015",
        "best_bid": {"price": "100.01", "size": "200", "venue": "LUMA"},
        "best_ask": {"price": "100.02", "size": "400", "venue": "NEXA"},
        "last_trade": None,
        "volume": "0",
    }
    assert book["venues"] == {
        "NEXA": {"bids": [["100.00", "500"], ["99.99", "800"]], "asks": [["100.02", "400"], ["100.03", "700"]]},
        "LUMA": {"bids": [["100.01", "200"]], "asks": [["100.03", "300"]]},
    }
    assert book["consolidated"] == {
        "bids": [["100.01", "200"], ["100.00", "500"], ["99.99", "800"]],
        "asks": [["100.02", "400"], ["100.03", "1000"]],
    }
    assert book["spread_bps"] == round(0.01 / 100.015 * 1e4, 2)
    assert cached("MSFT") is None

    assert publish() == 0  # nothing new on the feed: nothing published, the sequence stands
    assert cached()["seq"] == first

    clock.advance(0.5)
    publish()
    book = cached()
    assert (book["seq"], book["volume"]) == (first + 1, "100")
    assert book["last_trade"] == {"price": "100.02", "size": "100", "venue": "NEXA", "side": "BUY", "ts": 1.0}

    clock.advance(2.0)  # a quote at 2 and a trade at 3: one publication
    publish()
    book = cached()
    assert (book["seq"], book["ts"], book["volume"]) == (first + 2, 3.0, "175")
    assert book["best_ask"] == {"price": "100.02", "size": "100", "venue": "NEXA"}
    assert book["last_trade"] == {"price": "100.01", "size": "75", "venue": "LUMA", "side": None, "ts": 3.0}
    assert D(book["mid"]) == (D("100.01") + D("100.02")) / 2


def test_selector_adds_the_age_of_the_published_book(replay):
    clock, publisher = replay
    clock.advance(1)
    async_to_sync(publisher.publish_once)()
    snap = latest_snapshot("AAPL")
    assert snap["seq"] == publisher.seq["AAPL"] and 0 <= snap["age_seconds"] < 60
    assert latest_snapshot("AAPL", now=snap["published_at"] + 2.5)["age_seconds"] == 2.5


def test_publication_is_stamped_by_the_wall_clock(tmp_path, aapl, no_snapshots):
    (tmp_path / "q.csv").write_text(QUOTES)
    clock = VirtualClock()
    publisher = Publisher(
        ReplayFeed(None, tmp_path / "q.csv", clock), instrument_grids(), wall_clock=lambda: 1_700_000_000.25
    )
    clock.advance(1)
    async_to_sync(publisher.publish_once)()
    assert cached()["published_at"] == 1_700_000_000.25


def replay_publisher(tmp_path, clock) -> Publisher:
    return Publisher(ReplayFeed(tmp_path / "t.csv", tmp_path / "q.csv", clock), instrument_grids())


def test_a_restarted_publisher_continues_above_the_last_sequence(replay, tmp_path):
    clock, publisher = replay
    clock.advance(1)
    async_to_sync(publisher.publish_once)()
    before = cached()["seq"]
    # A new process: a new publisher (and feed) from the start of the files.
    restarted_clock = VirtualClock()
    restarted = replay_publisher(tmp_path, restarted_clock)
    restarted_clock.advance(0.5)
    async_to_sync(restarted.publish_once)()
    assert cached()["seq"] == before + 1


def test_a_lost_counter_restarts_above_every_number_handed_out(replay, tmp_path):
    clock, publisher = replay
    clock.advance(1)
    async_to_sync(publisher.publish_once)()
    before = cached()["seq"]
    cache.clear()  # a flushed cache (or an embedded restart) forgets the counter and the books
    restarted_clock = VirtualClock()
    restarted = replay_publisher(tmp_path, restarted_clock)
    restarted_clock.advance(0.5)
    async_to_sync(restarted.publish_once)()
    assert cached()["seq"] > before


def test_two_publishers_never_hand_out_the_same_sequence(replay, tmp_path):
    clock, first = replay
    second = replay_publisher(tmp_path, clock)
    seen = []
    for _ in range(3):
        clock.advance(1)
        for publisher in (first, second):
            async_to_sync(publisher.publish_once)()
            seen.append(cached()["seq"])
    assert seen == sorted(seen) and len(set(seen)) == len(seen) == 6


def test_group_names_keep_only_the_allowed_characters():
    assert book_group("AAPL") == "marketdata.AAPL"
    assert book_group("BTC-USD") == "marketdata.BTC-USD"
    assert book_group("EQ00 18C/x") == "marketdata.EQ00_18C_x"
