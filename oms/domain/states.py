"""The parent-order state table: (status, event) -> status. `transition` is the only way a
status changes; everything not in the table is illegal.

Venue realities included: fills keep arriving while a cancel is pending (and may complete
the order); a rejected cancel restores the working state; a late fill after the order was
cancelled or expired is still applied (the shares were traded) without reopening it.
"""
from typing import Final

from core.errors import IllegalTransition

NEW, ACCEPTED, REJECTED = "NEW", "ACCEPTED", "REJECTED"
WORKING, PARTIALLY_FILLED, FILLED = "WORKING", "PARTIALLY_FILLED", "FILLED"
CANCEL_PENDING, CANCELLED, EXPIRED = "CANCEL_PENDING", "CANCELLED", "EXPIRED"
STATUSES: Final = (NEW, ACCEPTED, REJECTED, WORKING, PARTIALLY_FILLED, FILLED, CANCEL_PENDING, CANCELLED, EXPIRED)
OPEN_STATUSES: Final = frozenset({NEW, ACCEPTED, WORKING, PARTIALLY_FILLED, CANCEL_PENDING})
TERMINAL_STATUSES: Final = frozenset(STATUSES) - OPEN_STATUSES

# Events
ACCEPT, REJECT, WORK = "ACCEPT", "REJECT", "WORK"
PARTIAL_FILL, FILL = "PARTIAL_FILL", "FILL"
CANCEL_REQUEST, CANCEL, CANCEL_REJECT, EXPIRE = "CANCEL_REQUEST", "CANCEL", "CANCEL_REJECT", "EXPIRE"
EVENTS: Final = (ACCEPT, REJECT, WORK, PARTIAL_FILL, FILL, CANCEL_REQUEST, CANCEL, CANCEL_REJECT, EXPIRE)

# A rejected cancel goes back to where the order would be had no cancel been asked.
RESTORE: Final = "RESTORE"

TRANSITIONS: Final[dict[tuple[str, str], str]] = {
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
    (CANCEL_PENDING, PARTIAL_FILL): CANCEL_PENDING,
    (CANCEL_PENDING, FILL): FILLED,
    (CANCEL_PENDING, CANCEL): CANCELLED,
    (CANCEL_PENDING, CANCEL_REJECT): RESTORE,
    (CANCEL_PENDING, EXPIRE): EXPIRED,
    (CANCELLED, PARTIAL_FILL): CANCELLED,
    (CANCELLED, FILL): FILLED,
    (EXPIRED, PARTIAL_FILL): EXPIRED,
    (EXPIRED, FILL): FILLED,
}


def transition(status: str, event: str, *, has_fills: bool = False) -> str:
    """The status after `event`, or IllegalTransition."""
    try:
        target = TRANSITIONS[(status, event)]
    except KeyError:
        raise IllegalTransition(status, event) from None
    if target == RESTORE:
        return PARTIALLY_FILLED if has_fills else WORKING
    return target


def fill_event(filled_after: "object", quantity: "object") -> str:
    """FILL when the order is complete, else PARTIAL_FILL."""
    return FILL if filled_after >= quantity else PARTIAL_FILL


def is_open(status: str) -> bool:
    return status in OPEN_STATUSES
