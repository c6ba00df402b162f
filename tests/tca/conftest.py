"""The hand-computed example of tests/tca/test_domain as real rows: an order, its execution,
child orders, fills through the OMS, and the stored market samples."""

from datetime import timedelta
from decimal import Decimal as D

import pytest

from ems.models import ChildOrder, Execution
from marketdata.models import MarketSample
from oms.models import Order
from oms.services import apply_fill, order_cancel, order_cancel_confirm, order_work
from tests.ems.fixtures import submit, users


@pytest.fixture
def finished(demo):
    """A buy of 1000 AAPL decided at 100.00, started at 100.10 (T), 400 filled on XNAS at
    once and 300 in the dark 10 s later, the rest cancelled at T + 30."""
    order = submit(symbol="AAPL", quantity="1000", urgency="MEDIUM")
    t = order.created_at + timedelta(seconds=5)
    pm, trader = users()
    order_work(order_id=order.pk)
    execution = Execution.objects.create(
        order=order,
        strategy="TWAP",
        quantity=order.quantity,
        side="BUY",
        arrival_price=D("100.10"),
        start_at=t,
        end_at=t + timedelta(seconds=300),
        next_tick_at=t,
        status="RUNNING",
    )
    for seq, (venue, kind, qty, filled) in enumerate(
        [("XNAS", "MARKET", 500, 400), ("DARKX", "DARK", 300, 300), ("XNYS", "LIMIT", 200, 0)], start=1
    ):
        ChildOrder.objects.create(
            execution=execution,
            seq=seq,
            client_order_id=f"{execution.pk}-{seq}",
            symbol="AAPL",
            venue=venue,
            side="BUY",
            child_type=kind,
            quantity=D(qty),
            filled_quantity=D(filled),
            status="CANCELLED",
        )
    apply_fill(
        order_id=order.pk,
        fill_id="f1",
        quantity=D(400),
        price=D("100.20"),
        venue="XNAS",
        fee=D("2.00"),
        executed_at=t + timedelta(seconds=0.5),
    )
    apply_fill(
        order_id=order.pk,
        fill_id="f2",
        quantity=D(300),
        price=D("100.20"),
        venue="DARKX",
        executed_at=t + timedelta(seconds=10),
    )
    order_cancel(actor=pm, order_id=order.pk)
    order_cancel_confirm(order_id=order.pk)
    aapl = order.instrument
    for seconds, mid, volume, bid, ask in [
        (0, "100.10", 10_000, "100.05", "100.15"),
        (1, "100.12", 10_100, None, None),
        (10, "100.20", 11_000, None, None),
        (11, "100.22", 11_200, None, None),
        (20, "100.30", 12_000, None, None),
        (61, "100.40", 13_000, None, None),
        (80, "100.50", 14_000, None, None),
    ]:
        MarketSample.objects.create(
            instrument=aapl,
            at=t + timedelta(seconds=seconds),
            mid=D(mid),
            volume=D(volume),
            best_bid=bid and D(bid),
            best_ask=ask and D(ask),
        )
    # The clock of this example: decided at T - 5, finished at T + 30 (the stored facts'
    # timestamps, set here because the services stamp the wall clock).
    Order.objects.filter(pk=order.pk).update(
        arrival_price=D("100.00"), created_at=t - timedelta(seconds=5), updated_at=t + timedelta(seconds=30)
    )
    Execution.objects.filter(pk=execution.pk).update(status="CANCELLED", updated_at=t + timedelta(seconds=30))
    return Order.objects.get(pk=order.pk), t


@pytest.fixture
def finished_with_arrival(finished, settings):
    """The same order with the market state recorded at its arrival, as ems.arrival records
    it when an execution starts: the simulator's seed, its clock 30 minutes into the session
    and the book published then (mid 100.10), and the router's decision at acceptance."""
    import time

    from ems.arrival import arrival_record
    from sor.services import order_decision

    order, t = finished
    execution = Execution.objects.get(order=order)
    execution.decision = order_decision(order)
    execution.save(update_fields=["decision"])
    book = {
        "ts": 1800.0,
        "mid": "100.100",
        "best_bid": {"price": "100.05", "size": "800", "venue": "XNAS"},
        "best_ask": {"price": "100.15", "size": "900", "venue": "XNAS"},
        "spread_bps": 9.99,
        "venues": {"XNAS": {"bids": [["100.05", "800"]], "asks": [["100.15", "900"]]}},
        "volume": "10000",
        "published_at": time.time(),
        "age_seconds": 0.0,
    }
    arrival_record(execution=execution, snapshot=book, now=t)
    return order, t
