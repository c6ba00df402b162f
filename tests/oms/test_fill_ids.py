"""Fill ids: a resend with other terms is a conflict, a fill finer than the stored precision
is refused, and the same id raced onto two orders is a conflict, never a raw IntegrityError."""

import threading
from decimal import Decimal as D

import pytest
from django.db import connection, connections, transaction

from core.errors import Conflict
from oms import services
from oms.models import OrderFill
from tests.conftest import postgres_only


@pytest.fixture
def orders(pm, portfolio, aapl):
    return [
        services.order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=D(1000))
        for _ in range(2)
    ]


def fill(order, fill_id, qty=100, price="190.00", **kw):
    return services.apply_fill(order_id=order.pk, fill_id=fill_id, quantity=D(qty), price=D(price), **kw)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"qty": 99}, "now 99 @ 190.00"),
        ({"price": "190.01"}, "now 100 @ 190.01"),
        ({"fee": D("2")}, "(fee 2, venue NEXA)"),
        ({"venue": "ARCA"}, "(fee 1.5, venue ARCA)"),
    ],
)
def test_resend_with_other_terms_is_a_conflict(orders, change, said):
    order = orders[0]
    fill(order, "e1", venue="NEXA", fee=D("1.5"))
    terms = {"qty": 100, "price": "190.00", "venue": "NEXA", "fee": D("1.5"), **change}
    with pytest.raises(Conflict) as caught:
        fill(order, "e1", terms.pop("qty"), terms.pop("price"), **terms)
    assert "fill id e1 was already reported as 100.00000000 @ 190.00000000" in str(caught.value)
    assert said in str(caught.value)
    order.refresh_from_db()
    assert order.filled_quantity == D(100) and OrderFill.objects.count() == 1
    assert fill(order, "e1", venue="NEXA", fee=D("1.5")).duplicate  # the same terms: a duplicate


@pytest.mark.django_db
@pytest.mark.parametrize(("qty", "price"), [("0.000000001", "190"), ("100", "190.000000001")])
def test_fill_finer_than_stored_precision_is_refused(orders, qty, price):
    with pytest.raises(Conflict, match="finer than the stored precision"):
        fill(orders[0], "fine", qty, price)
    orders[0].refresh_from_db()
    assert orders[0].filled_quantity == 0 and OrderFill.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_same_fill_id_on_two_orders_at_once_is_a_conflict(orders):
    barrier = threading.Barrier(2)
    outcomes = []

    def run(order):
        try:
            barrier.wait()
            outcomes.append(fill(order, "raced"))
        except Exception as exc:  # noqa: BLE001 - the assertion names what was raised
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(o,)) for o in orders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    kinds = sorted(type(o).__name__ for o in outcomes)
    assert kinds == ["Conflict", "FillResult"]
    assert OrderFill.objects.filter(fill_id="raced").count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_insert_that_loses_the_unique_race_is_a_conflict_on_postgres(orders):
    """The first fill is inserted but not committed; the second, for the other order, waits on
    the unique index and then loses it: the answer is a Conflict."""
    assert connection.vendor == "postgresql"
    first_inserted, release = threading.Event(), threading.Event()
    outcome = []

    def first():
        try:
            with transaction.atomic():
                fill(orders[0], "held")
                first_inserted.set()
                release.wait(30)
        finally:
            connections.close_all()

    def second():
        try:
            outcome.append(fill(orders[1], "held"))
        except Exception as exc:  # noqa: BLE001
            outcome.append(exc)
        finally:
            connections.close_all()

    a = threading.Thread(target=first)
    a.start()
    assert first_inserted.wait(30)
    b = threading.Thread(target=second)
    b.start()
    # b is now blocked on the unique index, or has not reached it yet: either way it can
    # only see the row after `first` commits.
    release.set()
    a.join(30)
    b.join(30)
    assert len(outcome) == 1 and isinstance(outcome[0], Conflict), outcome
    assert str(outcome[0]) == f"fill id held already belongs to order {orders[0].pk}"
