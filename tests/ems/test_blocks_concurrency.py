# ruff: noqa: F811  (pytest fixtures imported from tests.ems.fixtures are parameters here)
"""A block member cancelled by its PM in the middle of the block's fills, on PostgreSQL,
with the fills applied by several threads at once: no member is ever overfilled, nothing is
allocated to the member after it left, and every fill is accounted for exactly."""

import random
import threading
from decimal import Decimal as D

import pytest
from django.db import connection

from ems import blocks, services
from ems.models import Block, BlockAllocation, BlockFill, BlockMember, ChildOrder, Execution
from oms.models import Order, OrderFill
from oms.services import order_cancel
from tests.conftest import postgres_only
from tests.ems.fixtures import Market, demo, memory_streams  # noqa: F401
from tests.ems.test_blocks import people, submit_as


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_member_cancelled_mid_fills_is_never_overfilled(demo, memory_streams):
    Market()
    a = submit_as("pm", quantity="3000", urgency="LOW")
    b = submit_as("pm2", quantity="1500", urgency="LOW")
    block = blocks.block_form(actor=people()["trader"], order_ids=[a.pk, b.pk]).block
    execution = blocks.block_execution_start(actor=people()["trader"], block_id=block.pk, strategy="DIRECT")
    services.execution_tick(execution_id=execution.pk)
    children = list(ChildOrder.objects.filter(execution=execution))
    assert sum(c.quantity for c in children) == D("4500")
    # The venue's fills, 100 at a time, in a shuffled order, as three consumers would apply them.
    reports = [
        {
            "type": "FILLED",
            "exec_id": f"{child.client_order_id}:F{n}",
            "client_order_id": child.client_order_id,
            "venue": child.venue,
            "quantity": "100",
            "price": "190.01",
            "fee": "0.10",
        }
        for child in children
        for n in range(int(child.quantity // 100))
    ]
    random.Random(7).shuffle(reports)
    queue = list(reports)
    lock = threading.Lock()
    cancel_at = len(reports) // 3
    applied = {"n": 0}
    cancelled = threading.Event()
    errors = []

    def consume():
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    raw = queue.pop()
                    applied["n"] += 1
                    if applied["n"] == cancel_at:
                        cancelled.set()
                services.report_apply(raw=raw)
        except Exception as error:  # noqa: BLE001  (surfaced below, whatever it is)
            errors.append(error)
        finally:
            connection.close()

    def cancel_and_tick():
        try:
            assert cancelled.wait(60)
            order_cancel(actor=people()["pm"], order_id=a.pk)
            for _ in range(5):
                services.execution_tick(execution_id=execution.pk)
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=consume) for _ in range(3)] + [threading.Thread(target=cancel_and_tick)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    services.execution_tick(execution_id=execution.pk)

    a.refresh_from_db()
    b.refresh_from_db()
    member = BlockMember.objects.get(block=block, order=a)
    assert member.left_at is not None
    assert a.status == "CANCELLED"
    for order in (a, b):
        assert order.filled_quantity <= order.quantity
        applied_fills = OrderFill.objects.filter(order=order, refused_reason="")
        assert sum((f.quantity for f in applied_fills), D(0)) == order.filled_quantity
        assert not OrderFill.objects.filter(order=order).exclude(refused_reason="").exists()  # none refused
    assert not BlockAllocation.objects.filter(order=a, block_fill__recorded_at__gt=member.left_at).exists()
    # Every venue fill is allocated or recorded as unallocated, exactly.
    fills = list(BlockFill.objects.filter(block=block))
    assert len(fills) == len(reports)
    for fill in fills:
        assert sum(x.quantity for x in fill.allocations.all()) + fill.unallocated_quantity == fill.quantity
    block.refresh_from_db()
    total = sum(f.quantity for f in fills)
    execution = Execution.objects.get(pk=execution.pk)
    assert total == D("4500") == execution.filled_quantity + block.unallocated_quantity
    assert execution.filled_quantity == a.filled_quantity + b.filled_quantity
    assert Block.objects.get(pk=block.pk).unallocated_quantity == D("4500") - a.filled_quantity - b.filled_quantity
    assert Order.objects.get(pk=b.pk).filled_quantity == D("1500")  # b took what a left, up to its size
