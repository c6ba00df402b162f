"""The execution and child-order state tables: (status, event) -> status. `apply_execution`
and `apply_child` are the only ways these statuses change; everything not in a table is
illegal (core.errors.IllegalTransition).

Child orders carry the venue realities the parent table (oms.domain.states) has: reports
can arrive out of order (a fill before its acknowledgement, an acknowledgement after a
fill), fills keep arriving while a cancel is pending and may complete the order, a rejected
cancel returns to the status before the request (as moved on by fills meanwhile), and a
late fill after a cancel is applied without reopening the order.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from core.errors import IllegalTransition
from core.vocabulary import (
    BlockEventType,
    BlockStatus,
    ChildOrderEventType,
    ChildOrderStatus,
    ExecutionEventType,
    ExecutionStatus,
)

# --------------------------------------------------------------------------- executions

PENDING, RUNNING, PAUSED = ExecutionStatus.PENDING, ExecutionStatus.RUNNING, ExecutionStatus.PAUSED
COMPLETING, DONE = ExecutionStatus.COMPLETING, ExecutionStatus.DONE
EXEC_CANCELLED, FAILED = ExecutionStatus.CANCELLED, ExecutionStatus.FAILED
EXECUTION_STATUSES: Final = tuple(ExecutionStatus)
EXECUTION_EVENTS: Final = tuple(ExecutionEventType)
EXECUTION_TERMINAL: Final = frozenset({DONE, EXEC_CANCELLED, FAILED})
EXECUTION_ACTIVE: Final = frozenset(EXECUTION_STATUSES) - EXECUTION_TERMINAL

E = ExecutionEventType
EXECUTION_TRANSITIONS: Final[dict[tuple[ExecutionStatus, ExecutionEventType], ExecutionStatus]] = {
    (PENDING, E.START): RUNNING,
    (PENDING, E.COMPLETE): COMPLETING,
    (PENDING, E.CANCEL): EXEC_CANCELLED,
    (PENDING, E.FAIL): FAILED,
    (RUNNING, E.PAUSE): PAUSED,
    (RUNNING, E.SWITCH): RUNNING,
    (PENDING, E.AMEND): PENDING,
    (RUNNING, E.AMEND): RUNNING,
    (PAUSED, E.AMEND): PAUSED,
    (RUNNING, E.COMPLETE): COMPLETING,
    (RUNNING, E.FINISH): DONE,
    (RUNNING, E.CANCEL): EXEC_CANCELLED,
    (RUNNING, E.FAIL): FAILED,
    (PAUSED, E.RESUME): RUNNING,
    (PAUSED, E.COMPLETE): COMPLETING,
    (PAUSED, E.FINISH): DONE,  # a late fill completed the order while paused
    (PAUSED, E.CANCEL): EXEC_CANCELLED,
    (PAUSED, E.FAIL): FAILED,
    (COMPLETING, E.FINISH): DONE,
    (COMPLETING, E.CANCEL): EXEC_CANCELLED,
    (COMPLETING, E.FAIL): FAILED,
}


def apply_execution(status: str, event: ExecutionEventType) -> ExecutionStatus:
    target = EXECUTION_TRANSITIONS.get((status, event))
    if target is None:
        raise IllegalTransition(status, event, "execution")
    return target


def execution_is_active(status: str) -> bool:
    return status in EXECUTION_ACTIVE


# --------------------------------------------------------------------------- child orders

NEW, SENT, ACKED = ChildOrderStatus.NEW, ChildOrderStatus.SENT, ChildOrderStatus.ACKED
PARTIALLY_FILLED, FILLED = ChildOrderStatus.PARTIALLY_FILLED, ChildOrderStatus.FILLED
CANCEL_PENDING, CANCELLED, REJECTED = (
    ChildOrderStatus.CANCEL_PENDING,
    ChildOrderStatus.CANCELLED,
    ChildOrderStatus.REJECTED,
)
CHILD_STATUSES: Final = tuple(ChildOrderStatus)
CHILD_EVENTS: Final = tuple(ChildOrderEventType)
CHILD_OPEN: Final = frozenset({NEW, SENT, ACKED, PARTIALLY_FILLED, CANCEL_PENDING})
CHILD_TERMINAL: Final = frozenset(CHILD_STATUSES) - CHILD_OPEN

C = ChildOrderEventType
SEND, ACK, PARTIAL_FILL, FILL = C.SEND, C.ACK, C.PARTIAL_FILL, C.FILL
REJECT, CANCEL_REQUEST, CANCEL, CANCEL_REJECT = C.REJECT, C.CANCEL_REQUEST, C.CANCEL, C.CANCEL_REJECT

CHILD_TRANSITIONS: Final[dict[tuple[ChildOrderStatus, ChildOrderEventType], ChildOrderStatus]] = {
    # The outbox row: sent after commit; reports may overtake the SEND mark.
    (NEW, SEND): SENT,
    (NEW, ACK): ACKED,
    (NEW, PARTIAL_FILL): PARTIALLY_FILLED,
    (NEW, FILL): FILLED,
    (NEW, REJECT): REJECTED,
    (NEW, CANCEL_REQUEST): CANCEL_PENDING,
    (NEW, CANCEL): CANCELLED,
    (SENT, SEND): SENT,  # a resend by the sweep
    (SENT, ACK): ACKED,
    (SENT, PARTIAL_FILL): PARTIALLY_FILLED,
    (SENT, FILL): FILLED,
    (SENT, REJECT): REJECTED,
    (SENT, CANCEL_REQUEST): CANCEL_PENDING,
    (SENT, CANCEL): CANCELLED,
    (ACKED, ACK): ACKED,
    (ACKED, PARTIAL_FILL): PARTIALLY_FILLED,
    (ACKED, FILL): FILLED,
    (ACKED, CANCEL_REQUEST): CANCEL_PENDING,
    (ACKED, CANCEL): CANCELLED,  # also the unfilled rest of an immediate-or-cancel order
    # An acknowledgement that arrives after a fill changes nothing.
    (PARTIALLY_FILLED, ACK): PARTIALLY_FILLED,
    (PARTIALLY_FILLED, PARTIAL_FILL): PARTIALLY_FILLED,
    (PARTIALLY_FILLED, FILL): FILLED,
    (PARTIALLY_FILLED, CANCEL_REQUEST): CANCEL_PENDING,
    (PARTIALLY_FILLED, CANCEL): CANCELLED,
    # Fills racing the cancel: it stays pending unless a fill completes the order.
    (CANCEL_PENDING, ACK): CANCEL_PENDING,
    (CANCEL_PENDING, PARTIAL_FILL): CANCEL_PENDING,
    (CANCEL_PENDING, FILL): FILLED,
    (CANCEL_PENDING, CANCEL): CANCELLED,
    (CANCEL_PENDING, REJECT): REJECTED,
    (CANCEL_PENDING, CANCEL_REQUEST): CANCEL_PENDING,
    # Closed orders: late reports are absorbed, late fills applied (the shares traded).
    (FILLED, ACK): FILLED,
    (FILLED, CANCEL): FILLED,  # the venue answers a cancel of a filled order with nothing left
    (CANCELLED, ACK): CANCELLED,
    (CANCELLED, CANCEL): CANCELLED,
    (CANCELLED, PARTIAL_FILL): CANCELLED,
    (CANCELLED, FILL): FILLED,
    (REJECTED, CANCEL): REJECTED,
}
# CANCEL_REJECT is legal only while a cancel is pending and leads to the remembered status.
FILL_EVENTS: Final = frozenset({PARTIAL_FILL, FILL})


@dataclass(frozen=True, slots=True)
class ChildState:
    status: str
    previous_status: str = ""  # while CANCEL_PENDING: where a rejected cancel returns


def apply_child(state: ChildState, event: ChildOrderEventType) -> ChildState:
    """The state after `event`, or IllegalTransition."""
    if state.status == CANCEL_PENDING and event == CANCEL_REJECT:
        return ChildState(state.previous_status or SENT)
    target = CHILD_TRANSITIONS.get((state.status, event))
    if target is None:
        raise IllegalTransition(state.status, event, "child order")
    if target != CANCEL_PENDING:
        return ChildState(target)
    if state.status == CANCEL_PENDING:
        if event in FILL_EVENTS:
            return ChildState(CANCEL_PENDING, PARTIALLY_FILLED)
        return state
    return ChildState(CANCEL_PENDING, state.status)


def child_fill_event(filled_after: Decimal, quantity: Decimal) -> ChildOrderEventType:
    return FILL if filled_after >= quantity else PARTIAL_FILL


def child_is_open(status: str) -> bool:
    return status in CHILD_OPEN


# --------------------------------------------------------------------------- blocks

BLOCK_TRANSITIONS: Final[dict[tuple[BlockStatus, BlockEventType], BlockStatus]] = {
    (BlockStatus.FORMED, BlockEventType.WORK): BlockStatus.WORKING,
    (BlockStatus.FORMED, BlockEventType.CLOSE): BlockStatus.CLOSED,
    (BlockStatus.WORKING, BlockEventType.CLOSE): BlockStatus.CLOSED,
}


def apply_block(status: str, event: BlockEventType) -> BlockStatus:
    target = BLOCK_TRANSITIONS.get((status, event))
    if target is None:
        raise IllegalTransition(status, event, "block")
    return target
