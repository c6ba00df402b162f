"""Feed handlers: CSV replay against committed fixtures, and the simulator-backed feed."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from marketdata.feeds import FeedHandler, ReplayFeed, SimulatorFeed
from marketdata.sim import InstrumentSpec, MarketSimulator, Snapshot, Trade, VenueBook, VenueSpec, VirtualClock

DATA = Path(__file__).parent / "data"
QUOTES = DATA / "replay_quotes.csv"
TRADES = DATA / "replay_trades.csv"


def _replay(clock: VirtualClock) -> ReplayFeed:
    return ReplayFeed(TRADES, QUOTES, clock)


def test_replay_gives_the_expected_snapshots_in_order() -> None:
    clock = VirtualClock()
    feed = _replay(clock)
    assert feed.symbols == ["AAPL", "MSFT"]
    assert feed.snapshot("AAPL") is None  # nothing replayed before the first poll

    xnas_open = VenueBook("XNAS", [(100.0, 500.0), (99.99, 800.0)], [(100.02, 400.0), (100.03, 700.0)])
    assert feed.poll() == [Snapshot("AAPL", 0.0, 2, 100.01, {"XNAS": xnas_open}, None, 0.0)]

    clock.advance(0.5)
    arcx = VenueBook("ARCX", [(100.01, 200.0)], [(100.03, 300.0)])
    assert feed.poll() == [Snapshot("AAPL", 0.5, 3, 100.015, {"XNAS": xnas_open, "ARCX": arcx}, None, 0.0)]

    clock.advance(0.5)
    # Quotes come before trades at the same timestamp; symbols keep first-appearance order.
    first_trade = Trade(100.02, 100.0, "XNAS", 1.0, "BUY")
    msft_book = VenueBook("XNAS", [(400.1, 100.0)], [(400.2, 150.0)])
    assert feed.poll() == [
        Snapshot("AAPL", 1.0, 4, 100.015, {"XNAS": xnas_open, "ARCX": arcx}, first_trade, 100.0),
        Snapshot("MSFT", 1.0, 1, 400.15, {"XNAS": msft_book}, None, 0.0),
    ]

    clock.advance(1.0)
    # An empty bid removes level 0 of XNAS's bids; level 1 becomes the best.
    xnas_later = VenueBook("XNAS", [(99.99, 800.0)], [(100.01, 250.0), (100.03, 700.0)])
    assert feed.poll() == [Snapshot("AAPL", 2.0, 5, 100.01, {"XNAS": xnas_later, "ARCX": arcx}, first_trade, 100.0)]

    clock.advance(1.0)
    msft_trade = Trade(400.2, 50.0, "XNAS", 2.5, "BUY")
    last_trade = Trade(100.01, 75.0, "ARCX", 3.0, None)
    assert feed.poll() == [
        Snapshot("AAPL", 3.0, 6, 100.01, {"XNAS": xnas_later, "ARCX": arcx}, last_trade, 175.0),
        Snapshot("MSFT", 2.5, 2, 400.15, {"XNAS": msft_book}, msft_trade, 50.0),
    ]
    assert feed.exhausted
    assert feed.poll() == []  # nothing changed since
    assert feed.snapshot("MSFT") == Snapshot("MSFT", 2.5, 2, 400.15, {"XNAS": msft_book}, msft_trade, 50.0)
    assert feed.snapshot("NOPE") is None


def test_replay_polling_in_one_jump_lands_on_the_same_final_state() -> None:
    stepwise_clock, jump_clock = VirtualClock(), VirtualClock()
    stepwise, jump = _replay(stepwise_clock), _replay(jump_clock)
    for _ in range(10):
        stepwise_clock.advance(0.5)
        stepwise.poll()
    jump_clock.advance(5.0)
    assert [s.symbol for s in jump.poll()] == ["AAPL", "MSFT"]
    assert jump.snapshot("AAPL") == stepwise.snapshot("AAPL")
    assert jump.snapshot("MSFT") == stepwise.snapshot("MSFT")


def test_replay_accepts_plain_seconds_and_quotes_only(tmp_path: Path) -> None:
    quotes = tmp_path / "quotes.csv"
    quotes.write_text(
        "symbol,ts,venue,bid_price,bid_size,ask_price,ask_size\n"
        "BTC-USD,10,CBSE,60000.5,0.25,60001,0.5\n"
        "BTC-USD,12.5,CBSE,60000,1,,\n"
    )
    clock = VirtualClock(start=9.0)
    feed = ReplayFeed(None, quotes, clock)
    assert feed.poll() == []
    clock.advance(1.0)
    assert feed.poll() == [
        Snapshot(
            "BTC-USD", 10.0, 1, 60000.75, {"CBSE": VenueBook("CBSE", [(60000.5, 0.25)], [(60001.0, 0.5)])}, None, 0.0
        )
    ]
    clock.advance(5.0)
    (one_sided,) = feed.poll()
    assert one_sided.venues["CBSE"] == VenueBook("CBSE", [(60000.0, 1.0)], [])
    assert math.isnan(one_sided.mid)  # no two-sided quote and no trade yet


def test_replay_start_shifts_the_time_origin() -> None:
    clock = VirtualClock()
    feed = ReplayFeed(TRADES, None, clock, start=1709303400.0 - 100)  # 14:28:20Z
    assert feed.poll() == []
    clock.advance(101.0)
    (snapshot,) = feed.poll()
    assert (snapshot.symbol, snapshot.ts, snapshot.volume, snapshot.mid) == ("AAPL", 101.0, 100.0, 100.02)


def test_replay_refuses_bad_files(tmp_path: Path) -> None:
    missing_column = tmp_path / "trades.csv"
    missing_column.write_text("ts,symbol,venue,price\n1,AAPL,XNAS,100\n")
    with pytest.raises(ValueError, match="missing columns \\['size'\\]"):
        ReplayFeed(missing_column, None, VirtualClock())
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("ts,symbol,venue,price,size\n1,AAPL,XNAS,100,1\n2024-03-01T14:30:00Z,AAPL,XNAS,100,1\n")
    with pytest.raises(ValueError, match="mixed timestamp formats"):
        ReplayFeed(mixed, None, VirtualClock())
    bad_side = tmp_path / "side.csv"
    bad_side.write_text("ts,symbol,venue,price,size,side\n1,AAPL,XNAS,100,1,LONG\n")
    with pytest.raises(ValueError, match="unknown side 'LONG'"):
        ReplayFeed(bad_side, None, VirtualClock())


def _simulator() -> MarketSimulator:
    instruments = [
        InstrumentSpec("AAA", "EQUITY", 50.0, 0.01, 1.0, 2_000_000, 0.02),
        InstrumentSpec("BBB", "EQUITY", 20.0, 0.01, 1.0, 500_000, 0.03),
    ]
    venues = [VenueSpec("LIT1", "LIT", -0.2, 0.3, 1.0), VenueSpec("DARK1", "DARK", 0.0, 0.1, 2.0)]
    return MarketSimulator(instruments, venues, seed=3)


def test_simulator_feed_advances_with_its_clock_and_reports_changes() -> None:
    clock = VirtualClock()
    simulator = _simulator()
    feed = SimulatorFeed(simulator, clock)
    assert isinstance(feed, FeedHandler)
    assert feed.symbols == ["AAA", "BBB"]

    first = feed.poll()  # never seen: everything is new
    assert [s.symbol for s in first] == ["AAA", "BBB"]
    assert [s.ts for s in first] == [0.0, 0.0]
    assert feed.poll() == []  # clock did not move

    clock.advance(5.0)
    later = feed.poll()
    assert simulator.time == 5.0
    assert [s.symbol for s in later] == ["AAA", "BBB"]
    assert all(s.ts == 5.0 and s.seq > f.seq for s, f in zip(later, first, strict=True))
    assert later == [simulator.snapshot("AAA"), simulator.snapshot("BBB")]
    assert feed.snapshot("AAA") == later[0]
    assert feed.snapshot("ZZZ") is None


def test_simulator_feed_reports_only_the_symbol_our_trade_changed() -> None:
    clock = VirtualClock()
    simulator = _simulator()
    feed = SimulatorFeed(simulator, clock)
    feed.poll()
    simulator.execute_market("BBB", "LIT1", "BUY", 100)
    assert [s.symbol for s in feed.poll()] == ["BBB"]


def test_replay_feed_satisfies_the_port() -> None:
    assert isinstance(_replay(VirtualClock()), FeedHandler)
