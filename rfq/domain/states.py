"""The RFQ and quote state tables: (status, event) -> status. `apply_rfq` and `apply_quote`
are the only ways a status changes; everything not in a table is illegal.

An RFQ is drafted, sent to its providers, quoting once the first answer arrives, and ends
executed, expired (the window closed without an execution) or cancelled. A last-look
rejection keeps it quoting, so the trader can take the next quote. A quote is live until it
is replaced by the provider's update, withdrawn, expired, executed, rejected on last look,
or closed because the RFQ ended with another quote or none."""

from typing import Final

from core.errors import IllegalTransition
from core.vocabulary import QuoteEventType, QuoteStatus, RfqEventType, RfqOutcome, RfqStatus

UNCREATED: Final = ""

RFQ_TRANSITIONS: Final[dict[tuple[str, RfqEventType], RfqStatus]] = {
    (RfqStatus.DRAFT, RfqEventType.SEND): RfqStatus.SENT,
    (RfqStatus.DRAFT, RfqEventType.CANCEL): RfqStatus.CANCELLED,
    (RfqStatus.SENT, RfqEventType.QUOTE): RfqStatus.QUOTING,
    (RfqStatus.SENT, RfqEventType.EXPIRE): RfqStatus.EXPIRED,
    (RfqStatus.SENT, RfqEventType.CANCEL): RfqStatus.CANCELLED,
    (RfqStatus.QUOTING, RfqEventType.QUOTE): RfqStatus.QUOTING,
    (RfqStatus.QUOTING, RfqEventType.LAST_LOOK_REJECT): RfqStatus.QUOTING,
    (RfqStatus.QUOTING, RfqEventType.EXECUTE): RfqStatus.EXECUTED,
    (RfqStatus.QUOTING, RfqEventType.EXPIRE): RfqStatus.EXPIRED,
    (RfqStatus.QUOTING, RfqEventType.CANCEL): RfqStatus.CANCELLED,
}
RFQ_OPEN: Final = frozenset({RfqStatus.DRAFT, RfqStatus.SENT, RfqStatus.QUOTING})
RFQ_TERMINAL: Final = frozenset(RfqStatus) - RFQ_OPEN

QUOTE_TRANSITIONS: Final[dict[tuple[str, QuoteEventType], QuoteStatus]] = {
    (UNCREATED, QuoteEventType.RECEIVE): QuoteStatus.LIVE,
    (QuoteStatus.LIVE, QuoteEventType.REPLACE): QuoteStatus.REPLACED,
    (QuoteStatus.LIVE, QuoteEventType.WITHDRAW): QuoteStatus.WITHDRAWN,
    (QuoteStatus.LIVE, QuoteEventType.EXPIRE): QuoteStatus.EXPIRED,
    (QuoteStatus.LIVE, QuoteEventType.EXECUTE): QuoteStatus.EXECUTED,
    (QuoteStatus.LIVE, QuoteEventType.LAST_LOOK_REJECT): QuoteStatus.REJECTED,
    (QuoteStatus.LIVE, QuoteEventType.CLOSE): QuoteStatus.CLOSED,
}


def apply_rfq(status: str, event: RfqEventType) -> RfqStatus:
    target = RFQ_TRANSITIONS.get((status, event))
    if target is None:
        raise IllegalTransition(status or "not created", event, aggregate="request for quote")
    return target


def apply_quote(status: str, event: QuoteEventType) -> QuoteStatus:
    target = QUOTE_TRANSITIONS.get((status, event))
    if target is None:
        raise IllegalTransition(status or "not received", event, aggregate="quote")
    return target


def is_open(status: str) -> bool:
    return status in RFQ_OPEN


def is_live(status: str, valid_until: float, now: float) -> bool:
    """A quote that may be executed at `now` (epoch seconds)."""
    return status == QuoteStatus.LIVE and now < valid_until


def outcome(status: str, *, quotes_received: int, last_attempt_rejected: bool) -> RfqOutcome:
    if status == RfqStatus.EXECUTED:
        return RfqOutcome.FILLED
    if status == RfqStatus.CANCELLED:
        return RfqOutcome.CANCELLED
    if status == RfqStatus.EXPIRED:
        return RfqOutcome.EXPIRED if quotes_received else RfqOutcome.NO_QUOTES
    return RfqOutcome.LAST_LOOK_REJECTED if last_attempt_rejected else RfqOutcome.PENDING
