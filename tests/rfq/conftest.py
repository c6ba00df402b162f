"""Fixtures of the RFQ tests: counterparties of every simulated profile and an accepted order."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

T0 = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)

COUNTERPARTIES = [
    # name, connection, classes, tier, max notional
    ("Apex Markets", "tight_fast", ["EQUITY", "OPTION", "CRYPTO"], 1, "500000000"),
    ("Birch Capital", "wide_slow", ["EQUITY", "OPTION"], 2, "200000000"),
    ("Cobalt Trading", "skewed", ["EQUITY", "CRYPTO"], 2, "100000000"),
    ("Dune Liquidity", "often_passes", ["EQUITY"], 3, "50000000"),
    ("Ember Securities", "last_look", ["EQUITY", "OPTION"], 1, "300000000"),
]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def counterparties(db):
    from rfq.services import counterparties_seed

    rows = [
        dict(name=n, connection=c, asset_classes=a, tier=t, max_notional=m, enabled=True)
        for n, c, a, t, m in COUNTERPARTIES
    ]
    return counterparties_seed(rows=rows)


@pytest.fixture
def order(pm, portfolio, aapl):
    from oms.services import order_submit

    o = order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=D("10000"), urgency="LOW")
    assert o.status == "ACCEPTED"
    return o


@pytest.fixture
def sell_order(pm, portfolio, aapl):
    from oms.models import Position
    from oms.services import order_submit

    Position.objects.create(portfolio=portfolio, instrument=aapl, quantity=D("20000"), average_cost=D("150"))
    o = order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="SELL", quantity=D("5000"), urgency="LOW")
    assert o.status == "ACCEPTED", o.rejection_reasons
    return o
