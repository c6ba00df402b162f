"""Property tests over random orders, markets and report orders. CI runs at least 1,000
examples of each (EMS_EXAMPLES, default 1000); `make soak` runs 10,000 and prints the count.
Horizons are short so each example stays fast."""

import os
import random
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.vocabulary import Side, Strategy, Urgency
from ems.algos.base import ChildType
from ems.backtest import BacktestFill, BacktestOrder, ChildRecord, Ledger, run_backtest
from marketdata.sim import InstrumentSpec, VenueSpec

EXAMPLES = int(os.environ.get("EMS_EXAMPLES", "1000"))
RUN = {"backtests": 0, "report_orders": 0}
PROPERTY = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
WORKED = [s for s in Strategy if s is not Strategy.RFQ]


@pytest.fixture(scope="module", autouse=True)
def _count():
    yield
    print(f"\nems property examples run: {RUN['backtests']} backtests, {RUN['report_orders']} report orders")


@st.composite
def scenarios(draw):
    lot = draw(st.sampled_from([1.0, 10.0, 100.0]))
    adv = draw(st.sampled_from([200_000.0, 2_000_000.0, 20_000_000.0]))
    spec = InstrumentSpec("X", "EQUITY", 50.0, 0.01, lot, adv, draw(st.sampled_from([0.01, 0.03, 0.06])))
    venues = [VenueSpec("L1", "LIT", -0.2, 0.3, 1.0)]
    if draw(st.booleans()):
        venues.append(VenueSpec("L2", "LIT", -0.1, 0.2, 1.0, spread_mult=1.5, depth_mult=0.5, min_quantity=lot * 2))
    if draw(st.booleans()):
        venues.append(VenueSpec("D1", "DARK", 0.1, 0.1, 1.0, depth_mult=draw(st.sampled_from([1.0, 20.0]))))
    side = draw(st.sampled_from([Side.BUY, Side.SELL]))
    quantity = D(repr(lot)) * draw(st.integers(1, 400))
    offset = draw(st.one_of(st.none(), st.integers(-30, 60)))
    limit = None
    if offset is not None:
        limit = D(repr(50.0 * (1 + (offset if side is Side.BUY else -offset) / 1e4))).quantize(D("0.01"))
    horizon = draw(st.integers(4, 20))
    strategy = draw(st.sampled_from(WORKED))
    parameters = {
        "horizon_seconds": horizon,
        "slices": draw(st.integers(1, 6)),
        "participation_rate": draw(st.sampled_from([0.05, 0.2, 0.5])),
        "display_quantity": str(D(repr(lot)) * draw(st.integers(1, 20))),
    }
    order = BacktestOrder(
        "X",
        side,
        quantity,
        strategy,
        0.0,
        float(horizon + draw(st.integers(0, 10))),
        parameters,
        limit,
        draw(st.sampled_from(list(Urgency))),
        reevaluate=draw(st.booleans()),
    )
    return spec, venues, order, draw(st.integers(0, 2**16))


@PROPERTY
@given(scenarios())
def test_no_overfill_no_limit_crossed_no_lot_broken(scenario):
    spec, venues, order, seed = scenario
    RUN["backtests"] += 1
    result = run_backtest(order, instruments=[spec], venues=venues, seed=seed)
    lot = D(repr(spec.lot_size))
    assert result.filled <= order.quantity
    assert sum((f.quantity for f in result.fills), D(0)) == result.ticks[-1].filled == result.filled
    for child in result.children:
        assert child.quantity > 0 and child.quantity % lot == 0
        assert child.filled <= child.quantity
        if order.limit_price is not None and child.limit_price is not None:
            assert (
                child.limit_price <= order.limit_price
                if order.side is Side.BUY
                else child.limit_price >= order.limit_price
            )
        if order.limit_price is not None and child.child_type is ChildType.MARKET:
            assert child.limit_price is not None
    for fill in result.fills:
        assert fill.quantity % lot == 0
        if order.limit_price is not None:
            assert fill.price <= order.limit_price if order.side is Side.BUY else fill.price >= order.limit_price
    if order.strategy is Strategy.ICEBERG and not result.switches:
        display = D(order.parameters["display_quantity"])
        assert all(r.shown <= max(display, lot) for r in result.ticks)
    assert result.done_reason  # it always ends, with a reason


@PROPERTY
@given(
    st.lists(st.integers(1, 5), min_size=1, max_size=6),  # children sizes in lots
    st.lists(st.tuples(st.integers(0, 5), st.integers(1, 5)), max_size=30),  # (child, lots) reports
    st.randoms(use_true_random=False),
)
def test_reports_in_any_order_with_duplicates_and_late_fills(sizes, reports, rnd: random.Random):
    RUN["report_orders"] += 1
    lot = D(10)
    parent = lot * sum(sizes)
    ledger = Ledger(parent)
    for n, size in enumerate(sizes):
        ledger.add(ChildRecord(f"c{n}", "L1", ChildType.LIMIT, lot * size, D("50"), 0.0))
    stream = [
        BacktestFill(f"x{k}", f"c{child % len(sizes)}", "L1", D("50"), lot * q, D(0), "MAKER", float(k))
        for k, (child, q) in enumerate(reports)
    ]
    stream += rnd.sample(stream, k=len(stream) // 2)  # duplicates
    rnd.shuffle(stream)  # out of order
    applied = []
    for k, fill in enumerate(stream):
        if k == len(stream) // 2:  # cancels in the middle: later fills are late fills
            for child in list(ledger.children):
                ledger.cancel_requested(child)
        if ledger.apply_fill(fill):
            applied.append(fill)
    assert len({f.execution_id for f in applied}) == len(applied)  # each report once
    assert ledger.filled == sum((f.quantity for f in applied), D(0)) <= parent
    for child in ledger.children.values():
        assert child.filled == sum((f.quantity for f in applied if f.client_order_id == child.client_order_id), D(0))
        assert child.filled <= child.quantity
    # Replaying every report again changes nothing.
    before = ledger.filled
    assert not any(ledger.apply_fill(f) for f in stream if f.execution_id not in ledger.refused)
    assert ledger.filled == before


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.floats(-1e6, 1e7, allow_nan=False),
    st.floats(1.0, 1e5, allow_nan=False),
    st.integers(1, 800),
    st.floats(-1e5, 1e5, allow_nan=False),
)
def test_the_vectorised_volume_share_equals_the_one_at_a_time(start, span, slices, session_start):
    import numpy as np

    from ems.algos.schedule import _session_volume_share, _session_volume_shares
    from tests.ems.algo_fixtures import market

    view = market(volume_profile=(1.0, 3.0, 0.5, 0.0, 2.0, 7.0, 1.5), session_start=session_start)
    edges = np.linspace(start, start + span, slices + 1)
    one_at_a_time = np.array([_session_volume_share(view, float(t)) for t in edges])
    assert np.array_equal(_session_volume_shares(view, edges), one_at_a_time)
