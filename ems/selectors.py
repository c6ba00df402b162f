"""Reads of executions: what a user may see, and the figures the blotter shows."""

from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from accounts import roles
from core.vocabulary import Side, Strategy
from ems.models import Execution
from oms.selectors import visible_portfolio_ids

IMMEDIATE = frozenset({Strategy.DIRECT})


def executions_visible_to(user) -> QuerySet[Execution]:
    """The executions of the orders `user` may see (a PM: their portfolios'; the desk: all)."""
    qs = Execution.objects.select_related("order__instrument", "block__instrument")
    if roles.is_desk(user):
        return qs  # not `order IN (every order)`: that reads the whole order table per page
    if roles.is_pm(user):
        # A block's execution is the desk's: a PM sees their own order's share (blocks_visible_to).
        return qs.filter(order__portfolio_id__in=visible_portfolio_ids(user))
    return qs.none()


def schedule_fraction(execution: Execution, at: datetime | None = None) -> Decimal:
    """The fraction of the quantity the schedule expects filled by `at`: all of it at once
    for a sweep, linear in time from start to end otherwise."""
    at = at or timezone.now()
    if execution.strategy in IMMEDIATE:
        return Decimal(1)
    span = (execution.end_at - execution.start_at).total_seconds()
    if span <= 0:
        return Decimal(1)
    elapsed = (at - execution.start_at).total_seconds()
    return Decimal(str(round(min(max(elapsed / span, 0.0), 1.0), 4)))


def slippage_bps(execution: Execution) -> Decimal | None:
    """Average fill price against the arrival price, in bps; positive is a cost."""
    if not execution.average_price or not execution.arrival_price:
        return None
    move = (execution.average_price - execution.arrival_price) / execution.arrival_price * Decimal(10_000)
    return (move if execution.side == Side.BUY else -move).quantize(Decimal("0.01"))


def schedule_points(execution: Execution, points: int = 11) -> list[dict]:
    """The expected cumulative quantity at evenly spaced times, for the chart."""
    span = execution.end_at - execution.start_at
    rows = []
    for n in range(points):
        at = execution.start_at + span * n / (points - 1)
        rows.append({"at": at.isoformat(), "quantity": str(execution.quantity * schedule_fraction(execution, at))})
    return rows


def blocks_visible_to(user):
    """The blocks `user` may see: the desk every block; a PM the blocks holding one of their
    portfolios' orders (and of each only their own members: `block_members_of`)."""
    from ems.models import Block

    qs = Block.objects.select_related("instrument", "decision", "execution")
    if roles.is_desk(user):
        return qs
    if roles.is_pm(user):
        return qs.filter(members__order__portfolio_id__in=visible_portfolio_ids(user)).distinct()
    return qs.none()


def block_members_of(block, user) -> list:
    """The members of `block` that `user` may see: all for the desk, their own for a PM."""
    members = block.members.select_related("order__portfolio").order_by("pk")
    if roles.is_desk(user):
        return list(members)
    return list(members.filter(order__portfolio_id__in=visible_portfolio_ids(user)))
