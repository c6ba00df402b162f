"""TCA's counterfactuals (ems.backtest.counterfactuals) and the whole-order shortfall they
report, on a fixed seed, no database: properties, not figures copied from a run."""

from decimal import Decimal as D

import pytest

from core.vocabulary import Side, Strategy, Urgency
from ems.backtest import (
    BacktestOrder,
    MarketState,
    counterfactuals,
    routed,
    run_backtest,
    selection_inputs,
    single_market_order,
)
from marketdata.sim import InstrumentSpec, MarketSimulator, VenueSpec
from sor.domain import runner_up, select_strategy

ACME = InstrumentSpec("ACME", "EQUITY", 100.0, 0.01, 1.0, 2_000_000, 0.02)
VENUES = (
    VenueSpec("XA", "LIT", -0.2, 0.3, 1.0),
    VenueSpec("XB", "LIT", -0.1, 0.25, 1.0, spread_mult=1.2, depth_mult=0.7),
    VenueSpec("DK", "DARK", 0.1, 0.1, 1.0),
)
ARRIVAL, END, SEED = 300.0, 900.0, 5
STATE = MarketState(seed=SEED, arrival=ARRIVAL, instruments=(ACME,), venues=VENUES)
BOOK_ON_XA = 48_500  # 20 levels of the main venue's asks: 1,000 shares * sum(1 + 0.15 k)


def order(quantity, side=Side.BUY, strategy=Strategy.POV, **kw):
    return BacktestOrder("ACME", side, D(quantity), strategy, ARRIVAL, END, **kw)


def rows_of(o, second=Strategy.IS, parameters=None, state=STATE):
    rows = counterfactuals(
        o,
        market=state,
        router_second_choice=second,
        second_choice_parameters=parameters or {"horizon_seconds": END - ARRIVAL},
        tick_seconds=5.0,
    )
    return {row.way: row for row in rows}


@pytest.fixture(scope="module")
def large():
    # 4% of ADV: more than the main venue's whole book shows.
    return rows_of(order(80_000))


def test_three_rows_in_order_each_with_its_strategy(large):
    assert list(large) == ["single_market_order", "one_venue_twap", "router_second_choice"]
    assert [row.strategy for row in large.values()] == [Strategy.DIRECT, Strategy.TWAP, Strategy.IS]
    for row in large.values():
        assert row.average_price is not None and row.cost is not None
        assert row.cost == row.cost.quantize(D("0.01"))
        plain = row.to_dict()
        assert isinstance(plain["filled"], str) and isinstance(plain["cost"], str)


def test_the_same_order_and_state_give_the_same_rows(large):
    assert rows_of(order(80_000)) == large


def test_a_market_order_larger_than_the_book_costs_more_than_a_twap(large):
    market, twap = large["single_market_order"], large["one_venue_twap"]
    # One market order takes the main venue's book and no more; the TWAP finishes.
    assert market.filled <= D(BOOK_ON_XA) < D(80_000) == twap.filled
    assert market.note.startswith("single market order done")
    assert market.shortfall_bps > twap.shortfall_bps
    assert market.adjusted_shortfall_bps > twap.adjusted_shortfall_bps
    assert market.cost > twap.cost


def test_the_single_market_order_costs_more_per_share_as_it_grows():
    sizes = [1_000, 5_000, 20_000, 40_000, 80_000]
    rows = [counterfactuals(order(q), market=STATE, router_second_choice=None, tick_seconds=5.0)[0] for q in sizes]
    bps = [row.shortfall_bps for row in rows]
    costs = [row.cost for row in rows]
    assert bps == sorted(bps) and len(set(bps)) == len(bps), bps
    assert costs == sorted(costs) and len(set(costs)) == len(costs), costs
    # Within the book it fills whole, walking deeper: the average price rises with the size.
    prices = [row.average_price for row in rows[:4]]
    assert [row.filled for row in rows[:4]] == [D(q) for q in sizes[:4]]
    assert prices == sorted(prices)


def test_a_sell_costs_as_a_buy_does_mirror_images():
    rows = rows_of(order(20_000, side=Side.SELL), second=None)
    market = rows["single_market_order"]
    assert market.filled == D(20_000)
    assert market.average_price < D("100.5")  # sold below the mid it started from
    assert market.shortfall_bps > 0 and market.cost > 0


def test_without_a_second_choice_or_with_one_that_is_not_simulated_the_row_says_so():
    none = rows_of(order(2_000), second=None)["router_second_choice"]
    assert (none.strategy, none.filled, none.shortfall_bps, none.cost) == (None, D(0), None, None)
    assert none.note == "the router had no second choice for this order"
    rfq = rows_of(order(2_000), second=Strategy.RFQ)["router_second_choice"]
    assert rfq.strategy is Strategy.RFQ and rfq.cost is None and "not simulated" in rfq.note


def test_the_runner_up_from_the_simulator_at_arrival_is_what_runs():
    sim = STATE.simulator()
    inputs = selection_inputs(sim, "ACME", Side.BUY, D(40_000), Urgency.MEDIUM, time_left_seconds=END - ARRIVAL)
    chosen, second = select_strategy(inputs), runner_up(inputs)
    assert second is not None and second.strategy is not chosen.strategy
    o = routed(order(40_000), chosen)
    row = rows_of(o, second=second.strategy, parameters=second.parameters)["router_second_choice"]
    assert row.strategy is second.strategy and row.filled > 0


def test_a_captured_simulator_gives_the_replayed_rows_when_nothing_traded_before():
    live = MarketSimulator(list(STATE.instruments), list(STATE.venues), SEED)
    live.advance_to(ARRIVAL)
    captured = MarketState.capture(live, SEED)
    assert captured.arrival == ARRIVAL
    o = order(20_000)
    assert rows_of(o, state=captured) == rows_of(o)
    assert live.time == ARRIVAL  # the live simulator was copied, not run


def test_a_captured_simulator_keeps_what_our_earlier_orders_did():
    live = MarketSimulator(list(STATE.instruments), list(STATE.venues), SEED)
    live.advance_to(ARRIVAL)
    live.execute_market("ACME", "XA", "BUY", 40_000)  # our earlier order moved the mid up
    captured = MarketState.capture(live, SEED)
    o = order(20_000)
    after, fresh = rows_of(o, state=captured, second=None), rows_of(o, second=None)
    assert after["single_market_order"].average_price > fresh["single_market_order"].average_price


def test_an_order_that_does_not_start_at_the_recorded_arrival_is_refused():
    with pytest.raises(ValueError, match="starts at"):
        counterfactuals(
            BacktestOrder("ACME", Side.BUY, D(100), Strategy.POV, 0.0, END), market=STATE, router_second_choice=None
        )


# ----------------------------------------------------------------------------- the shortfall


def backtest(o, **kw):
    return run_backtest(o, instruments=[ACME], venues=list(VENUES), seed=SEED, tick_seconds=5.0, **kw)


def test_the_shortfall_parts_add_up_and_a_filled_order_has_no_opportunity_cost():
    result = backtest(order(20_000, strategy=Strategy.TWAP, parameters={"horizon_seconds": 600}))
    cost = result.costs()
    assert cost.filled == 20_000 and cost.opportunity_cost == 0 and cost.adjusted_opportunity_cost == 0
    traded = sum(float(f.price - D(repr(result.arrival_mid))) * float(f.quantity) for f in result.fills)
    assert cost.execution_cost == pytest.approx(traded + float(result.fees), rel=1e-9)
    notional = result.arrival_mid * 20_000
    assert cost.shortfall_bps == pytest.approx(cost.total / notional * 1e4, rel=1e-12)


def test_the_unfilled_part_is_valued_at_the_end_mid():
    o = single_market_order(order(80_000), "XA")
    stopped, at_end = backtest(o), backtest(o, run_to_end=True)
    assert stopped.fills == at_end.fills  # running on changes nothing we did
    assert stopped.end_time < END == at_end.end_time
    unfilled = 80_000 - float(at_end.filled)
    assert at_end.costs().opportunity_cost == pytest.approx((at_end.end_mid - at_end.arrival_mid) * unfilled)
    # Adjusted: the arrival mid moved by our own permanent impact alone, whatever the walk did.
    impact = 0.1 * float(at_end.filled) / ACME.adv
    assert at_end.own_impact == pytest.approx(impact)
    adjusted = at_end.costs().adjusted_opportunity_cost
    assert adjusted == pytest.approx(at_end.arrival_mid * (2.718281828459045**impact - 1) * unfilled, rel=1e-9)
    assert adjusted == stopped.costs().adjusted_opportunity_cost


def test_an_immediate_order_has_the_same_raw_and_adjusted_cost():
    # Filled at the arrival tick: the market had no time to move on its own.
    cost = backtest(single_market_order(order(5_000), "XA")).costs()
    assert cost.filled == 5_000
    assert cost.adjusted_shortfall_bps == pytest.approx(cost.shortfall_bps, abs=1e-9)
