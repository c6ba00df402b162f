"""Amending an open order: new terms through pre-trade compliance again, refused amendments
audited with the order unchanged, roles and visibility as for every order command."""

from decimal import Decimal as D

import pytest

from core.errors import Conflict
from oms import services
from oms.models import ComplianceRule, Order, OrderEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(pm, portfolio, aapl):
    return services.order_submit(
        actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=D(100), limit_price=D("190.00")
    )


def amend(client, order, **body):
    return client.post(f"/api/orders/{order.pk}/amend/", body, format="json")


def events(order):
    return list(OrderEvent.objects.filter(order=order).order_by("pk").values_list("event", flat=True))


def test_pm_amends_quantity_and_limit_with_old_and_new_values_audited(api_client, pm, order):
    r = amend(api_client(pm), order, quantity="150", limit_price="191.50")
    assert r.status_code == 200, r.json()
    assert (r.json()["quantity"], r.json()["limit_price"], r.json()["status"]) == (
        "150.00000000",
        "191.50000000",
        "ACCEPTED",
    )
    order.refresh_from_db()
    assert (order.quantity, order.limit_price) == (D(150), D("191.50"))
    event = OrderEvent.objects.filter(order=order).last()
    assert (event.event, event.from_status, event.to_status, event.actor) == ("AMEND", "ACCEPTED", "ACCEPTED", pm)
    assert event.payload == {
        "quantity": {"old": "100.00000000", "new": "150.00000000"},
        "limit_price": {"old": "190.00000000", "new": "191.50000000"},
    }


def test_a_trader_amends_and_null_makes_it_a_market_order(api_client, trader, order):
    r = amend(api_client(trader), order, limit_price=None)
    assert r.status_code == 200, r.json()
    order.refresh_from_db()
    assert order.limit_price is None and order.quantity == D(100)


def test_a_breach_refuses_the_amendment_audits_it_and_leaves_the_order(api_client, pm, portfolio, order):
    ComplianceRule.objects.create(kind="MAX_ORDER_NOTIONAL", portfolio=portfolio, limit=D(20000))
    r = amend(api_client(pm), order, quantity="1000")
    assert r.status_code == 409
    assert [b["rule"] for b in r.json()["rejection_reasons"]] == ["MAX_ORDER_NOTIONAL"]
    order.refresh_from_db()
    assert (order.quantity, order.status) == (D(100), "ACCEPTED")
    assert events(order) == ["SUBMIT", "ACCEPT", "AMEND_REJECT"]
    assert OrderEvent.objects.filter(order=order).last().payload["asked"]["quantity"]["new"] == "1000.00000000"


def test_a_sell_amendment_is_checked_against_the_position_before_its_own_fills(pm, portfolio, aapl):
    from oms.models import Position

    ComplianceRule.objects.create(kind="SHORT_SELL", portfolio=portfolio)
    Position.objects.create(portfolio=portfolio, instrument=aapl, quantity=D(100), average_cost=D(1))
    sell = services.order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="SELL", quantity=D(60))
    services.apply_fill(order_id=sell.pk, fill_id="f1", quantity=D(40), price=D("190"), venue="XNAS")
    # 60 held after the fill; 40 of the order done: the order may grow to the original 100, not beyond
    assert services.order_amend(actor=pm, order_id=sell.pk, quantity=D(100)).amended
    refused = services.order_amend(actor=pm, order_id=sell.pk, quantity=D(101))
    assert not refused.amended and [b.rule for b in refused.refusals] == ["SHORT_SELL"]
    assert Order.objects.get(pk=sell.pk).quantity == D(100)


def test_the_same_terms_change_nothing(api_client, pm, order):
    r = amend(api_client(pm), order, quantity="100")
    assert r.status_code == 200
    assert events(order) == ["SUBMIT", "ACCEPT"]


def test_the_quantity_must_stay_above_what_is_filled(pm, order):
    services.apply_fill(order_id=order.pk, fill_id="f1", quantity=D(30), price=D("190"), venue="XNAS")
    with pytest.raises(Conflict, match="30.00000000 filled"):
        services.order_amend(actor=pm, order_id=order.pk, quantity=D(30))
    assert Order.objects.get(pk=order.pk).quantity == D(100)


def test_a_closed_order_cannot_be_amended(api_client, pm, order):
    services.order_cancel(actor=pm, order_id=order.pk)
    r = amend(api_client(pm), order, quantity="120")
    assert r.status_code == 409 and "CANCELLED" in r.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "non_field_errors"), ({"quantity": "10.5"}, "quantity"), ({"limit_price": "190.001"}, "limit_price")],
)
def test_bad_terms_are_a_400_per_field(api_client, pm, order, body, field):
    r = amend(api_client(pm), order, **body)
    assert r.status_code == 400 and field in r.json(), r.json()
    assert events(order) == ["SUBMIT", "ACCEPT"]


def test_only_the_orders_pm_or_a_trader_may_amend(api_client, pm2, admin_user, order):
    assert amend(api_client(pm2), order, quantity="120").status_code == 404
    assert amend(api_client(admin_user), order, quantity="120").status_code == 403
    assert amend(api_client(), order, quantity="120").status_code in (401, 403)
    assert Order.objects.get(pk=order.pk).quantity == D(100)
