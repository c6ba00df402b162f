# ruff: noqa: F811  (pytest fixtures imported from tests.ems.fixtures are parameters here)
"""An execution whose strategy is RFQ opens an RFQ; what the RFQ trades is the execution's;
what it leaves unfilled goes back to the router for an algorithm, with the reason."""

from decimal import Decimal as D

import pytest

from ems import services
from ems.models import ExecutionEvent
from marketdata.selectors import mid_price
from rfq import services as rfq_services
from rfq.models import Rfq
from tests.ems.fixtures import demo, market, memory_streams, submit, users  # noqa: F401

pytestmark = pytest.mark.django_db


def tick(execution, capture):
    with capture(execute=True):
        services.execution_tick(execution_id=execution.pk)
    execution.refresh_from_db()
    return execution


def rfq_started(capture, quantity="20000"):
    order = submit(quantity=quantity, urgency="LOW")
    _, trader = users()
    execution = services.execution_start(actor=trader, order_id=order.pk, strategy="RFQ")
    execution = tick(execution, capture)
    rfq = Rfq.objects.get(pk=execution.memory["rfq"])
    assert (rfq.order_id, rfq.quantity, rfq.is_open) == (order.pk, D(quantity), True)
    return order, execution, rfq


def quote(rfq, size):
    rfq_services.rfq_disseminate(rfq_id=rfq.pk)
    invitation = rfq.invitations.get(counterparty__name="Apex Markets")
    ask = (mid_price(rfq.order.instrument) + D("0.02")).quantize(D("0.01"))
    return rfq_services.quote_submit(invitation_id=invitation.pk, bid=None, ask=ask, size=D(size), validity_seconds=60)


def test_a_full_rfq_fill_completes_the_execution(market, django_capture_on_commit_callbacks):
    order, execution, rfq = rfq_started(django_capture_on_commit_callbacks)
    q = quote(rfq, "20000")
    _, trader = users()
    assert rfq_services.rfq_execute(actor=trader, rfq_id=rfq.pk, quote_id=q.pk).accepted
    execution = tick(execution, django_capture_on_commit_callbacks)
    execution = tick(execution, django_capture_on_commit_callbacks)
    order.refresh_from_db()
    assert (order.status, order.filled_quantity) == ("FILLED", D(20000))
    assert (execution.status, execution.filled_quantity, execution.strategy) == ("DONE", D(20000), "RFQ")
    assert execution.average_price == q.ask


def test_the_rfq_leftover_goes_back_to_the_router_for_an_algorithm(market, django_capture_on_commit_callbacks):
    order, execution, rfq = rfq_started(django_capture_on_commit_callbacks)
    q = quote(rfq, "5000")
    _, trader = users()
    assert rfq_services.rfq_execute(actor=trader, rfq_id=rfq.pk, quote_id=q.pk).accepted
    execution = tick(execution, django_capture_on_commit_callbacks)
    assert execution.filled_quantity == D(5000) and execution.strategy != "RFQ"
    switch = ExecutionEvent.objects.get(execution=execution, event="SWITCH")
    assert switch.reason == (
        f"RFQ #{rfq.pk} executed after 5000.00000000 traded: 15000.00000000 unfilled goes back to the router, "
        f"which chose {execution.strategy}"
    )
    assert switch.payload["from"] == "RFQ" and switch.payload["rfq"] == rfq.pk
    # the algorithm works the rest: the next tick sends child orders for it
    tick(execution, django_capture_on_commit_callbacks)
    assert execution.children.exists()


def test_an_rfq_that_ends_without_a_trade_hands_everything_to_an_algorithm(market, django_capture_on_commit_callbacks):
    order, execution, rfq = rfq_started(django_capture_on_commit_callbacks)
    _, trader = users()
    rfq_services.rfq_cancel(actor=trader, rfq_id=rfq.pk)
    execution = tick(execution, django_capture_on_commit_callbacks)
    assert execution.strategy != "RFQ" and execution.filled_quantity == 0
    reason = ExecutionEvent.objects.get(execution=execution, event="SWITCH").reason
    assert reason.startswith(f"RFQ #{rfq.pk} cancelled: 20000.00000000 unfilled goes back to the router")


def test_no_rfq_possible_falls_back_at_once(market, django_capture_on_commit_callbacks):
    from rfq.models import Counterparty

    Counterparty.objects.update(enabled=False)
    order = submit(quantity="20000", urgency="LOW")
    _, trader = users()
    execution = services.execution_start(actor=trader, order_id=order.pk, strategy="RFQ")
    execution = tick(execution, django_capture_on_commit_callbacks)
    assert execution.strategy != "RFQ" and "rfq" not in execution.memory
    assert ExecutionEvent.objects.get(execution=execution, event="SWITCH").reason.startswith("no RFQ could be opened")


def test_cancelling_the_parent_cancels_its_open_rfq(market, django_capture_on_commit_callbacks):
    from oms.services import order_cancel

    order, execution, rfq = rfq_started(django_capture_on_commit_callbacks)
    pm, _ = users()
    assert order_cancel(actor=pm, order_id=order.pk).status == "CANCEL_PENDING"
    execution = tick(execution, django_capture_on_commit_callbacks)
    rfq.refresh_from_db()
    order.refresh_from_db()
    assert (rfq.status, order.status, execution.status) == ("CANCELLED", "CANCELLED", "CANCELLED")
