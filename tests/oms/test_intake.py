"""POST /api/orders/ at desk speed: a bounded, exact number of queries per order, with every
invariant kept: one transaction, the portfolio locked before compliance reads anything, the
order written once in its final status with its two audit events beside it, one push after
commit. Counts, not timings (bench/oms.py measures the speed)."""

from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from oms.models import Order, Position
from oms.services import order_submit
from tests.factories import PortfolioFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client, pm, aapl):
    portfolio = PortfolioFactory(owner=pm)
    token = Token.objects.create(user=pm)

    def post(**body):
        body = {"portfolio": portfolio.pk, "instrument": "AAPL", "side": "BUY", "quantity": "10", **body}
        return client.post("/api/orders/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}")

    post(quantity="1")  # warm: the first request of a process loads content types and the like
    return portfolio, post


def _sql(queries):
    return [q["sql"] for q in queries.captured_queries]


# The OMS's share of a POST: savepoint, portfolio lock, position, rules, order, events, release.
SUBMIT_QUERIES = 7


def _submit(portfolio, instrument, django_capture_on_commit_callbacks, **terms):
    terms = {"side": "BUY", "quantity": D(10), **terms}
    with django_capture_on_commit_callbacks() as pushes, CaptureQueriesContext(connection) as queries:
        order = order_submit(actor=portfolio.owner, portfolio=portfolio, instrument=instrument, **terms)
    return order, _sql(queries), pushes


def test_a_buy_takes_a_fixed_number_of_queries(desk, aapl, django_capture_on_commit_callbacks):
    portfolio, _ = desk
    order, sql, pushes = _submit(portfolio, aapl, django_capture_on_commit_callbacks)
    assert order.status == "ACCEPTED"
    assert len(sql) == SUBMIT_QUERIES, "\n".join(sql)
    assert len(pushes) == 1  # one blotter push, sent on commit


def test_a_sell_reads_working_sells_a_buy_does_not(desk, aapl, django_capture_on_commit_callbacks):
    portfolio, _ = desk
    Position.objects.create(portfolio=portfolio, instrument=aapl, quantity=D(100), average_cost=D(100))
    sell, sell_sql, _ = _submit(portfolio, aapl, django_capture_on_commit_callbacks, side="SELL", quantity=D(5))
    assert sell.status == "ACCEPTED" and len(sell_sql) == SUBMIT_QUERIES + 1
    assert any('SUM("oms_order"."quantity")' in s for s in sell_sql)


def test_the_invariants_hold_in_the_queries(desk, django_capture_on_commit_callbacks):
    _, post = desk
    with django_capture_on_commit_callbacks() as pushes, CaptureQueriesContext(connection) as queries:
        response = post(side="SELL", quantity="5")
    assert response.status_code == 201 and response.json()["status"] == "ACCEPTED"
    sql = _sql(queries)
    # one transaction around the request's writes
    begin = next(i for i, s in enumerate(sql) if s.startswith(("SAVEPOINT", "BEGIN")))
    assert not [s for s in sql[:begin] if not s.startswith("SELECT")]
    assert sql[-1].startswith(("RELEASE SAVEPOINT", "COMMIT"))
    # the portfolio lock comes before any compliance read (SQLite: the IMMEDIATE transaction
    # already holds the write lock; PostgreSQL: FOR UPDATE)
    lock = next(i for i, s in enumerate(sql) if i > begin and s.startswith('SELECT "oms_portfolio"'))
    assert connection.vendor == "sqlite" or "FOR UPDATE" in sql[lock]
    first_read = next(i for i, s in enumerate(sql) if '"oms_position"' in s or '"oms_compliancerule"' in s)
    assert lock < first_read
    oms_writes = [s.split()[0] + " " + s.split()[2] for s in sql if s.startswith(("INSERT", "UPDATE", "DELETE"))]
    oms_writes = [w for w in oms_writes if '"oms_' in w]
    assert oms_writes == ['INSERT "oms_order"', 'INSERT "oms_orderevent"']  # written once, events beside it
    assert pushes  # sent on commit, never inside the transaction
    order = Order.objects.get(pk=response.json()["id"])
    assert [(e.event, e.from_status, e.to_status) for e in order.events.all()] == [
        ("SUBMIT", "", "NEW"),
        ("ACCEPT", "NEW", "ACCEPTED"),
    ]


def test_a_replayed_client_order_id_writes_nothing(desk, django_capture_on_commit_callbacks):
    _, post = desk
    first = post(client_order_id="T-1")
    with django_capture_on_commit_callbacks() as pushes, CaptureQueriesContext(connection) as queries:
        again = post(client_order_id="T-1")
    assert again.json()["id"] == first.json()["id"] and pushes == []
    assert not [s for s in _sql(queries) if s.startswith(("INSERT", "UPDATE", "DELETE"))]


def test_the_order_row_is_drfs_own(desk, django_capture_on_commit_callbacks):
    """OrderSerializer builds its fields once per class; each value is still what DRF's
    ModelSerializer gives, for every field, a limit, times and rejection reasons included."""
    from datetime import timedelta

    from django.utils import timezone
    from rest_framework import serializers as drf

    from oms.api.serializers import OrderSerializer
    from oms.push import order_row
    from oms.services import compliance_rule_ensure

    _, post = desk
    compliance_rule_ensure(kind="MAX_ORDER_NOTIONAL", name="notional", limit=D(1_000_000))
    ends = (timezone.now() + timedelta(hours=2)).isoformat()
    post(limit_price="101.25", end_time=ends, client_order_id="r-1")
    post(quantity="99999999", client_order_id="r-2")  # rejected: carries reasons
    orders = list(Order.objects.select_related("portfolio", "instrument", "created_by"))
    assert {o.status for o in orders} >= {"ACCEPTED", "REJECTED"}
    for order in orders:
        generic = drf.ModelSerializer.to_representation(OrderSerializer(order), order)
        assert OrderSerializer(order).data == generic
        assert order_row(order) == dict(generic)
    assert OrderSerializer(orders, many=True).data == [
        drf.ModelSerializer.to_representation(OrderSerializer(o), o) for o in orders
    ]
