"""Executions, child orders, reports and their audit: read-only in the console (the services
are the only writers)."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from ems.models import (
    Block,
    BlockAllocation,
    BlockFill,
    ChildOrder,
    ChildOrderEvent,
    Execution,
    ExecutionEvent,
    ExecutionReport,
)


class ExecutionEventInline(admin.TabularInline):
    model = ExecutionEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor", "event", "from_status", "to_status", "reason", "payload"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Execution)
class ExecutionAdmin(ReadOnlyAdmin):
    list_display = ["id", "order", "block", "strategy", "status", "quantity", "filled_quantity", "next_tick_at"]
    list_filter = ["status", "strategy"]
    inlines = [ExecutionEventInline]


@admin.register(ExecutionEvent)
class ExecutionEventAdmin(ReadOnlyAdmin):
    list_display = ["execution", "at", "actor", "event", "from_status", "to_status", "reason"]
    list_filter = ["event", "to_status"]


@admin.register(ChildOrder)
class ChildOrderAdmin(ReadOnlyAdmin):
    list_display = ["client_order_id", "venue", "side", "child_type", "quantity", "filled_quantity", "status"]
    list_filter = ["status", "venue", "child_type"]
    search_fields = ["client_order_id"]


@admin.register(ChildOrderEvent)
class ChildOrderEventAdmin(ReadOnlyAdmin):
    list_display = ["child", "at", "event", "from_status", "to_status", "reason"]


@admin.register(ExecutionReport)
class ExecutionReportAdmin(ReadOnlyAdmin):
    list_display = ["venue_execution_id", "client_order_id", "kind", "quantity", "price", "applied", "outcome"]
    list_filter = ["kind", "applied"]
    search_fields = ["venue_execution_id", "client_order_id"]


@admin.register(Block)
class BlockAdmin(ReadOnlyAdmin):
    list_display = ["id", "instrument", "side", "allocation", "status", "limit_price", "unallocated_quantity"]
    list_filter = ["status", "allocation"]


@admin.register(BlockFill)
class BlockFillAdmin(ReadOnlyAdmin):
    """Each block fill with the allocation rule and the inputs it was allocated from."""

    list_display = ["fill_id", "block", "quantity", "price", "rule", "unallocated_quantity", "executed_at"]
    search_fields = ["fill_id"]


@admin.register(BlockAllocation)
class BlockAllocationAdmin(ReadOnlyAdmin):
    list_display = ["fill_id", "order", "quantity", "price", "booked_price", "applied", "outcome"]
    search_fields = ["fill_id"]
