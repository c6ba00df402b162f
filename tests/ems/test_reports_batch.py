# ruff: noqa: F811  (pytest fixtures imported from tests.ems.fixtures are parameters here)
"""The batched report path (ems.services.reports_apply, the OMS's FillBatch) that the beat
task uses: each report of a batch ends as it would applied alone, once, whatever the batch
holds beside it (duplicates, several fills of one parent, a report that cannot be applied)."""

from decimal import Decimal as D

import pytest

from ems import services
from ems.models import ChildOrder, ChildOrderEvent, Execution, ExecutionReport
from oms.models import Order, OrderEvent, OrderFill, Portfolio, Position
from tests.ems.fixtures import Market, demo, market, memory_streams, submit, users  # noqa: F401

pytestmark = pytest.mark.django_db


def working(capture, quantity="5000"):
    """A DARK execution whose children rest (nothing fills them before the test's reports)."""
    _, trader = users()
    order = submit(quantity=quantity, urgency="LOW")
    execution = services.execution_start(actor=trader, order_id=order.pk, strategy="DARK")
    with capture(execute=True):
        services.execution_tick(execution_id=execution.pk)
    children = list(ChildOrder.objects.filter(execution=execution).order_by("seq"))
    assert children and all(c.status == "SENT" for c in children)
    return order, execution, children


def fill(child, n, quantity, price="190.05"):
    return {
        "type": "FILLED",
        "exec_id": f"{child.client_order_id}:F{n}",
        "client_order_id": child.client_order_id,
        "venue": child.venue,
        "symbol": child.symbol,
        "quantity": str(quantity),
        "price": price,
        "fee": "0.1",
        "liquidity": "MAKER",
        "reason": "",
        "ts": 1.0,
    }


def event(child, kind, suffix):
    return {**fill(child, 0, 0), "type": kind, "exec_id": f"{child.client_order_id}:{suffix}", "quantity": None}


def cash(order):
    return Portfolio.objects.get(pk=order.portfolio_id).cash


def position(order):
    row = Position.objects.filter(portfolio_id=order.portfolio_id, instrument_id=order.instrument_id).first()
    return row.quantity if row else D(0)


def test_a_report_twice_in_one_batch_is_applied_once(market, django_capture_on_commit_callbacks):
    order, execution, (child, *_) = working(django_capture_on_commit_callbacks)
    report = fill(child, 1, 100)
    with django_capture_on_commit_callbacks(execute=True):
        out = services.reports_apply(raws=[report, dict(report), event(child, "ACKED", "A"), dict(report)])
    assert out[0].pk == out[1].pk == out[3].pk and out[0].applied
    assert ExecutionReport.objects.filter(venue_execution_id=report["exec_id"]).count() == 1
    assert OrderFill.objects.filter(order=order).count() == 1
    child.refresh_from_db()
    order.refresh_from_db()
    assert (child.filled_quantity, order.filled_quantity) == (D(100), D(100))
    assert Execution.objects.get(pk=execution.pk).filled_quantity == D(100)
    # Delivered again in a later batch (a consumer died before acknowledging): nothing changes.
    with django_capture_on_commit_callbacks(execute=True):
        again = services.reports_apply(raws=[dict(report)])
    assert again[0].pk == out[0].pk
    assert OrderFill.objects.filter(order=order).count() == 1
    assert Order.objects.get(pk=order.pk).filled_quantity == D(100)


def test_several_fills_of_one_parent_in_one_batch_add_up_with_their_audit(market, django_capture_on_commit_callbacks):
    order, execution, children = working(django_capture_on_commit_callbacks)
    first = children[0]
    second = children[1] if len(children) > 1 else children[0]
    cash_before, position_before = cash(order), position(order)
    raws = [fill(first, 1, 100, "190.00"), fill(first, 2, 100, "190.10"), fill(second, 3, 200, "190.20")]
    with django_capture_on_commit_callbacks(execute=True):
        out = services.reports_apply(raws=raws)
    assert all(r.applied and r.outcome == "" for r in out)
    order.refresh_from_db()
    assert order.filled_quantity == D(400)
    assert order.status == "PARTIALLY_FILLED"
    assert order.average_fill_price == D("190.125")  # (100 x 190.00 + 100 x 190.10 + 200 x 190.20) / 400
    fills = list(OrderFill.objects.filter(order=order).order_by("pk"))
    assert [f.fill_id for f in fills] == [r["exec_id"] for r in raws]
    # One audit row per fill, in order, as apply_fill writes them.
    audit = list(OrderEvent.objects.filter(order=order, event__in=["PARTIAL_FILL", "FILL"]).order_by("pk"))
    assert [e.payload["fill_id"] for e in audit] == [r["exec_id"] for r in raws]
    assert position(order) == position_before + D(400)
    notional = D(100) * D("190.00") + D(100) * D("190.10") + D(200) * D("190.20")
    assert cash(order) == cash_before - notional - D("0.3")
    execution.refresh_from_db()
    assert execution.filled_quantity == D(400)
    assert ChildOrderEvent.objects.filter(child__in=[first, second], report__isnull=False).count() == 3


def test_a_report_that_cannot_be_applied_is_kept_and_the_rest_of_its_batch_applied(
    market, django_capture_on_commit_callbacks
):
    order, execution, (child, *_) = working(django_capture_on_commit_callbacks)
    poison = {"exec_id": "bad-1", "client_order_id": child.client_order_id, "type": "FILLED", "quantity": "lots"}
    unknown = {"exec_id": "999-1:F1", "client_order_id": "999-1", "type": "FILLED", "quantity": "1", "price": "1"}
    overfill = fill(child, 9, child.quantity + 100)
    raws = [fill(child, 1, 100), poison, unknown, overfill, {"type": "FILLED"}, fill(child, 2, 100)]
    with django_capture_on_commit_callbacks(execute=True):
        out = services.reports_apply(raws=raws)
    assert len(out) == 5  # the one without an exec_id cannot be kept
    good, bad, lost, over, good2 = out
    assert good.applied and good2.applied
    assert (bad.applied, bad.raw) == (False, poison)
    assert bad.outcome.startswith("not applied: ") and "InvalidOperation" in bad.outcome
    assert (lost.applied, lost.outcome) == (False, "unknown client order id")
    assert not over.applied and over.outcome.startswith("overfill refused")
    order.refresh_from_db()
    assert order.filled_quantity == D(200)
    assert OrderFill.objects.filter(order=order).count() == 2


def test_a_fill_overtaking_its_ack_and_a_late_ack_in_one_batch(market, django_capture_on_commit_callbacks):
    order, execution, (child, *_) = working(django_capture_on_commit_callbacks)
    raws = [fill(child, 1, child.quantity), event(child, "ACKED", "A"), event(child, "CANCELLED", "X")]
    with django_capture_on_commit_callbacks(execute=True):
        filled, ack, cancel = services.reports_apply(raws=raws)
    assert filled.applied and ack.applied and cancel.applied  # late reports are absorbed
    child.refresh_from_db()
    assert (child.status, child.filled_quantity) == ("FILLED", child.quantity)  # and stays filled
    assert Execution.objects.get(pk=execution.pk).next_tick_at <= child.updated_at  # looked at again at once


def test_a_batch_ends_as_the_same_reports_applied_one_at_a_time(market, django_capture_on_commit_callbacks):
    """The same stream, once batched and once alone, on two equal executions."""
    stream = [
        ("FILLED", 1, 100),
        ("ACKED", "A", None),
        ("FILLED", 1, 100),  # a duplicate
        ("FILLED", 2, 300),
        ("CANCELLED", "X", None),
        ("FILLED", 3, 100),  # a late fill after the cancel
        ("ACKED", "A", None),
    ]

    def raws(child):
        return [fill(child, k, q) if kind == "FILLED" else event(child, kind, k) for kind, k, q in stream]

    results = []
    for batched in (True, False):
        order, execution, (child, *_) = working(django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=True):
            if batched:
                out = services.reports_apply(raws=raws(child))
            else:
                out = [services.report_apply(raw=raw) for raw in raws(child)]
        child.refresh_from_db()
        order.refresh_from_db()
        execution.refresh_from_db()
        results.append(
            (
                [(r.kind, r.applied, r.outcome) for r in out],
                (child.status, child.filled_quantity, child.average_price, child.fees),
                (order.status, order.filled_quantity, order.average_fill_price),
                execution.filled_quantity,
                list(ChildOrderEvent.objects.filter(child=child).values_list("event", "from_status", "to_status")),
                list(OrderEvent.objects.filter(order=order).values_list("event", "from_status", "to_status")),
            )
        )
    assert results[0] == results[1]


def test_a_start_tick_does_nothing_once_a_batch_ticked_the_execution(market, django_capture_on_commit_callbacks):
    from ems.tasks import execution_tick_task

    _, trader = users()
    order = submit(quantity="5000", urgency="LOW")
    execution = services.execution_start(actor=trader, order_id=order.pk, strategy="DARK")
    with django_capture_on_commit_callbacks(execute=True):
        assert len(services.executions_tick_batch()) == 1
    ticked = Execution.objects.get(pk=execution.pk)
    with django_capture_on_commit_callbacks(execute=True):
        execution_tick_task.run(execution.pk)  # the start's own tick, arriving late
    assert Execution.objects.get(pk=execution.pk).tick_count == ticked.tick_count == 1
    assert ChildOrder.objects.filter(execution=execution).count() == ticked.child_seq
