# ruff: noqa: F811  (pytest fixtures imported from tests.ems.fixtures are parameters here)
"""The EMS services against the real simulator, venue service, streams and OMS (SQLite)."""

from decimal import Decimal as D

import pytest

from ems import services
from ems.models import ChildOrder, Execution, ExecutionEvent, ExecutionReport
from oms.models import Order, OrderFill, Position
from tests.ems.fixtures import Market, demo, market, memory_streams, submit, users  # noqa: F401

pytestmark = pytest.mark.django_db


def start(order, strategy="DIRECT", **kwargs):
    _, trader = users()
    return services.execution_start(actor=trader, order_id=order.pk, strategy=strategy, **kwargs)


def tick(execution, capture):
    with capture(execute=True):
        return services.execution_tick(execution_id=execution.pk)


def test_start_moves_the_order_to_working_records_the_decision_and_is_idempotent(market):
    order = submit()
    execution = start(order)
    again = start(order)
    assert again.pk == execution.pk
    order.refresh_from_db()
    assert order.status == "WORKING"
    assert execution.status == "RUNNING"
    assert execution.decision is not None
    assert execution.arrival_price > 0
    events = list(ExecutionEvent.objects.filter(execution=execution).values_list("event", "to_status"))
    assert events == [("START", "PENDING"), ("START", "RUNNING")]
    assert Execution.objects.count() == 1


def test_a_pm_order_that_is_not_open_cannot_be_worked(market):
    from core.errors import Conflict
    from oms.services import order_cancel

    order = submit()
    pm, _ = users()
    order_cancel(actor=pm, order_id=order.pk)
    with pytest.raises(Conflict, match="CANCELLED"):
        start(order)
    assert Execution.objects.count() == 0


def test_direct_fills_the_order_through_the_venue_and_updates_the_position(market, django_capture_on_commit_callbacks):
    order = submit(quantity="300")
    pm, _ = users()
    position_before = Position.objects.filter(portfolio=order.portfolio, instrument=order.instrument).first()
    before = position_before.quantity if position_before else D(0)
    execution = start(order)
    outcome = tick(execution, django_capture_on_commit_callbacks)
    assert outcome.sent >= 1
    children = list(ChildOrder.objects.filter(execution=execution))
    assert [c.client_order_id for c in children] == [f"{execution.pk}-{n}" for n in range(1, len(children) + 1)]
    assert all(c.status == "SENT" for c in children)
    assert sum(c.quantity for c in children) == D("300")
    with django_capture_on_commit_callbacks(execute=True):
        market.round()
    order.refresh_from_db()
    assert order.status == "FILLED"
    assert order.filled_quantity == D("300")
    fills = list(OrderFill.objects.filter(order=order))
    assert sum(f.quantity for f in fills) == D("300")
    assert {f.fill_id for f in fills} == set(
        ExecutionReport.objects.filter(kind="FILLED", applied=True).values_list("venue_execution_id", flat=True)
    )
    position = Position.objects.get(portfolio=order.portfolio, instrument=order.instrument)
    assert position.quantity == before + D("300")
    tick(execution, django_capture_on_commit_callbacks)
    execution.refresh_from_db()
    assert execution.status == "DONE"
    assert execution.filled_quantity == D("300")


def test_a_duplicate_or_out_of_order_report_changes_nothing(market, django_capture_on_commit_callbacks):
    order = submit(quantity="100")
    execution = start(order)
    tick(execution, django_capture_on_commit_callbacks)
    child = ChildOrder.objects.filter(execution=execution).first()
    fill = {
        "type": "FILLED",
        "exec_id": f"{child.client_order_id}:F1",
        "client_order_id": child.client_order_id,
        "venue": child.venue,
        "symbol": "AAPL",
        "quantity": str(child.quantity),
        "price": "190.05",
        "fee": "0.1",
        "liquidity": "TAKER",
        "reason": "",
        "ts": 1.0,
    }
    ack = {**fill, "type": "ACKED", "exec_id": f"{child.client_order_id}:A", "quantity": None, "price": None}
    with django_capture_on_commit_callbacks(execute=True):
        first = services.report_apply(raw=fill)  # the fill overtakes its acknowledgement
        second = services.report_apply(raw=dict(fill))
        late_ack = services.report_apply(raw=ack)
    assert first.pk == second.pk and first.applied
    assert late_ack.applied
    child.refresh_from_db()
    assert child.status == "FILLED"
    assert child.filled_quantity == child.quantity
    assert OrderFill.objects.filter(order=order).count() == 1
    order.refresh_from_db()
    assert order.filled_quantity == child.quantity


def test_an_unknown_report_is_kept_and_applies_nothing(market):
    report = services.report_apply(raw={"type": "FILLED", "exec_id": "999-1:F1", "client_order_id": "999-1"})
    assert (report.applied, report.outcome) == (False, "unknown client order id")
    assert OrderFill.objects.count() == 0


def test_a_child_overfill_is_refused(market, django_capture_on_commit_callbacks):
    order = submit(quantity="100")
    execution = start(order)
    tick(execution, django_capture_on_commit_callbacks)
    child = ChildOrder.objects.filter(execution=execution).first()
    raw = {
        "type": "FILLED",
        "exec_id": f"{child.client_order_id}:F9",
        "client_order_id": child.client_order_id,
        "quantity": str(child.quantity + 1),
        "price": "190",
        "ts": 1.0,
    }
    report = services.report_apply(raw=raw)
    assert report.applied is False
    assert report.outcome.startswith("overfill refused")
    assert OrderFill.objects.count() == 0


def test_a_second_tick_sends_no_duplicate_child(market, django_capture_on_commit_callbacks):
    order = submit(quantity="300")
    execution = start(order)
    tick(execution, django_capture_on_commit_callbacks)
    first = set(ChildOrder.objects.values_list("client_order_id", flat=True))
    again = tick(execution, django_capture_on_commit_callbacks)
    assert again.sent == 0
    assert set(ChildOrder.objects.values_list("client_order_id", flat=True)) == first
    # The venue refuses an id it has already seen: resending everything executes nothing twice.
    with django_capture_on_commit_callbacks(execute=True):
        services._send(execution.pk, [services._command(c) for c in ChildOrder.objects.all()], [])
        market.round()
        market.round()
    order.refresh_from_db()
    assert order.filled_quantity == D("300")
    assert sum(OrderFill.objects.filter(order=order).values_list("quantity", flat=True)) == D("300")


def test_unsent_children_are_resent_by_the_sweep(market, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    order = submit(quantity="200")
    execution = start(order)
    with django_capture_on_commit_callbacks(execute=False):  # a crash between commit and send
        services.execution_tick(execution_id=execution.pk)
    assert set(ChildOrder.objects.values_list("status", flat=True)) == {"NEW"}
    assert services.children_resend(now=timezone.now() + timedelta(seconds=60)) == ChildOrder.objects.count()
    assert set(ChildOrder.objects.values_list("status", flat=True)) == {"SENT"}
    with django_capture_on_commit_callbacks(execute=True):
        market.round()
    order.refresh_from_db()
    assert order.filled_quantity == D("200")


def test_cancel_request_cancels_children_then_confirms(market, django_capture_on_commit_callbacks):
    from oms.services import order_cancel

    # DARK rests in the pools at the mid: something is open when the cancel arrives.
    order = submit(quantity="5000", urgency="LOW")
    execution = start(order, strategy="DARK")
    tick(execution, django_capture_on_commit_callbacks)
    assert ChildOrder.objects.filter(execution=execution).exists()
    pm, _ = users()
    order_cancel(actor=pm, order_id=order.pk)
    order.refresh_from_db()
    assert order.status == "CANCEL_PENDING"
    tick(execution, django_capture_on_commit_callbacks)
    execution.refresh_from_db()
    assert execution.status == "COMPLETING"
    assert set(ChildOrder.objects.filter(execution=execution).values_list("status", flat=True)) <= {
        "CANCEL_PENDING",
        "FILLED",
        "CANCELLED",
    }
    with django_capture_on_commit_callbacks(execute=True):
        market.round()
    tick(execution, django_capture_on_commit_callbacks)
    execution.refresh_from_db()
    order.refresh_from_db()
    assert execution.status == "CANCELLED"
    assert order.status == "CANCELLED"
    assert not ChildOrder.objects.filter(status__in=["NEW", "SENT", "ACKED", "PARTIALLY_FILLED", "CANCEL_PENDING"])
    assert order.filled_quantity == sum(ChildOrder.objects.values_list("filled_quantity", flat=True))


def test_kill_switch_stops_everything_and_leaves_nothing_open(market, django_capture_on_commit_callbacks):
    orders = [submit(quantity="4000", urgency="LOW"), submit(symbol="MSFT", quantity="3000", urgency="LOW")]
    executions = [start(o, strategy="DARK") for o in orders]
    for execution in executions:
        tick(execution, django_capture_on_commit_callbacks)
    _, trader = users()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.killswitch_engage(actor=trader) == 2
    with django_capture_on_commit_callbacks(execute=True):
        market.round()
    for execution in executions:
        tick(execution, django_capture_on_commit_callbacks)
    assert set(Execution.objects.values_list("status", flat=True)) == {"CANCELLED"}
    assert set(Order.objects.values_list("status", flat=True)) <= {"CANCELLED", "FILLED"}
    assert not ChildOrder.objects.filter(status__in=["NEW", "SENT", "ACKED", "PARTIALLY_FILLED", "CANCEL_PENDING"])
    kill = ExecutionEvent.objects.filter(event="COMPLETE", actor=trader)
    assert kill.count() == 2
    assert all("kill switch engaged by trader" in e.reason for e in kill)


def test_end_time_expires_the_order_with_the_reason(market, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    order = submit(quantity="5000", urgency="LOW")
    execution = start(order, strategy="DARK")
    tick(execution, django_capture_on_commit_callbacks)
    later = execution.end_at + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.execution_tick(execution_id=execution.pk, now=later)
    with django_capture_on_commit_callbacks(execute=True):
        market.round()
    with django_capture_on_commit_callbacks(execute=True):
        services.execution_tick(execution_id=execution.pk, now=later)
    execution.refresh_from_db()
    order.refresh_from_db()
    assert execution.status == "DONE"
    assert order.status in ("EXPIRED", "FILLED")
    if order.status == "EXPIRED":
        assert order.events.last().reason.startswith("end time reached:")
    assert timezone.now() < later


def test_pause_cancels_open_children_and_resume_carries_on(market, django_capture_on_commit_callbacks):
    order = submit(quantity="5000", urgency="LOW")
    execution = start(order, strategy="DARK")
    tick(execution, django_capture_on_commit_callbacks)
    _, trader = users()
    with django_capture_on_commit_callbacks(execute=True):
        services.execution_pause(actor=trader, execution_id=execution.pk)
    with django_capture_on_commit_callbacks(execute=True):
        market.round()
    execution.refresh_from_db()
    assert execution.status == "PAUSED"
    assert not ChildOrder.objects.filter(status__in=["NEW", "SENT", "ACKED", "PARTIALLY_FILLED", "CANCEL_PENDING"])
    paused = tick(execution, django_capture_on_commit_callbacks)
    assert paused.sent == 0
    with django_capture_on_commit_callbacks(execute=False):
        services.execution_resume(actor=trader, execution_id=execution.pk)
    resumed = tick(execution, django_capture_on_commit_callbacks)
    assert resumed.status == "RUNNING"


def _open(execution):
    return list(ChildOrder.objects.filter(execution=execution, status__in=["NEW", "SENT", "ACKED", "PARTIALLY_FILLED"]))


def test_an_amended_parent_resizes_the_execution_and_cancels_what_no_longer_fits(
    market, django_capture_on_commit_callbacks
):
    from oms.services import order_amend

    order = submit(quantity="5000", urgency="LOW")
    execution = start(order, strategy="DARK")
    tick(execution, django_capture_on_commit_callbacks)
    out = sum(c.quantity for c in _open(execution))
    assert out > 100
    pm, _ = users()
    assert order_amend(actor=pm, order_id=order.pk, quantity=D(100)).amended
    tick(execution, django_capture_on_commit_callbacks)
    execution.refresh_from_db()
    assert execution.quantity == D(100)
    assert sum(c.quantity - c.filled_quantity for c in _open(execution)) <= D(100) - execution.filled_quantity
    amended = ExecutionEvent.objects.get(execution=execution, event="AMEND")
    assert amended.payload["quantity"] == {"old": "5000.00000000", "new": "100.00000000"}
    assert ChildOrder.objects.filter(execution=execution, status="CANCEL_PENDING").exists()


def test_a_new_limit_cancels_the_children_it_excludes(market, django_capture_on_commit_callbacks):
    from oms.services import order_amend

    order = submit(quantity="5000", urgency="LOW")
    execution = start(order, strategy="DARK")
    tick(execution, django_capture_on_commit_callbacks)
    unpriced = [c.pk for c in _open(execution) if c.limit_price is None]
    assert unpriced, "the dark peg under a market parent carries no limit"
    pm, _ = users()
    limit = (order.arrival_price * D("0.99")).quantize(D("0.01"))  # passive, inside the collar
    assert order_amend(actor=pm, order_id=order.pk, limit_price=limit).amended
    tick(execution, django_capture_on_commit_callbacks)
    execution.refresh_from_db()
    assert execution.limit_price == limit
    assert set(ChildOrder.objects.filter(pk__in=unpriced).values_list("status", flat=True)) == {"CANCEL_PENDING"}
    for child in _open(execution):
        assert child.limit_price is not None and child.limit_price <= limit


def test_ticks_keep_the_market_mid_for_the_price_chart(market, django_capture_on_commit_callbacks):
    from marketdata.selectors import latest_snapshot

    order = submit(quantity="5000", urgency="LOW")
    execution = start(order, strategy="TWAP", parameters={"horizon_seconds": 3600})
    tick(execution, django_capture_on_commit_callbacks)
    execution.refresh_from_db()
    mid = D(latest_snapshot("AAPL")["mid"])
    assert len(execution.market_path) == 1
    at, price = execution.market_path[0]
    assert 0 <= at < 5 and D(price) == mid.quantize(D("0.00000001"))
    tick(execution, django_capture_on_commit_callbacks)  # 3600 s / 500 points: the next point is 7.2 s on
    execution.refresh_from_db()
    assert len(execution.market_path) == 1


def test_a_report_that_cannot_be_applied_is_kept_and_holds_up_nothing(market, django_capture_on_commit_callbacks):
    order = submit(quantity="5000", urgency="LOW")
    execution = start(order, strategy="DARK")
    tick(execution, django_capture_on_commit_callbacks)
    child = ChildOrder.objects.filter(execution=execution).first()
    poison = {"exec_id": "bad-1", "client_order_id": child.client_order_id, "type": "FILLED", "quantity": "lots"}
    kept = services.report_apply(raw=poison)
    assert (kept.applied, kept.raw) == (False, poison)
    assert kept.outcome.startswith("not applied: ") and "InvalidOperation" in kept.outcome
    assert OrderFill.objects.filter(order=order).count() == 0
    # the next report on the same child is applied as usual
    ack = services.report_apply(raw={"exec_id": "ack-1", "client_order_id": child.client_order_id, "type": "ACKED"})
    assert ack.outcome == "" and ExecutionReport.objects.count() == 2
