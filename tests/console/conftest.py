from decimal import Decimal as D

import pytest

from oms import services


@pytest.fixture
def console(client, admin_user):
    """The test client logged in as an admin (the Admin role: staff and superuser)."""
    from accounts.services import user_role_set

    user_role_set(user=admin_user, role="Admin")
    client.force_login(admin_user)
    return client


@pytest.fixture
def books(pm, aapl):
    """A ledger kept only by the product's own paths: an opening balance and holding, an
    order with two fills, a deposit."""
    from oms import ledger

    portfolio = services.portfolio_seed(
        owner=pm, name="Books", cash=D("1000000"), holdings=[(aapl, D(500), D("180.00"))]
    )
    order = services.order_submit(
        actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=D(100), urgency="LOW"
    )
    services.apply_fill(order_id=order.pk, fill_id="b1", quantity=D(40), price=D("190.01"), fee=D("0.33"))
    services.apply_fill(order_id=order.pk, fill_id="b2", quantity=D(60), price=D("190.02"))
    ledger.cash_movement_record(
        actor=pm, portfolio_id=portfolio.pk, kind="DEPOSIT", amount=D("2500.5"), reason="subscription"
    )
    portfolio.refresh_from_db()
    order.refresh_from_db()
    return portfolio, order
