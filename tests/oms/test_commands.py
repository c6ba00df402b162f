"""The OMS commands the EMS calls: each applies one kind of event, refuses what the state
table refuses (changing nothing), and a repeated command changes nothing."""

from decimal import Decimal as D

import pytest

from core.errors import IllegalTransition, NotFound
from oms import services
from oms.models import Order, OrderEvent


@pytest.fixture
def order(pm, portfolio, aapl):
    return services.order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=D(1000))


def events(order):
    return list(OrderEvent.objects.filter(order=order).values_list("event", "from_status", "to_status"))


def test_work_moves_an_accepted_order_to_working_once(order):
    services.order_work(order_id=order.pk)
    services.order_work(order_id=order.pk)
    assert Order.objects.get(pk=order.pk).status == "WORKING"
    assert events(order)[-1] == ("WORK", "ACCEPTED", "WORKING")
    assert len(events(order)) == 3


def test_a_rejected_cancel_returns_a_working_order_to_working(order):
    services.order_work(order_id=order.pk)
    services.order_cancel(actor=None, order_id=order.pk)
    assert Order.objects.get(pk=order.pk).previous_status == "WORKING"
    services.order_cancel_reject(order_id=order.pk, reason="venue: unknown order")
    after = Order.objects.get(pk=order.pk)
    assert (after.status, after.previous_status) == ("WORKING", "")
    assert events(order)[-2:] == [
        ("CANCEL_REQUEST", "WORKING", "CANCEL_PENDING"),
        ("CANCEL_REJECT", "CANCEL_PENDING", "WORKING"),
    ]


def test_cancel_confirm_closes_a_pending_cancel_once(order):
    services.order_work(order_id=order.pk)
    services.order_cancel(actor=None, order_id=order.pk)
    services.order_cancel_confirm(order_id=order.pk)
    services.order_cancel_confirm(order_id=order.pk)
    assert Order.objects.get(pk=order.pk).status == "CANCELLED"
    assert [e for e, _, _ in events(order)] == ["SUBMIT", "ACCEPT", "WORK", "CANCEL_REQUEST", "CANCEL"]


def test_expire_closes_a_working_order_once(order):
    services.order_work(order_id=order.pk)
    services.order_expire(order_id=order.pk)
    services.order_expire(order_id=order.pk)
    assert Order.objects.get(pk=order.pk).status == "EXPIRED"
    assert events(order)[-1] == ("EXPIRE", "WORKING", "EXPIRED")
    assert len(events(order)) == 4


def test_a_cancel_reject_without_a_pending_cancel_is_refused_and_changes_nothing(order):
    services.order_work(order_id=order.pk)
    before = events(order)
    with pytest.raises(IllegalTransition, match="cannot CANCEL_REJECT an order that is WORKING"):
        services.order_cancel_reject(order_id=order.pk, reason="stray")
    assert Order.objects.get(pk=order.pk).status == "WORKING"
    assert events(order) == before


def test_a_rejected_order_cannot_be_worked(pm, portfolio, aapl):
    services.compliance_rule_ensure(kind="LOT_SIZE", name="Whole lots")
    rejected = services.order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=D("1.5"))
    assert rejected.status == "REJECTED"
    with pytest.raises(IllegalTransition):
        services.order_work(order_id=rejected.pk)
    assert Order.objects.get(pk=rejected.pk).status == "REJECTED"


def test_commands_on_an_unknown_order_say_so(db):
    with pytest.raises(NotFound, match="order 424242 does not exist"):
        services.order_work(order_id=424242)
