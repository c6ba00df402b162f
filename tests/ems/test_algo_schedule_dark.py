"""The schedules and POV beside a dark pool: one dark order rests ahead of the schedule
while the released slice rests lit; a patient (LOW urgency) schedule waits a whole slice
before taking."""

from decimal import Decimal as D

from core.vocabulary import Strategy, Urgency
from ems.algos import CancelChild, NewChild, decide
from ems.algos.base import ChildType
from tests.ems.algo_fixtures import child, dark, lit, market, state

VWAP = {"horizon_seconds": 600, "slices": 10}  # ten slices of 100 every 60 s (no profile: equal)


def kinds(actions):
    return [(a.child_type, a.quantity) for a in actions if isinstance(a, NewChild)]


def test_a_released_slice_rests_lit_and_the_next_slice_rests_dark_beside_it():
    view = market(lit(), dark("DK"))
    actions = decide(state(strategy=Strategy.VWAP, parameters=VWAP), view, 1.0)
    assert kinds(actions) == [(ChildType.LIMIT, D("100")), (ChildType.DARK, D("100"))]


def test_the_dark_order_keeps_resting_when_the_next_slice_comes_due():
    view = market(lit(), dark("DK"))
    resting = (child("d1", venue="DK", kind=ChildType.DARK, quantity="100", limit=None),)
    s = state(strategy=Strategy.VWAP, parameters=VWAP, filled=D("100"), open_children=resting)
    actions = decide(s, view, 61.0)
    assert not any(isinstance(a, CancelChild) for a in actions)
    assert kinds(actions) == [(ChildType.LIMIT, D("100"))]


def test_the_dark_order_rests_at_most_a_tenth_of_the_order_ahead_but_at_least_the_next_slice():
    view = market(lit(), dark("DK"))
    many = {"horizon_seconds": 600, "slices": 60}  # slices of 1/60: six of them are a tenth
    actions = decide(state(strategy=Strategy.VWAP, quantity=D("6000"), parameters=many), view, 1.0)
    (lit_kind, lit_quantity), (dark_kind, dark_quantity) = kinds(actions)
    assert lit_kind is ChildType.LIMIT and D("90") <= lit_quantity <= D("100")  # the first slice (whole lots)
    # The next slices ahead, up to a tenth of the order (600) ahead of what is due now.
    assert dark_kind is ChildType.DARK and D("400") <= dark_quantity <= D("600")
    one = {"horizon_seconds": 600, "slices": 5}  # one slice is a fifth: the next one all the same
    assert kinds(decide(state(strategy=Strategy.VWAP, parameters=one), view, 1.0)) == [
        (ChildType.LIMIT, D("200")),
        (ChildType.DARK, D("200")),
    ]


def test_without_dark_pools_or_with_dark_fraction_zero_nothing_rests_dark():
    assert kinds(decide(state(strategy=Strategy.VWAP, parameters=VWAP), market(lit()), 1.0)) == [
        (ChildType.LIMIT, D("100"))
    ]
    off = {**VWAP, "dark_fraction": 0}
    assert kinds(decide(state(strategy=Strategy.VWAP, parameters=off), market(lit(), dark("DK")), 1.0)) == [
        (ChildType.LIMIT, D("100"))
    ]


def test_a_low_urgency_schedule_waits_a_whole_slice_before_taking():
    view = market(lit(ask_size=5000))

    def taking(urgency, now):
        actions = decide(state(strategy=Strategy.VWAP, parameters=VWAP, urgency=urgency), view, now)
        return [a for a in actions if isinstance(a, NewChild) and a.child_type is ChildType.MARKET]

    assert taking(Urgency.MEDIUM, 31.0)  # half a slice late: takes
    assert not taking(Urgency.LOW, 31.0)  # a patient order still rests
    assert taking(Urgency.LOW, 61.0)  # a whole slice late: takes


def test_pov_rests_ahead_in_the_dark_inside_its_upper_bound():
    view = market(lit(), dark("DK"))
    s = state(
        strategy=Strategy.POV,
        quantity=D("100000"),
        filled=D("10000"),  # on target: 10% of 100,000
        market_volume_since_start=100_000.0,
        parameters={"participation_rate": 0.1},
    )
    actions = decide(s, view, 100.0)
    # At most 15% of the volume filled and open: 5,000 of room, all of it dark (no lit due).
    assert kinds(actions) == [(ChildType.DARK, D("5000"))]
