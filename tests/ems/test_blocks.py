# ruff: noqa: F811  (pytest fixtures imported from tests.ems.fixtures are parameters here)
"""Blocks worked end to end: the real simulator, venue service, streams, OMS and EMS."""

from decimal import Decimal as D

import pytest

from core.errors import Conflict
from ems import blocks, services
from ems.models import Block, BlockAllocation, BlockFill, BlockMember, ChildOrder, Execution, ExecutionEvent
from oms.models import OrderFill, Position
from tests.ems.fixtures import Market, demo, market, memory_streams, users  # noqa: F401

pytestmark = pytest.mark.django_db


def people():
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    return {u.username: u for u in user_model.objects.filter(username__in=["pm", "pm2", "trader"])}


def submit_as(username, symbol="AAPL", side="BUY", quantity="300", limit_price=None, urgency="HIGH"):
    from marketdata.models import Instrument
    from oms.models import Portfolio
    from oms.services import order_submit

    user = people()[username]
    portfolio = Portfolio.objects.filter(owner=user).order_by("pk").first()
    order = order_submit(
        actor=user,
        portfolio=portfolio,
        instrument=Instrument.objects.get(symbol=symbol),
        side=side,
        quantity=D(quantity),
        limit_price=None if limit_price is None else D(limit_price),
        urgency=urgency,
    )
    assert order.status == "ACCEPTED", order.rejection_reasons
    return order


def form(orders, mode="PRO_RATA"):
    return blocks.block_form(actor=people()["trader"], order_ids=[o.pk for o in orders], allocation_mode=mode)


def start(block, strategy="DIRECT", **kwargs):
    return blocks.block_execution_start(actor=people()["trader"], block_id=block.pk, strategy=strategy, **kwargs)


def tick(execution, capture, **kwargs):
    with capture(execute=True):
        return services.execution_tick(execution_id=execution.pk, **kwargs)


def round_(market, capture):
    with capture(execute=True):
        market.round()


def check_books(block):
    """Every block fill's allocations sum with its unallocated part to the fill; every
    allocation booked is one applied OrderFill with its derived id; no order overfilled."""
    for fill in BlockFill.objects.filter(block=block):
        allocations = list(fill.allocations.all())
        assert sum((a.quantity for a in allocations), D(0)) + fill.unallocated_quantity == fill.quantity
        for a in allocations:
            assert a.fill_id == f"{fill.fill_id}/{a.order_id}"
    for member in BlockMember.objects.filter(block=block).select_related("order"):
        order = member.order
        assert order.filled_quantity <= order.quantity
        booked = OrderFill.objects.filter(order=order, refused_reason="")
        assert sum((f.quantity for f in booked), D(0)) == order.filled_quantity == member.booked_quantity


def test_a_block_of_three_orders_from_two_pms_fills_and_allocates_pro_rata(market, django_capture_on_commit_callbacks):
    a = submit_as("pm", quantity="300")
    b = submit_as("pm", quantity="100", limit_price="205.00")
    c = submit_as("pm2", quantity="200")
    formed = form([a, b, c])
    block = formed.block
    assert formed.refused == []
    assert block.decision is not None and block.decision.inputs["quantity"] in ("600", "600.00000000")
    assert block.limit_price == D("205.00")
    assert "most conservative" in block.limit_note
    positions = {o.pk: Position.objects.filter(portfolio=o.portfolio, instrument=o.instrument).first() for o in (a, c)}
    before = {k: (p.quantity if p else D(0)) for k, p in positions.items()}
    execution = start(block)
    assert execution.block_id == block.pk and execution.order_id is None
    assert execution.quantity == D("600")
    for order in (a, b, c):
        order.refresh_from_db()
        assert order.status == "WORKING"
    outcome = tick(execution, django_capture_on_commit_callbacks)
    assert outcome.sent >= 1
    assert all(coid.startswith("B") for coid in ChildOrder.objects.values_list("client_order_id", flat=True))
    round_(market, django_capture_on_commit_callbacks)
    for order in (a, b, c):
        order.refresh_from_db()
    assert (a.filled_quantity, b.filled_quantity, c.filled_quantity) == (D("300"), D("100"), D("200"))
    assert {a.status, b.status, c.status} == {"FILLED"}
    check_books(block)
    fill = BlockFill.objects.filter(block=block).first()
    assert fill.rule == "PRO_RATA_LARGEST_REMAINDER"
    assert {m["order"] for m in fill.inputs["members"]} == {a.pk, b.pk, c.pk}
    # Positions of both portfolios moved by their own orders' quantities.
    a_pos = Position.objects.get(portfolio=a.portfolio, instrument=a.instrument)
    c_pos = Position.objects.get(portfolio=c.portfolio, instrument=c.instrument)
    assert a_pos.quantity == before[a.pk] + D("400")  # pm's two orders share a portfolio
    assert c_pos.quantity == before[c.pk] + D("200")
    tick(execution, django_capture_on_commit_callbacks)
    execution.refresh_from_db()
    block.refresh_from_db()
    assert execution.status == "DONE"
    assert execution.filled_quantity == D("600")
    assert block.status == "CLOSED"
    assert sum(ChildOrder.objects.filter(execution=execution).values_list("filled_quantity", flat=True)) == D("600")


def test_incompatible_orders_are_refused_with_the_reason(market):
    a = submit_as("pm", quantity="300", limit_price="200.00")
    b = submit_as("pm2", quantity="200", limit_price="200.50")
    far = submit_as("pm2", quantity="200", limit_price="175.00")
    other_side = submit_as("pm", side="SELL", quantity="100")
    other_symbol = submit_as("pm", symbol="MSFT", quantity="100")
    formed = form([a, b, far, other_side, other_symbol])
    assert set(formed.block.members.values_list("order_id", flat=True)) == {a.pk, b.pk}
    reasons = {r.order: r.reason for r in formed.refused}
    assert "bps" in reasons[far.pk]
    assert "side SELL" in reasons[other_side.pk]
    assert "instrument MSFT" in reasons[other_symbol.pk]
    assert formed.block.limit_price == D("200.00")
    with pytest.raises(Conflict, match="already in a block"):
        form([a, b])
    with pytest.raises(Conflict, match="in a block"):
        services.execution_start(actor=people()["trader"], order_id=a.pk, strategy="DIRECT")


def test_a_member_leaves_and_another_joins_while_the_block_works(market, django_capture_on_commit_callbacks):
    from oms.services import order_cancel

    a = submit_as("pm", quantity="4000", urgency="LOW")
    b = submit_as("pm2", quantity="2000", urgency="LOW")
    block = form([a, b]).block
    execution = start(block, strategy="DARK")
    tick(execution, django_capture_on_commit_callbacks)
    for _ in range(3):
        round_(market, django_capture_on_commit_callbacks)
        market.advance(2)
    a.refresh_from_db()
    allocated_before = a.filled_quantity
    # pm cancels: the member leaves, what it was allocated stays, its order is cancelled.
    order_cancel(actor=people()["pm"], order_id=a.pk)
    tick(execution, django_capture_on_commit_callbacks)
    a.refresh_from_db()
    assert a.status == "CANCELLED"
    assert a.filled_quantity == allocated_before
    member = BlockMember.objects.get(block=block, order=a)
    assert member.left_at is not None and "cancel" in member.left_reason
    execution.refresh_from_db()
    b.refresh_from_db()
    assert execution.quantity == execution.filled_quantity + (b.quantity - b.filled_quantity)
    resized = ExecutionEvent.objects.filter(execution=execution, event="AMEND", reason__startswith="block resized")
    assert resized.exists()
    # A new order joins the working block.
    c = submit_as("pm", quantity="1000", urgency="LOW")
    joined = blocks.block_members_add(actor=people()["trader"], block_id=block.pk, order_ids=[c.pk])
    assert joined.refused == []
    c.refresh_from_db()
    assert c.status == "WORKING"
    execution.refresh_from_db()
    b.refresh_from_db()
    assert execution.quantity == execution.filled_quantity + (b.quantity - b.filled_quantity) + D("1000")
    for _ in range(3):
        tick(execution, django_capture_on_commit_callbacks)
        round_(market, django_capture_on_commit_callbacks)
        market.advance(2)
    a.refresh_from_db()
    assert a.filled_quantity == allocated_before  # nothing after it left
    assert not BlockAllocation.objects.filter(order=a, block_fill__recorded_at__gt=member.left_at).exists()
    # The trader removes pm2's order: it stays open, its own again.
    blocks.block_member_remove(actor=people()["trader"], block_id=block.pk, order_id=b.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.execution_cancel(actor=people()["trader"], execution_id=execution.pk)
    round_(market, django_capture_on_commit_callbacks)
    tick(execution, django_capture_on_commit_callbacks)
    execution.refresh_from_db()
    b.refresh_from_db()
    c.refresh_from_db()
    assert execution.status == "CANCELLED"
    assert b.status in ("WORKING", "PARTIALLY_FILLED")
    assert c.status in ("CANCELLED", "FILLED")
    check_books(block)
    venue = sum(ChildOrder.objects.filter(execution=execution).values_list("filled_quantity", flat=True))
    assert venue == execution.filled_quantity + Block.objects.get(pk=block.pk).unallocated_quantity


def test_average_price_mode_books_every_member_at_the_same_price(market, django_capture_on_commit_callbacks):
    a = submit_as("pm", quantity="3000", urgency="LOW")
    b = submit_as("pm2", quantity="1700", urgency="LOW")
    c = submit_as("pm2", quantity="900", urgency="LOW")
    block = form([a, b, c], mode="AVERAGE_PRICE").block
    execution = start(block, strategy="DIRECT")
    tick(execution, django_capture_on_commit_callbacks)
    round_(market, django_capture_on_commit_callbacks)
    prices = set(BlockFill.objects.filter(block=block).values_list("price", flat=True))
    assert prices
    # Nothing booked to the members before the end.
    assert not OrderFill.objects.filter(order__in=[a, b, c]).exists()
    tick(execution, django_capture_on_commit_callbacks)
    round_(market, django_capture_on_commit_callbacks)
    tick(execution, django_capture_on_commit_callbacks)
    execution.refresh_from_db()
    assert execution.status == "DONE"
    booked = set(OrderFill.objects.filter(order__in=[a, b, c]).values_list("price", flat=True))
    assert len(booked) == 1
    for order in (a, b, c):
        order.refresh_from_db()
        if order.filled_quantity:
            assert order.average_fill_price == execution.average_price
    check_books(block)


def test_the_same_fills_give_the_same_allocations(market, django_capture_on_commit_callbacks):
    """Determinism: allocating a block's recorded fills again from their recorded inputs
    gives the recorded allocations."""
    from ems.domain.allocation import Member, pro_rata

    a = submit_as("pm", quantity="3300", urgency="LOW")
    b = submit_as("pm2", quantity="1100", urgency="LOW")
    c = submit_as("pm2", quantity="700", urgency="LOW")
    block = form([a, b, c]).block
    execution = start(block, strategy="DIRECT")
    for _ in range(2):
        tick(execution, django_capture_on_commit_callbacks)
        round_(market, django_capture_on_commit_callbacks)
        market.advance(3)
    fills = list(BlockFill.objects.filter(block=block))
    assert fills
    for fill in fills:
        members = [
            Member(
                key=m["member"],
                remaining=D(m["remaining"]),
                entered_at=m["entered_at"],
                limit_price=None if m["limit_price"] is None else D(m["limit_price"]),
            )
            for m in fill.inputs["members"]
        ]
        lot = D(fill.inputs["lot"])
        again = pro_rata(quantity=fill.quantity, price=fill.price, side="BUY", lot=lot, members=members)
        assert again.by_key() == {a.member_id: a.quantity for a in fill.allocations.all()}


def test_the_beats_batch_ticks_a_block_beside_single_orders(market, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from tests.ems.fixtures import submit

    single = submit(quantity="200")
    alone = services.execution_start(actor=people()["trader"], order_id=single.pk, strategy="DIRECT")
    a, b = submit_as("pm", quantity="300"), submit_as("pm2", quantity="200")
    execution = start(form([a, b]).block)
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = services.executions_tick_batch(now=timezone.now())
    assert {o.execution_id for o in outcomes} == {alone.pk, execution.pk}
    assert all(o.sent >= 1 for o in outcomes)
    round_(market, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.executions_tick_batch(now=timezone.now())
    for order in (single, a, b):
        order.refresh_from_db()
        assert order.status == "FILLED"
    assert {e.status for e in Execution.objects.all()} == {"DONE"}
    check_books(execution.block)


def test_pause_resume_and_the_kill_switch_work_a_block(market, django_capture_on_commit_callbacks):
    a, b = submit_as("pm", quantity="5000", urgency="LOW"), submit_as("pm2", quantity="3000", urgency="LOW")
    block = form([a, b]).block
    execution = start(block, strategy="DARK")
    tick(execution, django_capture_on_commit_callbacks)
    trader = people()["trader"]
    with django_capture_on_commit_callbacks(execute=True):
        services.execution_pause(actor=trader, execution_id=execution.pk)
    round_(market, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.execution_resume(actor=trader, execution_id=execution.pk)
    tick(execution, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.killswitch_engage(actor=trader) == 1
    round_(market, django_capture_on_commit_callbacks)
    tick(execution, django_capture_on_commit_callbacks)
    execution.refresh_from_db()
    block.refresh_from_db()
    assert execution.status == "CANCELLED"
    assert block.status == "CLOSED"
    for order in (a, b):
        order.refresh_from_db()
        assert order.status in ("CANCELLED", "FILLED")
    assert not ChildOrder.objects.filter(status__in=["NEW", "SENT", "ACKED", "PARTIALLY_FILLED", "CANCEL_PENDING"])
    check_books(block)


def test_the_blocks_api_is_the_desks(market, django_capture_on_commit_callbacks):
    from rest_framework.test import APIClient

    a, b = submit_as("pm", quantity="300"), submit_as("pm2", quantity="200")
    late = submit_as("pm2", quantity="100")
    desk, pm = APIClient(), APIClient()
    desk.force_authenticate(people()["trader"])
    pm.force_authenticate(people()["pm"])
    assert pm.post("/api/blocks/", {"orders": [a.pk, b.pk]}, format="json").status_code == 403
    bad = desk.post("/api/blocks/", {"orders": [a.pk], "allocation": "BEST"}, format="json")
    assert bad.status_code == 400 and set(bad.json()) >= {"orders", "allocation"}
    assert not Block.objects.exists()
    formed = desk.post("/api/blocks/", {"orders": [a.pk, b.pk], "allocation": "AVERAGE_PRICE"}, format="json")
    assert formed.status_code == 201, formed.json()
    body = formed.json()
    assert body["allocation"] == "AVERAGE_PRICE" and body["status"] == "FORMED"
    assert [m["order"] for m in body["members"]] == [a.pk, b.pk]
    assert body["decision"]["strategy"] and body["decision"]["rationale"]
    joined = desk.post(f"/api/blocks/{body['id']}/members/", {"orders": [late.pk]}, format="json")
    assert joined.status_code == 200 and len(joined.json()["members"]) == 3
    removed = desk.post(f"/api/blocks/{body['id']}/remove/", {"order": late.pk}, format="json")
    assert [m["active"] for m in removed.json()["members"]] == [True, True, False]
    assert desk.post("/api/executions/", {}, format="json").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        started = desk.post("/api/executions/", {"block": body["id"], "strategy": "DIRECT"}, format="json")
    assert started.status_code == 201, started.json()
    assert (started.json()["block"], started.json()["order"]) == (body["id"], None)
    assert started.json()["instrument"] == "AAPL"
    listed = desk.get("/api/executions/").json()["results"]
    assert started.json()["id"] in [x["id"] for x in listed]
    assert desk.get(f"/api/executions/{started.json()['id']}/").status_code == 200
