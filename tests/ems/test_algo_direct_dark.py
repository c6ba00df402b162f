"""DIRECT and DARK as the router describes them, decided on plain data."""

from decimal import Decimal as D

from core.vocabulary import Side, Strategy
from ems.algos import ALGORITHMS, CancelChild, Done, NewChild, Remember, decide
from ems.algos.base import ChildType
from tests.ems.algo_fixtures import child, dark, lit, market, state


def test_every_worked_strategy_has_an_algorithm_and_rfq_is_refused():
    assert Strategy.DIRECT in ALGORITHMS and Strategy.DARK in ALGORITHMS
    assert Strategy.RFQ not in ALGORITHMS


def test_direct_sweeps_the_cheapest_venues_first_within_the_limit():
    view = market(
        lit("XA", ask=100.02, ask_size=300, fee=0.3),
        lit("XB", ask=100.01, ask_size=400, fee=0.3),
        lit("XC", ask=100.05, ask_size=1000, fee=0.3),
    )
    actions = decide(state(limit_price=D("100.03")), view, 1.0)
    assert actions == [
        NewChild("XB", ChildType.MARKET, D("400"), D("100.01"), "direct: sweep the lit venues"),
        NewChild("XA", ChildType.MARKET, D("300"), D("100.02"), "direct: sweep the lit venues"),
    ]


def test_direct_uses_depth_beyond_the_touch_and_sells_into_bids():
    view = market(lit("XA", bid=99.99, bid_size=100, bid_levels=((99.99, 100.0), (99.98, 250.0), (99.90, 900.0))))
    actions = decide(state(side=Side.SELL, quantity=D("300"), limit_price=D("99.95")), view, 1.0)
    assert actions == [NewChild("XA", ChildType.MARKET, D("300"), D("99.98"), "direct: sweep the lit venues")]


def test_direct_sends_nothing_more_while_the_quantity_is_out():
    s = state(open_children=(child("c1", kind=ChildType.MARKET, quantity="1000", limit="100.01"),))
    assert decide(s, market(), 1.0) == []


def test_direct_done_when_filled_and_reports_a_remainder_below_one_lot():
    assert decide(state(filled=D("1000")), market(), 1.0) == [Done("filled")]
    assert decide(state(quantity=D("1005"), filled=D("1000")), market(), 1.0) == [
        Done("remainder 5 is below one lot of 10: cannot trade, left unfilled")
    ]


def test_at_end_open_children_are_cancelled_and_done_says_why():
    s = state(filled=D("400"), open_children=(child("c1"),))
    assert decide(s, market(), 600.0) == [
        CancelChild("c1", "end time reached"),
        Done("end time reached: 600 of 1000 unfilled; open child orders cancelled"),
    ]


def test_dark_rests_the_unallocated_quantity_by_fill_rate():
    view = market(lit(), dark("D1", fill_rate=0.3), dark("D2", fill_rate=0.1))
    actions = decide(state(strategy=Strategy.DARK, parameters={"horizon_seconds": 600}), view, 1.0)
    assert actions == [
        NewChild("D1", ChildType.DARK, D("750"), None, "dark: rest at the mid"),
        NewChild("D2", ChildType.DARK, D("250"), None, "dark: rest at the mid"),
    ]


def test_dark_sweeps_the_residual_on_lit_near_the_end():
    view = market(lit(ask_size=5000), dark("D1"))
    s = state(
        strategy=Strategy.DARK,
        filled=D("300"),
        parameters={"horizon_seconds": 600},
        open_children=(child("d1", venue="D1", kind=ChildType.DARK, quantity="1000", filled="300", limit=None),),
    )
    assert decide(s, view, 539.0) == []  # still resting, nothing new to send
    assert decide(s, view, 540.0) == [CancelChild("d1", "dark: horizon ending, sweep the residual")]
    done_cancel = state(strategy=Strategy.DARK, filled=D("300"), parameters={"horizon_seconds": 600})
    assert decide(done_cancel, view, 541.0) == [
        NewChild("XA", ChildType.MARKET, D("700"), D("100.01"), "dark: sweep the residual on lit")
    ]


def test_dark_with_a_limit_rests_only_while_the_mid_is_safely_inside_it():
    view = market(lit(), dark("D1"))
    safe = state(strategy=Strategy.DARK, limit_price=D("100.50"))
    assert decide(safe, view, 1.0) == [NewChild("D1", ChildType.DARK, D("1000"), D("100.50"), "dark: rest at the mid")]
    resting = (child("d1", venue="D1", kind=ChildType.DARK, quantity="1000", limit="100.02"),)
    tight = state(strategy=Strategy.DARK, limit_price=D("100.02"), open_children=resting)
    assert decide(tight, view, 1.0) == [CancelChild("d1", "dark: mid too close to the limit")]


def test_dark_takes_the_lit_share_at_once_when_dark_fraction_is_below_one():
    view = market(lit(ask_size=5000), dark("D1"))
    s = state(strategy=Strategy.DARK, parameters={"dark_fraction": 0.6})
    assert decide(s, view, 1.0) == [
        NewChild("XA", ChildType.MARKET, D("400"), D("100.01"), "dark: lit share taken at once"),
        Remember({"lit_share_swept": True}),
    ]


def test_deciding_twice_gives_the_same_actions():
    view = market(lit(), dark("D1", fill_rate=0.3), dark("D2", fill_rate=0.2))
    for s in (state(), state(strategy=Strategy.DARK)):
        assert decide(s, view, 5.0) == decide(s, view, 5.0)
