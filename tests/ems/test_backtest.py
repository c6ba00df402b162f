"""Each algorithm in virtual time against the simulator (ems.backtest), no database."""

from decimal import Decimal as D

import pytest

from core.vocabulary import Side, Strategy, Urgency
from ems.algos.base import ChildType
from ems.backtest import BacktestOrder, one_venue_twap, run_backtest, single_market_order
from marketdata.sim import InstrumentSpec, SimParams, VenueSpec

ACME = InstrumentSpec("ACME", "EQUITY", 100.0, 0.01, 1.0, 2_000_000, 0.02)
VENUES = [
    VenueSpec("XA", "LIT", -0.2, 0.3, 1.0),
    VenueSpec("XB", "LIT", -0.1, 0.25, 1.0, spread_mult=1.2, depth_mult=0.7),
    VenueSpec("DK", "DARK", 0.1, 0.1, 1.0),
]


def backtest(order, seed=1, **kw):
    return run_backtest(order, instruments=[ACME], venues=VENUES, seed=seed, **kw)


def order(strategy, quantity="20000", end=600.0, **kw):
    return BacktestOrder("ACME", Side.BUY, D(quantity), strategy, 0.0, end, **kw)


def cumulative_at(result, t):
    filled = D(0)
    for record in result.ticks:
        if record.t <= t:
            filled = record.filled
    return filled


def test_same_seed_same_result_and_another_seed_differs():
    o = order(Strategy.TWAP, parameters={"horizon_seconds": 300})
    first, second = backtest(o), backtest(o)
    assert first.fills == second.fills and first.ticks == second.ticks
    assert backtest(o, seed=2).fills != first.fills


def test_twap_fills_evenly_within_a_tolerance():
    o = order(Strategy.TWAP, "9000", parameters={"horizon_seconds": 540, "slices": 9})
    result = backtest(o)
    assert result.filled == D("9000")
    for k in range(1, 10):
        t = 60.0 * k
        # Within one and a half slices of the straight line at every slice boundary.
        assert abs(cumulative_at(result, t) - D(1000 * k)) <= D(1500), (t, cumulative_at(result, t))


def test_vwap_tracks_the_volume_profile():
    params = SimParams(session_seconds=1300.0)
    o = order(Strategy.VWAP, "13000", end=1300.0, parameters={"horizon_seconds": 1300, "slices": 13})
    result = backtest(o, params=params)
    assert result.filled == D("13000")
    from marketdata.sim.profile import volume_profile

    profile = volume_profile(13, params.u_shape)
    cumulative = [0.0, *(float(x) for x in profile.cumsum())]
    for k in range(13):
        actual = float(cumulative_at(result, 100.0 * (k + 1) - 1)) / 13000
        # Between the slice released before and the next one (which may rest dark ahead of time).
        assert cumulative[k] - 0.05 <= actual <= cumulative[min(k + 2, 13)] + 0.05, (k, actual)
    # U-shaped: more in the first and last slices than in the middle one.
    middle = cumulative_at(result, 699) - cumulative_at(result, 599)
    assert cumulative_at(result, 99) > middle


def test_pov_stays_inside_its_bounds():
    o = order(
        Strategy.POV,
        "1000000",
        parameters={"participation_rate": 0.1, "min_participation_rate": 0.05, "max_participation_rate": 0.15},
    )
    result = backtest(o)
    checked = 0
    for record in result.ticks:
        # A few lots of volume first, and the lower bound holds once the patience (60 s) is over.
        if record.market_volume * 0.05 < 50 or record.t < 60:
            continue
        share = float(record.filled) / record.market_volume
        assert 0.05 - 1e-9 <= share <= 0.15 + 1e-9, (record.t, share)
        checked += 1
    assert checked > 100


def test_pov_rests_through_its_patience_before_taking_to_the_lower_bound():
    def pov(patience):
        parameters = {"participation_rate": 0.3, "patience_seconds": patience}
        return backtest(order(Strategy.POV, "200000", end=300.0, parameters=parameters))

    def first_take(result):
        return min((c.sent_at for c in result.children if c.child_type is ChildType.MARKET), default=None)

    eager, patient = pov(0), pov(60)
    assert first_take(eager) is not None and first_take(eager) < 60  # the queue ahead makes it fall behind at once
    assert first_take(patient) is None or first_take(patient) >= 60
    taken = [sum(f.quantity for f in r.fills if f.liquidity == "TAKER") for r in (eager, patient)]
    assert taken[1] < taken[0]


def test_pov_at_a_low_rate_rests_clips_not_a_lot_every_tick():
    # 0.2% of the volume is a few lots a second: topped up each tick, that was a child a second.
    from ems.algos.pov import CLIP_SECONDS

    def lit_children(parameters):
        result = backtest(order(Strategy.POV, "20000", end=600.0, parameters=parameters))
        assert result.filled > 0
        return [c for c in result.children if c.child_type is ChildType.LIMIT]

    clipped = lit_children({"participation_rate": 0.002})
    assert 0 < len(clipped) <= 600 / CLIP_SECONDS + 5
    every_lot = lit_children({"participation_rate": 0.002, "min_clip": 1})
    assert len(every_lot) > 2 * len(clipped), (len(every_lot), len(clipped))


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
def test_is_front_loads_more_as_urgency_rises(side):
    halfway = []
    for urgency in (Urgency.LOW, Urgency.MEDIUM, Urgency.HIGH):
        o = BacktestOrder(
            "ACME",
            side,
            D("30000"),
            Strategy.IS,
            0.0,
            600.0,
            urgency=urgency,
            parameters={"horizon_seconds": 600, "slices": 10},
        )
        result = backtest(o)
        halfway.append(cumulative_at(result, 300.0))
    assert halfway[0] < halfway[1] < halfway[2], halfway


def test_iceberg_never_shows_more_than_its_display_quantity_and_refills():
    o = order(Strategy.ICEBERG, "5000", parameters={"display_quantity": "300"})
    result = backtest(o)
    assert result.filled == D("5000")
    assert max(r.shown for r in result.ticks) <= D("300")
    lit = [c for c in result.children if c.child_type is not ChildType.DARK]
    assert len(lit) >= 17 and all(c.quantity <= D("300") for c in lit)


def test_direct_sweeps_at_once_and_dark_rests_then_sweeps_the_residual():
    direct = backtest(order(Strategy.DIRECT, "3000"))
    assert direct.filled == D("3000") and len(direct.ticks) <= 5
    assert {c.child_type for c in direct.children} == {ChildType.MARKET}
    dark = backtest(order(Strategy.DARK, "20000", parameters={"horizon_seconds": 300}))
    assert dark.filled == D("20000")
    assert dark.children[0].child_type is ChildType.DARK
    assert any(f.liquidity == "DARK" for f in dark.fills) and any(f.liquidity == "TAKER" for f in dark.fills)
    assert all(f.ts <= 300 for f in dark.fills if f.liquidity == "DARK")


def test_counterfactuals_are_one_call_each():
    o = order(Strategy.VWAP, "20000", parameters={"horizon_seconds": 300})
    market = backtest(single_market_order(o, "XA"))
    assert [(c.venue, c.quantity) for c in market.children] == [("XA", D("20000"))]
    twap = backtest(one_venue_twap(o, "XB"))
    assert {f.venue for f in twap.fills} == {"XB"} and twap.filled == D("20000")
    other = backtest(o.with_strategy(Strategy.IS, {"horizon_seconds": 300}))
    assert other.order.strategy is Strategy.IS and other.filled == D("20000")
    assert market.shortfall_bps() > twap.shortfall_bps()


def test_a_limit_is_never_crossed_and_the_remainder_is_reported():
    o = order(Strategy.DIRECT, "50000", end=30.0, limit_price=D("100.02"))
    result = backtest(o)
    assert all(f.price <= D("100.02") for f in result.fills)
    assert result.filled < D("50000")
    assert result.done_reason.startswith("end time reached: ")


def test_each_resting_fill_carries_the_walk_at_its_own_step():
    # Resting and dark orders never move the market: a fresh simulator with the same seed,
    # run to a fill's step, has the latent mid the fill was priced against.
    from marketdata.sim import MarketSimulator

    result = backtest(order(Strategy.TWAP, "5000", parameters={"horizon_seconds": 300, "dark_fraction": 0}))
    passive = [f for f in result.fills if f.liquidity == "MAKER"]
    assert passive and not any(f.liquidity == "TAKER" for f in result.fills)
    for fill in passive[:5]:
        sim = MarketSimulator([ACME], VENUES, 1)
        sim.advance_to(fill.ts)
        assert fill.walk == pytest.approx(sim.fair_value("ACME"), rel=1e-12)
        assert fill.applied_at >= fill.ts
