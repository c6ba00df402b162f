"""The pure market simulator: determinism, book shape, impact, resilience, volume, our orders."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketdata.sim import (
    Fill,
    InstrumentSpec,
    MarketSimulator,
    SimParams,
    Snapshot,
    VenueSpec,
    VirtualClock,
    WallClock,
)
from marketdata.sim.pricing import black_scholes

EQUITY = InstrumentSpec("AAA", "EQUITY", 100.0, 0.01, 1.0, 1_000_000, 0.02)
CRYPTO = InstrumentSpec("BTC-USD", "CRYPTO", 60_000.0, 0.01, 0.0001, 20_000, 0.03)
CALL = InstrumentSpec(
    "AAA 100C",
    "OPTION",
    5.0,
    0.01,
    1.0,
    5_000,
    0.02,
    underlying="AAA",
    strike=100.0,
    expiry_years=0.25,
    right="C",
    multiplier=100.0,
)
PUT = InstrumentSpec(
    "AAA 95P",
    "OPTION",
    2.0,
    0.01,
    1.0,
    3_000,
    0.02,
    underlying="AAA",
    strike=95.0,
    expiry_years=0.25,
    right="P",
    multiplier=100.0,
)

LIT1 = VenueSpec("LIT1", "LIT", maker_fee_bps=-0.2, taker_fee_bps=0.3, latency_ms=1.0)
LIT2 = VenueSpec("LIT2", "LIT", maker_fee_bps=-0.1, taker_fee_bps=0.25, latency_ms=2.0, spread_mult=1.5, depth_mult=0.7)
DARK1 = VenueSpec("DARK1", "DARK", maker_fee_bps=0.0, taker_fee_bps=0.1, latency_ms=3.0, min_quantity=100.0)
RFQ1 = VenueSpec("RFQ1", "RFQ", maker_fee_bps=0.0, taker_fee_bps=0.0, latency_ms=50.0)
OFF = VenueSpec("OFF", "LIT", maker_fee_bps=0.0, taker_fee_bps=0.0, latency_ms=1.0, enabled=False)

ALL_INSTRUMENTS = [EQUITY, CRYPTO, CALL, PUT]
ALL_VENUES = [LIT1, LIT2, DARK1, RFQ1, OFF]
SYMBOLS = [spec.symbol for spec in ALL_INSTRUMENTS]


def make_sim(
    seed: int = 7,
    instruments: list[InstrumentSpec] | None = None,
    venues: list[VenueSpec] | None = None,
    clock=None,
    **params,
) -> MarketSimulator:
    return MarketSimulator(
        ALL_INSTRUMENTS if instruments is None else instruments,
        ALL_VENUES if venues is None else venues,
        seed=seed,
        clock=clock,
        params=SimParams(**params),
    )


def calm(spec: InstrumentSpec) -> InstrumentSpec:
    """The same instrument without a random walk: prices move only by our impact."""
    return replace(spec, daily_vol=0.0)


def avg_price(fills: list[Fill]) -> float:
    return sum(f.price * f.quantity for f in fills) / sum(f.quantity for f in fills)


def scripted_session(seed: int) -> tuple[list[Snapshot], list[Fill]]:
    """A fixed call sequence touching every feature; returns everything observable."""
    sim = make_sim(seed, dark_contra_ratio=0.5)
    snapshots, fills = [], []
    sim.advance_to(120)
    snapshots += [sim.snapshot(s) for s in SYMBOLS]
    fills += sim.execute_market("AAA", "LIT1", "BUY", 3_000)
    fills += sim.execute_market("BTC-USD", "LIT2", "SELL", 2.5, limit_price=59_000)
    best_bid = sim.snapshot("AAA").venues["LIT2"].bids[0][0]
    sim.place_limit("L1", "AAA", "LIT2", "BUY", 400, best_bid)
    sim.place_dark("D1", "AAA", "DARK1", "SELL", 5_000, min_quantity=200)
    sim.place_limit("L2", "AAA 100C", "LIT1", "SELL", 5, sim.snapshot("AAA 100C").venues["LIT1"].asks[0][0])
    for t in (300, 450.5, 900):
        sim.advance_to(t)
        snapshots += [sim.snapshot(s) for s in SYMBOLS]
        fills += sim.drain_fills()
    fills.append(sim.cancel("D1"))
    return snapshots, fills


# ---------------------------------------------------------------------- determinism


def test_same_seed_and_calls_give_identical_output() -> None:
    first, second = scripted_session(11), scripted_session(11)
    assert first == second
    snapshots, fills = first
    assert any(f.liquidity == "MAKER" for f in fills[:-1])  # the script really exercises our orders
    assert any(f.liquidity == "DARK" for f in fills[:-1])


def test_different_seeds_differ() -> None:
    snapshots_a, _ = scripted_session(11)
    snapshots_b, _ = scripted_session(12)
    assert [s.mid for s in snapshots_a] != [s.mid for s in snapshots_b]
    assert snapshots_a[-1].venues != snapshots_b[-1].venues


def test_polling_cadence_does_not_change_the_market() -> None:
    one_jump, many_polls = make_sim(5), make_sim(5)
    one_jump.advance_to(100)
    for t in np.arange(0.0, 100.01, 0.37):
        many_polls.advance_to(float(t))
    many_polls.advance_to(100)
    assert one_jump.time == many_polls.time == 100.0
    assert [one_jump.snapshot(s) for s in SYMBOLS] == [many_polls.snapshot(s) for s in SYMBOLS]


def test_our_orders_do_not_perturb_the_random_path_of_other_instruments() -> None:
    quiet, busy = make_sim(9), make_sim(9)
    busy.place_dark("D", "AAA", "DARK1", "BUY", 10_000)
    busy.execute_market("AAA", "LIT1", "BUY", 500)
    quiet.advance_to(600)
    busy.advance_to(600)
    assert quiet.snapshot("BTC-USD") == busy.snapshot("BTC-USD")


def test_advance_runs_whole_steps_only_and_never_goes_back() -> None:
    sim = make_sim(1, step_seconds=1.0)
    assert sim.step(0.5) == 0 and sim.time == 0.0
    assert sim.step(0.5) > 0 and sim.time == 1.0
    assert sim.advance_to(0.0) == 0 and sim.time == 1.0
    events = sim.advance_to(10)
    assert sim.time == 10.0
    assert events > 0 and sim.events_total >= events


# ---------------------------------------------------------------------- book shape


def assert_well_formed(snapshot: Snapshot, spec: InstrumentSpec, levels: int = 10) -> None:
    assert set(snapshot.venues) == {"LIT1", "LIT2"}  # no dark, RFQ or disabled venue
    for book in snapshot.venues.values():
        assert len(book.bids) >= levels and len(book.asks) >= levels
        bid_prices = [p for p, _ in book.bids]
        ask_prices = [p for p, _ in book.asks]
        assert bid_prices == sorted(bid_prices, reverse=True) and len(set(bid_prices)) == len(bid_prices)
        assert ask_prices == sorted(ask_prices) and len(set(ask_prices)) == len(ask_prices)
        assert bid_prices[0] < ask_prices[0]
        for price, size in book.bids + book.asks:
            assert price > 0 and size > 0
            assert abs(price / spec.tick_size - round(price / spec.tick_size)) < 1e-6
            assert abs(size / spec.lot_size - round(size / spec.lot_size)) < 1e-6
    assert snapshot.best_bid < snapshot.mid < snapshot.best_ask


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), seconds=st.floats(0, 900))
def test_snapshots_have_ten_sorted_levels_on_the_grid(seed: int, seconds: float) -> None:
    sim = make_sim(seed)
    sim.advance_to(seconds)
    for spec in ALL_INSTRUMENTS:
        snapshot = sim.snapshot(spec.symbol)
        assert snapshot.ts == math.floor(seconds + 1e-9)  # whole steps; a float hair short still counts
        assert_well_formed(snapshot, spec)


def test_lit_venue_spread_and_depth_follow_the_venue_multipliers() -> None:
    sim = make_sim(2, instruments=[calm(EQUITY)], depth_noise=0.0)
    books = sim.snapshot("AAA").venues
    # 2 bps of 100 = 2 ticks on LIT1; LIT2 quotes 1.5x wider and 0.7x as deep.
    assert books["LIT1"].bids[0] == (99.99, 500.0) and books["LIT1"].asks[0] == (100.01, 500.0)
    assert books["LIT2"].bids[0] == (99.98, 350.0) and books["LIT2"].asks[0] == (100.02, 350.0)
    assert [size for _, size in books["LIT1"].asks[:3]] == [500.0, 575.0, 650.0]  # depth_slope 0.15


def test_options_are_priced_from_the_underlying_with_wide_thin_books() -> None:
    sim = make_sim(4)
    sim.advance_to(1_800)
    years = 0.25 - 1_800 / (23_400 * 252)
    vol = 0.02 * math.sqrt(252)
    under = sim.fair_value("AAA")
    assert sim.fair_value("AAA 100C") == pytest.approx(black_scholes(under, 100.0, years, vol, True)[()], rel=1e-12)
    assert sim.fair_value("AAA 95P") == pytest.approx(black_scholes(under, 95.0, years, vol, False)[()], rel=1e-12)
    option, stock = sim.snapshot("AAA 100C"), sim.snapshot("AAA")
    spread_bps = lambda s: (s.best_ask - s.best_bid) / s.mid * 1e4  # noqa: E731
    assert spread_bps(option) > 50 * spread_bps(stock)
    assert option.venues["LIT1"].asks[0][1] < stock.venues["LIT1"].asks[0][1] / 10


def test_black_scholes_matches_put_call_parity_and_intrinsic_at_expiry() -> None:
    # Hull's worked example: S=42, K=40, r=10%, vol=20%, six months -> call 4.76, put 0.81.
    call = black_scholes(42.0, 40.0, 0.5, 0.2, True, rate=0.1)[()]
    put = black_scholes(42.0, 40.0, 0.5, 0.2, False, rate=0.1)[()]
    assert (round(call, 2), round(put, 2)) == (4.76, 0.81)
    assert call - put == pytest.approx(42.0 - 40.0 * math.exp(-0.1 * 0.5), abs=1e-12)
    assert black_scholes(105.0, 100.0, 0.0, 0.3, True)[()] == 5.0
    assert black_scholes(105.0, 100.0, 0.0, 0.3, False)[()] == 0.0


# ---------------------------------------------------------------------- taking liquidity


def test_a_larger_market_order_pays_more_per_share() -> None:
    small_sim, large_sim = make_sim(3), make_sim(3)
    small_sim.advance_to(60)
    large_sim.advance_to(60)
    touch = small_sim.snapshot("AAA").venues["LIT1"].asks[0]
    small = small_sim.execute_market("AAA", "LIT1", "BUY", touch[1] // 2)
    large = large_sim.execute_market("AAA", "LIT1", "BUY", 8_000)
    assert [(f.price, f.quantity) for f in small] == [(touch[0], touch[1] // 2)]
    assert sum(f.quantity for f in large) == 8_000
    assert len(large) > 5  # walked the book level by level
    assert [f.price for f in large] == sorted(f.price for f in large)
    assert avg_price(large) > avg_price(small)

    sell_small, sell_large = make_sim(3), make_sim(3)
    touch_bid = sell_small.snapshot("AAA").venues["LIT1"].bids[0]
    assert (
        avg_price(sell_large.execute_market("AAA", "LIT1", "SELL", 8_000))
        < avg_price(sell_small.execute_market("AAA", "LIT1", "SELL", 10))
        == touch_bid[0]
    )


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    sizes=st.tuples(st.integers(1, 30_000), st.integers(1, 30_000)),
    side=st.sampled_from(["BUY", "SELL"]),
)
def test_average_price_worsens_with_size(seed: int, sizes: tuple[int, int], side: str) -> None:
    small, large = sorted(sizes)
    results = []
    for quantity in (small, large):
        sim = make_sim(seed, instruments=[EQUITY])
        book = sim.snapshot("AAA").venues["LIT1"]
        shown = sum(size for _, size in (book.asks if side == "BUY" else book.bids))
        fills = sim.execute_market("AAA", "LIT1", side, quantity)
        filled = sum(f.quantity for f in fills)
        # Reserve levels behind the ten shown add depth; never more than asked.
        assert min(quantity, shown) <= filled <= quantity
        results.append(avg_price(fills))
    sign = 1 if side == "BUY" else -1
    assert sign * (results[1] - results[0]) >= -1e-9  # equal when both stay in the first level


def test_market_order_respects_its_limit_and_fees() -> None:
    sim = make_sim(8, instruments=[EQUITY])
    asks = sim.snapshot("AAA").venues["LIT1"].asks
    limit = asks[2][0]
    fills = sim.execute_market("AAA", "LIT1", "BUY", 1_000_000, limit_price=limit, order_id="X1")
    assert [(f.price, f.quantity) for f in fills] == asks[:3]  # three levels, then the limit stops it
    assert all(f.order_id == "X1" and f.liquidity == "TAKER" and f.ts == 0.001 for f in fills)
    assert [f.fee for f in fills] == [round(p * q * 0.3 / 1e4, 8) for p, q in asks[:3]]
    assert sim.execute_market("AAA", "LIT1", "BUY", 100, limit_price=asks[0][0] - 0.05) == []


def test_consumed_depth_recovers_with_the_resilience_half_life() -> None:
    sim = make_sim(6, instruments=[calm(EQUITY)], venues=[LIT1], depth_noise=0.0, permanent_impact=0.0)
    asks = sim.snapshot("AAA").venues["LIT1"].asks
    band_top = asks[9][0]

    def depth_in_band() -> float:
        return sum(size for price, size in sim.snapshot("AAA").venues["LIT1"].asks if price <= band_top)

    full = depth_in_band()
    consumed = asks[0][1] + asks[1][1] + asks[2][1] + 100
    sim.execute_market("AAA", "LIT1", "BUY", consumed)
    assert depth_in_band() == full - consumed
    assert sim.snapshot("AAA").venues["LIT1"].asks[0] == (asks[3][0], asks[3][1] - 100)  # temporary impact
    sim.advance_to(60)  # one half-life
    assert abs(depth_in_band() - (full - consumed / 2)) <= 2  # per-level rounding to whole lots
    sim.advance_to(60 * 20)
    assert depth_in_band() == full
    assert sim.snapshot("AAA").venues["LIT1"].asks[:10] == asks[:10]


@pytest.mark.parametrize("side,sign", [("BUY", 1), ("SELL", -1)])
def test_permanent_impact_moves_the_mid_in_the_trades_direction(side: str, sign: int) -> None:
    control, impacted = make_sim(10), make_sim(10)
    control.advance_to(100)
    impacted.advance_to(100)
    filled = sum(f.quantity for f in impacted.execute_market("AAA", "LIT1", side, 20_000))
    control.advance_to(100 + 60 * 20)  # long after the book refilled: only the permanent part is left
    impacted.advance_to(100 + 60 * 20)
    ratio = impacted.fair_value("AAA") / control.fair_value("AAA")
    assert ratio == pytest.approx(math.exp(sign * 0.1 * filled / 1_000_000), rel=1e-12)
    assert sign * (impacted.snapshot("AAA").mid - control.snapshot("AAA").mid) > 0.15
    # The option follows its underlying.
    assert impacted.fair_value("AAA 100C") * sign > control.fair_value("AAA 100C") * sign


def test_trading_an_option_moves_only_that_options_price() -> None:
    control, impacted = make_sim(10), make_sim(10)
    impacted.execute_market("AAA 100C", "LIT1", "BUY", 200)
    control.advance_to(10)
    impacted.advance_to(10)
    assert impacted.fair_value("AAA") == control.fair_value("AAA")
    assert impacted.fair_value("AAA 100C") > control.fair_value("AAA 100C")


# ---------------------------------------------------------------------- volume


def test_volume_profile_is_u_shaped_and_expected_volume_is_adv() -> None:
    sim = make_sim(1)
    profile = sim.volume_profile("AAA")
    assert profile.shape == (13,)
    assert profile.sum() == pytest.approx(1.0, abs=1e-12)
    assert profile[0] > profile[6] < profile[-1]
    assert profile[0] == pytest.approx(profile[-1], rel=1e-9)  # symmetric U
    assert np.all(np.diff(profile[:7]) < 0) and np.all(np.diff(profile[6:]) > 0)
    assert sim.volume_profile(buckets=78).sum() == pytest.approx(1.0, abs=1e-12)
    for spec in ALL_INSTRUMENTS:
        assert sim.expected_volume(spec.symbol) == pytest.approx(spec.adv, rel=1e-12)
    with pytest.raises(KeyError):
        sim.volume_profile("NOPE")


def test_background_volume_over_a_virtual_day_is_close_to_adv_and_u_shaped() -> None:
    sim = make_sim(21, instruments=[EQUITY, CRYPTO], step_seconds=5.0)
    session = 23_400
    sim.advance_to(session / 13)
    first_bucket = {s: sim.snapshot(s).volume for s in ("AAA", "BTC-USD")}
    sim.advance_to(6 * session / 13)
    before_middle = {s: sim.snapshot(s).volume for s in ("AAA", "BTC-USD")}
    sim.advance_to(7 * session / 13)
    middle_bucket = {s: sim.snapshot(s).volume - before_middle[s] for s in ("AAA", "BTC-USD")}
    sim.advance_to(session)
    for spec in (EQUITY, CRYPTO):
        assert sim.snapshot(spec.symbol).volume == pytest.approx(spec.adv, rel=0.05)
        assert first_bucket[spec.symbol] > 2.5 * middle_bucket[spec.symbol]
    sim.advance_to(session + 5)  # a new session starts from zero: one step of volume
    assert 0 < sim.snapshot("AAA").volume < 0.002 * EQUITY.adv


# ---------------------------------------------------------------------- resting lit orders


def test_resting_limit_fills_only_when_trading_goes_through_its_price() -> None:
    sim = make_sim(12, instruments=[calm(EQUITY)], venues=[LIT1, LIT2])
    best_bid = sim.snapshot("AAA").venues["LIT1"].bids[0][0]
    price = round(best_bid - 0.05, 2)
    sim.place_limit("B1", "AAA", "LIT1", "BUY", 300, price)
    shown = dict(sim.snapshot("AAA").venues["LIT1"].bids)
    assert shown[price] >= 300  # our order is displayed in its level

    sim.advance_to(600)
    assert sim.snapshot("AAA").volume > 40_000  # plenty of trading, all above our price
    assert sim.drain_fills() == []
    assert sim.open_quantity("B1") == 300

    sim.execute_market("AAA", "LIT2", "SELL", 12_000)  # permanent impact drags LIT1 down through our bid
    assert sim.snapshot("AAA").venues["LIT1"].asks[0][0] <= price
    sim.step(1)
    fee = round(price * 300 * -0.2 / 1e4, 8)
    assert sim.drain_fills() == [Fill("B1", "AAA", "LIT1", "BUY", price, 300.0, fee, "MAKER", 601.0)]
    assert sim.open_quantity("B1") == 0.0
    assert sim.cancel("B1") == 0.0
    assert sim.snapshot("AAA").last_trade.price == price


def first_fill_time(offset_ticks: int, horizon: int = 1_200) -> tuple[float | None, float, float]:
    """Buy 100 at the best bid + offset on a 10-tick-wide, still market; (first fill time, queue, volume then)."""
    spreads = {"EQUITY": 10.0, "OPTION": 300.0, "CRYPTO": 1.0}
    sim = make_sim(13, instruments=[calm(EQUITY)], venues=[LIT1], base_spread_bps=spreads, depth_noise=0.0)
    bid_price, bid_size = sim.snapshot("AAA").venues["LIT1"].bids[0]
    sim.place_limit("Q", "AAA", "LIT1", "BUY", 100, round(bid_price + offset_ticks * 0.01, 2))
    for _ in range(horizon):
        sim.step(1)
        fills = sim.drain_fills()
        if fills:
            return fills[0].ts, bid_size, sim.snapshot("AAA").volume
    return None, bid_size, sim.snapshot("AAA").volume


def test_queue_position_decides_who_fills_first() -> None:
    inside, _, _ = first_fill_time(+1)  # alone inside the spread: the first seller hits us
    at_touch, queue_ahead, volume_then = first_fill_time(0)  # behind the displayed size
    behind, _, volume_at_end = first_fill_time(-1)
    assert inside is not None and at_touch is not None
    assert inside < at_touch
    assert volume_then > queue_ahead  # the queue ahead of us had to trade first
    assert behind is None and volume_at_end > 20_000  # trading never reached a price below the bid


def test_marketable_limit_takes_first_then_rests() -> None:
    sim = make_sim(14, instruments=[calm(EQUITY)], venues=[LIT1])
    asks = sim.snapshot("AAA").venues["LIT1"].asks
    quantity = asks[0][1] + 50
    sim.place_limit("M", "AAA", "LIT1", "BUY", quantity, asks[0][0])
    taker = sim.drain_fills()
    assert [(f.order_id, f.price, f.quantity, f.liquidity) for f in taker] == [("M", asks[0][0], asks[0][1], "TAKER")]
    assert sim.open_quantity("M") == 50
    assert sim.cancel("M") == 50.0
    assert sim.cancel("M") == 0.0


# ---------------------------------------------------------------------- dark pools


def test_dark_orders_never_appear_and_fill_at_the_mid() -> None:
    dark2 = VenueSpec("DARK2", "DARK", maker_fee_bps=0.0, taker_fee_bps=0.1, latency_ms=3.0)
    control = make_sim(15, venues=ALL_VENUES + [dark2], dark_contra_ratio=0.5)
    dark = make_sim(15, venues=ALL_VENUES + [dark2], dark_contra_ratio=0.5)
    dark.place_dark("D-BUY", "AAA", "DARK1", "BUY", 20_000, min_quantity=300)
    dark.place_dark("D-SELL", "BTC-USD", "DARK2", "SELL", 5)
    fills = []
    for _ in range(600):
        control.step(1)
        dark.step(1)
        new = dark.drain_fills()
        for symbol in SYMBOLS:
            snapshot = dark.snapshot(symbol)
            assert snapshot == control.snapshot(symbol)
            assert set(snapshot.venues) == {"LIT1", "LIT2"}
            for fill in new:
                if fill.symbol == symbol:
                    assert fill.price == snapshot.mid
        fills += new
    assert {f.order_id for f in fills} == {"D-BUY", "D-SELL"}
    assert all(f.liquidity == "DARK" and f.ts == int(f.ts) for f in fills)
    assert {f.venue for f in fills if f.order_id == "D-BUY"} == {"DARK1"}
    assert all(f.quantity >= 300 for f in fills if f.order_id == "D-BUY")  # the order's minimum
    assert all(f.fee == round(f.price * f.quantity * 0.1 / 1e4, 8) for f in fills)
    bought = sum(f.quantity for f in fills if f.order_id == "D-BUY")
    assert dark.cancel("D-BUY") == 20_000 - bought


def test_dark_fill_probability_follows_background_volume() -> None:
    # Same pool, same order: the first hour (heavy volume) fills more than a midday hour.
    def filled_between(start: float, end: float) -> float:
        sim = make_sim(16, instruments=[EQUITY], venues=[LIT1, DARK1], dark_contra_ratio=0.2, step_seconds=2.0)
        sim.advance_to(start)
        sim.place_dark("D", "AAA", "DARK1", "BUY", 10**7)
        sim.advance_to(end)
        return sum(f.quantity for f in sim.drain_fills())

    opening = filled_between(0, 1_800)
    midday = filled_between(10_800, 12_600)
    assert opening > 2 * midday > 0


# ---------------------------------------------------------------------- clocks, refusals, purity


def test_a_simulator_with_a_clock_catches_up_before_every_call() -> None:
    clock = VirtualClock()
    sim = make_sim(17, clock=clock)
    clock.advance(42.7)
    assert sim.snapshot("AAA").ts == 42.0
    clock.advance(0.3)
    fills = sim.execute_market("AAA", "LIT1", "BUY", 10)
    assert fills[0].ts == 43.001
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_wall_clock_runs_at_its_speed() -> None:
    clock = WallClock(speed=1000.0, start=5.0)
    first = clock.now()
    second = clock.now()
    assert 5.0 <= first <= second


@pytest.mark.parametrize(
    "call,error",
    [
        (lambda s: s.execute_market("AAA", "DARK1", "BUY", 100), ValueError),
        (lambda s: s.execute_market("AAA", "OFF", "BUY", 100), ValueError),
        (lambda s: s.execute_market("AAA", "RFQ1", "BUY", 100), ValueError),
        (lambda s: s.execute_market("AAA", "LIT1", "HOLD", 100), ValueError),
        (lambda s: s.execute_market("AAA", "LIT1", "BUY", 0), ValueError),
        (lambda s: s.execute_market("AAA", "LIT1", "BUY", 10, limit_price=-1), ValueError),
        (lambda s: s.execute_market("NOPE", "LIT1", "BUY", 10), KeyError),
        (lambda s: s.place_dark("D", "AAA", "LIT1", "BUY", 500), ValueError),
        (lambda s: s.place_dark("D", "AAA", "DARK1", "BUY", 50), ValueError),  # below the pool's minimum
        (lambda s: s.place_limit("L", "AAA", "DARK1", "BUY", 50, 99.0), ValueError),
        (lambda s: s.place_limit("L0", "AAA", "LIT1", "BUY", 50, 99.0), ValueError),  # duplicate id
        (lambda s: s.snapshot("NOPE"), KeyError),
    ],
)
def test_refusals_change_nothing(call, error) -> None:
    sim, untouched = make_sim(18), make_sim(18)
    sim.place_limit("L0", "AAA", "LIT1", "BUY", 50, 99.0)
    untouched.place_limit("L0", "AAA", "LIT1", "BUY", 50, 99.0)
    with pytest.raises(error):
        call(sim)
    assert [sim.snapshot(s) for s in SYMBOLS] == [untouched.snapshot(s) for s in SYMBOLS]
    assert sim.drain_fills() == [] and sim.open_quantity("L0") == 50


def test_bad_specs_are_refused() -> None:
    with pytest.raises(ValueError, match="underlying"):
        MarketSimulator([CALL], [LIT1], seed=1)
    with pytest.raises(ValueError, match="lit venue"):
        MarketSimulator([EQUITY], [DARK1], seed=1)
    with pytest.raises(ValueError, match="duplicate"):
        MarketSimulator([EQUITY, EQUITY], [LIT1], seed=1)
    with pytest.raises(ValueError, match="asset_class"):
        InstrumentSpec("X", "BOND", 100.0, 0.01, 1.0, 1.0, 0.01)
    with pytest.raises(ValueError, match="right"):
        replace(CALL, right="X")
    with pytest.raises(ValueError, match="kind"):
        VenueSpec("V", "OTC", 0.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="trades_per_day"):
        SimParams(trades_per_day={"EQUITY": 1.0})


def test_a_cheap_option_at_the_price_floor_never_prints_at_zero():
    under = InstrumentSpec("U", "EQUITY", 10.0, 0.01, 1, 1e6, 0.02)
    option = InstrumentSpec(
        "O",
        "OPTION",
        0.05,
        0.05,
        1,
        1e4,
        0.05,
        underlying="U",
        strike=20.0,
        expiry_years=0.05,
        right="C",
        multiplier=100,
    )
    sim = MarketSimulator([under, option], [VenueSpec("L", "LIT", 0, 1, 1)], seed=1, clock=VirtualClock())
    prints = []
    for t in range(1, 20000, 50):
        sim.advance_to(t)
        trade = sim.snapshot("O").last_trade
        if trade is not None:
            prints.append(trade.price)
    assert prints and min(prints) >= 0.05


def test_reference_prices_and_the_simulator_use_one_option_model() -> None:
    from marketdata.sim.pricing import option_model_price, years_to_expiry

    days = 90
    option = replace(CALL, expiry_years=years_to_expiry(days))
    sim = make_sim(3, instruments=[EQUITY, option])
    assert years_to_expiry(0) == years_to_expiry(1) == 1 / 365
    model = option_model_price(EQUITY.reference_price, 100.0, days, EQUITY.daily_vol, True, 252)
    assert sim.fair_value("AAA 100C") == pytest.approx(model, rel=1e-12)
