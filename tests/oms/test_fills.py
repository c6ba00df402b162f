"""apply_fill: idempotent by fill id, refuses overfills, keeps positions and cash equal to
the sum of fills, and holds under concurrency on the real database."""

import threading
from decimal import Decimal as D

import pytest
from django.db import connection, connections

from core.errors import Conflict
from oms import services
from oms.models import Order, OrderFill, Portfolio, Position
from tests.conftest import postgres_only


@pytest.fixture
def order(pm, portfolio, aapl):
    return services.order_submit(
        actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=D(1000), urgency="LOW"
    )


def fill(order, fill_id, qty, price="190.00", **kw):
    return services.apply_fill(order_id=order.pk, fill_id=fill_id, quantity=D(qty), price=D(price), **kw)


def test_partial_then_full(order):
    fill(order, "f1", 400, "190.00", venue="NEXA", fee=D("1.50"))
    order.refresh_from_db()
    assert (order.status, order.filled_quantity, order.average_fill_price) == ("PARTIALLY_FILLED", D(400), D("190.00"))
    fill(order, "f2", 600, "191.00")
    order.refresh_from_db()
    assert (order.status, order.filled_quantity, order.average_fill_price) == ("FILLED", D(1000), D("190.60"))
    assert [e.event for e in order.events.all()] == ["SUBMIT", "ACCEPT", "PARTIAL_FILL", "FILL"]
    pos = Position.objects.get(portfolio=order.portfolio, instrument=order.instrument)
    assert (pos.quantity, pos.average_cost) == (D(1000), D("190.60"))
    cash = Portfolio.objects.get(pk=order.portfolio_id).cash
    assert cash == D("1000000000") - D("190600") - D("1.50")


def test_same_fill_id_is_applied_once(order):
    first = fill(order, "dup", 100)
    again = fill(order, "dup", 100)
    order.refresh_from_db()
    assert first.applied and not first.duplicate
    assert again.duplicate and again.fill.pk == first.fill.pk
    assert order.filled_quantity == D(100)
    assert OrderFill.objects.count() == 1
    assert order.events.filter(event="PARTIAL_FILL").count() == 1


def test_fill_id_of_another_order_is_a_conflict(order, pm, portfolio, aapl):
    other = services.order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=D(10))
    fill(order, "x1", 10)
    with pytest.raises(Conflict):
        fill(other, "x1", 10)


def test_overfill_is_recorded_never_applied(order):
    fill(order, "a", 900)
    result = fill(order, "b", 200)
    order.refresh_from_db()
    assert not result.applied and "overfill" in result.fill.refused_reason
    assert order.filled_quantity == D(900) and order.status == "PARTIALLY_FILLED"
    assert Position.objects.get(portfolio=order.portfolio).quantity == D(900)
    # and a resend of the refused report stays refused
    assert fill(order, "b", 200).duplicate


def test_fill_during_cancel_pending_then_complete(order):
    services.order_work(order_id=order.pk)
    fill(order, "p1", 100)
    services.order_cancel(actor=None, order_id=order.pk)
    order.refresh_from_db()
    assert order.status == "CANCEL_PENDING"
    fill(order, "p2", 100)  # raced the cancel at the venue
    order.refresh_from_db()
    assert (order.status, order.filled_quantity) == ("CANCEL_PENDING", D(200))
    services.order_cancel_reject(order_id=order.pk, reason="venue: too late to cancel")
    order.refresh_from_db()
    assert order.status == "PARTIALLY_FILLED"


def test_late_fill_after_cancel_is_kept(order):
    services.order_cancel(actor=None, order_id=order.pk)
    fill(order, "late", 50)
    order.refresh_from_db()
    assert (order.status, order.filled_quantity) == ("CANCELLED", D(50))
    assert Position.objects.get(portfolio=order.portfolio).quantity == D(50)


def test_sell_realises_pnl(pm, portfolio, aapl):
    Position.objects.create(portfolio=portfolio, instrument=aapl, quantity=D(500), average_cost=D("180.00"))
    order = services.order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="SELL", quantity=D(200))
    fill(order, "s1", 200, "190.00")
    pos = Position.objects.get(portfolio=portfolio, instrument=aapl)
    assert (pos.quantity, pos.average_cost, pos.realised_pnl) == (D(300), D("180.00"), D("2000.0000"))


@pytest.mark.parametrize("bad", [{"qty": 0}, {"qty": -5}, {"price": "0"}])
def test_nonpositive_fill_is_refused(order, bad):
    with pytest.raises(Conflict):
        fill(order, "bad", bad.get("qty", 10), bad.get("price", "190"))
    assert OrderFill.objects.count() == 0


def _run_threads(n, target):
    barrier = threading.Barrier(n)
    errors = []

    def run(i):
        try:
            barrier.wait()
            target(i)
        except Exception as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_fills_never_overfill(pm, portfolio, aapl):
    order = services.order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=D(1000))
    # 8 threads x 3 fills of 50 = 1200 offered against 1000: exactly 20 apply.
    errors = _run_threads(8, lambda i: [fill(order, f"t{i}-{k}", 50) for k in range(3)])
    assert errors == []
    order.refresh_from_db()
    applied = OrderFill.objects.filter(order=order, refused_reason="")
    assert order.filled_quantity == D(1000) and order.status == "FILLED"
    assert applied.count() == 20 and OrderFill.objects.filter(order=order).exclude(refused_reason="").count() == 4
    assert Position.objects.get(portfolio=portfolio, instrument=aapl).quantity == sum(f.quantity for f in applied)


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_apply_once(pm, portfolio, aapl):
    order = services.order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=D(1000))
    errors = _run_threads(6, lambda i: fill(order, "same-exec-id", 100))
    assert errors == []
    order.refresh_from_db()
    assert order.filled_quantity == D(100)
    assert OrderFill.objects.filter(fill_id="same-exec-id").count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_fills_from_processes_on_postgres(pm, portfolio, aapl):
    """Separate OS processes, each with its own PostgreSQL session, racing on one order."""
    import multiprocessing as mp

    assert connection.vendor == "postgresql"
    order = services.order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=D(500))
    # A forked child must not inherit a pooled socket: close the pool itself, not only the
    # connection (which would go back to the pool, open).
    connections.close_all()
    if getattr(connection, "pool", None) is not None:
        connection.close_pool()
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_fill_in_process, args=(order.pk, p)) for p in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    order = Order.objects.get(pk=order.pk)
    assert order.filled_quantity == D(500)
    applied = OrderFill.objects.filter(order=order, refused_reason="")
    assert sum(f.quantity for f in applied) == D(500)
    assert Position.objects.get(portfolio=portfolio, instrument=aapl).quantity == D(500)


def _fill_in_process(order_id, p):
    connections.close_all()  # never share the parent's socket
    for k in range(5):
        services.apply_fill(order_id=order_id, fill_id=f"proc{p}-{k}", quantity=D(50), price=D("190"))
    connections.close_all()


def test_audit_trail_is_append_only_in_the_database(order):
    from django.db import DatabaseError, transaction

    from core.models import AppendOnlyError
    from oms.models import OrderEvent

    event = order.events.first()
    with pytest.raises(AppendOnlyError):
        event.save()
    attempts = [lambda: OrderEvent.objects.filter(pk=event.pk).update(reason="edited")]
    if connection.vendor == "postgresql":
        attempts.append(lambda: OrderEvent.objects.filter(pk=event.pk).delete())
    for attempt in attempts:
        with pytest.raises(DatabaseError), transaction.atomic():
            attempt()
    assert OrderEvent.objects.get(pk=event.pk).reason == event.reason
