"""The trader's execution desk: the execution blotter, one execution's page and the ticket
that starts one. Pages read through selectors; every write goes through the API."""

from django.shortcuts import get_object_or_404, render

from accounts import roles
from accounts.decorators import role_required
from core.choices import Strategy
from ems.models import Block, ExecutionStatus
from ems.selectors import executions_visible_to
from oms.selectors import orders_visible_to


@role_required(*roles.DESK_ROLES)
def executions_page(request):
    return render(request, "ems/executions.html", {"statuses": ExecutionStatus.values, "strategies": Strategy.values})


@role_required(*roles.ROLES)
def execution_page(request, pk: int):
    execution = get_object_or_404(executions_visible_to(request.user), pk=pk)
    return render(request, "ems/execution_detail.html", {"execution": execution})


@role_required(*roles.DESK_ROLES)
def execution_ticket(request, order_id: int):
    order = get_object_or_404(orders_visible_to(request.user), pk=order_id)
    return render(request, "ems/execution_ticket.html", {"order": order, "strategies": Strategy.values})


@role_required(*roles.ROLES)
def blocks_page(request):
    """The desk's blocks; a PM's own orders' block allocations (and nothing of the others)."""
    return render(request, "ems/blocks.html", {"desk": roles.is_desk(request.user)})


@role_required(*roles.DESK_ROLES)
def block_page(request, pk: int):
    block = get_object_or_404(Block.objects.select_related("instrument"), pk=pk)
    return render(request, "ems/block_detail.html", {"worked_block": block})
