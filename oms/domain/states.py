"""The parent-order state table: (status, event) -> status. `apply` is the only way a status
changes; everything not in the table is illegal.

Venue realities included, as in NautilusTrader's order state table: fills keep arriving
while a cancel is pending (and may complete the order); a rejected cancel returns the order
to the status it had before the request, as moved on by any fill received meanwhile; a late
fill after the order was cancelled or expired is still applied (the shares were traded)
without reopening it.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from core.errors import IllegalTransition
from core.vocabulary import OPEN_ORDER_STATUSES, OrderEventType, OrderStatus

NEW, ACCEPTED, REJECTED = OrderStatus.NEW, OrderStatus.ACCEPTED, OrderStatus.REJECTED
WORKING, PARTIALLY_FILLED, FILLED = OrderStatus.WORKING, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED
CANCEL_PENDING, CANCELLED, EXPIRED = OrderStatus.CANCEL_PENDING, OrderStatus.CANCELLED, OrderStatus.EXPIRED
STATUSES: Final = tuple(OrderStatus)
OPEN_STATUSES: Final = OPEN_ORDER_STATUSES
TERMINAL_STATUSES: Final = frozenset(STATUSES) - OPEN_STATUSES
# A user may ask for a cancel: open, and not already asked.
CANCELLABLE_STATUSES: Final = OPEN_STATUSES - {CANCEL_PENDING}

SUBMIT, ACCEPT, REJECT, WORK = OrderEventType.SUBMIT, OrderEventType.ACCEPT, OrderEventType.REJECT, OrderEventType.WORK
PARTIAL_FILL, FILL = OrderEventType.PARTIAL_FILL, OrderEventType.FILL
CANCEL_REQUEST, CANCEL = OrderEventType.CANCEL_REQUEST, OrderEventType.CANCEL
CANCEL_REJECT, EXPIRE = OrderEventType.CANCEL_REJECT, OrderEventType.EXPIRE
AMEND, AMEND_REJECT = OrderEventType.AMEND, OrderEventType.AMEND_REJECT
EVENTS: Final = tuple(OrderEventType)
FILL_EVENTS: Final = frozenset({PARTIAL_FILL, FILL})

# The status of an order that does not exist yet: SUBMIT creates it.
UNSUBMITTED: Final = ""

TRANSITIONS: Final[dict[tuple[str, OrderEventType], OrderStatus]] = {
    (UNSUBMITTED, SUBMIT): NEW,
    (NEW, ACCEPT): ACCEPTED,
    (NEW, REJECT): REJECTED,
    (NEW, CANCEL): CANCELLED,
    (ACCEPTED, WORK): WORKING,
    (ACCEPTED, PARTIAL_FILL): PARTIALLY_FILLED,
    (ACCEPTED, FILL): FILLED,
    (ACCEPTED, CANCEL): CANCELLED,
    (ACCEPTED, EXPIRE): EXPIRED,
    (WORKING, PARTIAL_FILL): PARTIALLY_FILLED,
    (WORKING, FILL): FILLED,
    (WORKING, CANCEL_REQUEST): CANCEL_PENDING,
    (WORKING, CANCEL): CANCELLED,
    (WORKING, EXPIRE): EXPIRED,
    (PARTIALLY_FILLED, PARTIAL_FILL): PARTIALLY_FILLED,
    (PARTIALLY_FILLED, FILL): FILLED,
    (PARTIALLY_FILLED, CANCEL_REQUEST): CANCEL_PENDING,
    (PARTIALLY_FILLED, CANCEL): CANCELLED,
    (PARTIALLY_FILLED, EXPIRE): EXPIRED,
    # A fill racing the cancel request: the cancel stays pending unless the fill completes the order.
    (CANCEL_PENDING, PARTIAL_FILL): CANCEL_PENDING,
    (CANCEL_PENDING, FILL): FILLED,
    (CANCEL_PENDING, CANCEL): CANCELLED,
    (CANCEL_PENDING, EXPIRE): EXPIRED,
    # Late fills after the order closed are applied, never lost.
    (CANCELLED, PARTIAL_FILL): CANCELLED,
    (CANCELLED, FILL): FILLED,
    (EXPIRED, PARTIAL_FILL): EXPIRED,
    (EXPIRED, FILL): FILLED,
}
# An open order that no cancel is pending on can be amended (or have its amendment refused):
# its status stays; the EMS follows the new terms.
AMENDABLE_STATUSES: Final = frozenset({ACCEPTED, WORKING, PARTIALLY_FILLED})
TRANSITIONS.update({(status, event): status for status in AMENDABLE_STATUSES for event in (AMEND, AMEND_REJECT)})
# CANCEL_REJECT is legal only while a cancel is pending and leads to the remembered status,
# so it is not a fixed entry of the table.


@dataclass(frozen=True, slots=True)
class OrderState:
    status: str
    # While a cancel is pending: the status to return to if the venue rejects the cancel.
    previous_status: str = ""


def apply(state: OrderState, event: OrderEventType) -> OrderState:
    """The state after `event`, or IllegalTransition."""
    if state.status == CANCEL_PENDING and event == CANCEL_REJECT:
        return OrderState(state.previous_status)
    target = TRANSITIONS.get((state.status, event))
    if target is None:
        raise IllegalTransition(state.status or "not submitted", event)
    if target != CANCEL_PENDING:
        return OrderState(target)
    if state.status == CANCEL_PENDING:
        # A fill while pending moves the status the order would return to.
        return OrderState(CANCEL_PENDING, TRANSITIONS[(state.previous_status, event)])
    return OrderState(CANCEL_PENDING, state.status)


def fill_event(filled_after: Decimal, quantity: Decimal) -> OrderEventType:
    """FILL when the order is complete, else PARTIAL_FILL."""
    return FILL if filled_after >= quantity else PARTIAL_FILL


def is_open(status: str) -> bool:
    return status in OPEN_STATUSES


def is_cancellable(status: str) -> bool:
    return status in CANCELLABLE_STATUSES
