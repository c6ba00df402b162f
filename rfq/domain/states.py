"""The RFQ and quote state tables: (status, event) -> status. `apply_rfq` and `apply_quote`
are the only ways a status changes; everything not in a table is illegal.

An RFQ is drafted, sent to its providers, quoting once the first answer arrives, and ends
executed, expired (the window closed without an execution) or cancelled. A last-look
rejection keeps it quoting, so the trader can take the next quote. A quote is live until it
is replaced by the provider's update, withdrawn, expired, executed, rejected on last look,
or closed because the RFQ ended with another quote or none."""

from enum import StrEnum
from typing import Final

from core.errors import IllegalTransition


class RfqStatus(StrEnum):
    DRAFT = "DRAFT"
    SENT = "SENT"
    QUOTING = "QUOTING"
    EXECUTED = "EXECUTED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"


class RfqEvent(StrEnum):
    SEND = "SEND"  # disseminated to the selected providers
    QUOTE = "QUOTE"  # a quote arrived, was updated or withdrawn
    LAST_LOOK_REJECT = "LAST_LOOK_REJECT"  # the provider refused the trade on last look
    EXECUTE = "EXECUTE"  # a quote was executed
    EXPIRE = "EXPIRE"  # the window closed without an execution
    CANCEL = "CANCEL"


class QuoteStatus(StrEnum):
    LIVE = "LIVE"
    REPLACED = "REPLACED"
    WITHDRAWN = "WITHDRAWN"
    EXPIRED = "EXPIRED"
    EXECUTED = "EXECUTED"
    REJECTED = "REJECTED"  # on last look
    CLOSED = "CLOSED"  # the RFQ ended with another quote or none


class QuoteEvent(StrEnum):
    RECEIVE = "RECEIVE"
    REPLACE = "REPLACE"
    WITHDRAW = "WITHDRAW"
    EXPIRE = "EXPIRE"
    EXECUTE = "EXECUTE"
    LAST_LOOK_REJECT = "LAST_LOOK_REJECT"
    CLOSE = "CLOSE"


class ExecutionMode(StrEnum):
    ALL_OR_NONE = "ALL_OR_NONE"  # the whole size from one quote, every leg or none
    ANY_PART_OF = "ANY_PART_OF"  # several quotes may fill parts (packages issue)


class Outcome(StrEnum):
    """What the trader is told."""

    PENDING = "PENDING"
    FILLED = "FILLED"
    LAST_LOOK_REJECTED = "LAST_LOOK_REJECTED"
    EXPIRED = "EXPIRED"
    NO_QUOTES = "NO_QUOTES"
    CANCELLED = "CANCELLED"


UNCREATED: Final = ""

RFQ_TRANSITIONS: Final[dict[tuple[str, RfqEvent], RfqStatus]] = {
    (RfqStatus.DRAFT, RfqEvent.SEND): RfqStatus.SENT,
    (RfqStatus.DRAFT, RfqEvent.CANCEL): RfqStatus.CANCELLED,
    (RfqStatus.SENT, RfqEvent.QUOTE): RfqStatus.QUOTING,
    (RfqStatus.SENT, RfqEvent.EXPIRE): RfqStatus.EXPIRED,
    (RfqStatus.SENT, RfqEvent.CANCEL): RfqStatus.CANCELLED,
    (RfqStatus.QUOTING, RfqEvent.QUOTE): RfqStatus.QUOTING,
    (RfqStatus.QUOTING, RfqEvent.LAST_LOOK_REJECT): RfqStatus.QUOTING,
    (RfqStatus.QUOTING, RfqEvent.EXECUTE): RfqStatus.EXECUTED,
    (RfqStatus.QUOTING, RfqEvent.EXPIRE): RfqStatus.EXPIRED,
    (RfqStatus.QUOTING, RfqEvent.CANCEL): RfqStatus.CANCELLED,
}
RFQ_OPEN: Final = frozenset({RfqStatus.DRAFT, RfqStatus.SENT, RfqStatus.QUOTING})
RFQ_TERMINAL: Final = frozenset(RfqStatus) - RFQ_OPEN

QUOTE_TRANSITIONS: Final[dict[tuple[str, QuoteEvent], QuoteStatus]] = {
    (UNCREATED, QuoteEvent.RECEIVE): QuoteStatus.LIVE,
    (QuoteStatus.LIVE, QuoteEvent.REPLACE): QuoteStatus.REPLACED,
    (QuoteStatus.LIVE, QuoteEvent.WITHDRAW): QuoteStatus.WITHDRAWN,
    (QuoteStatus.LIVE, QuoteEvent.EXPIRE): QuoteStatus.EXPIRED,
    (QuoteStatus.LIVE, QuoteEvent.EXECUTE): QuoteStatus.EXECUTED,
    (QuoteStatus.LIVE, QuoteEvent.LAST_LOOK_REJECT): QuoteStatus.REJECTED,
    (QuoteStatus.LIVE, QuoteEvent.CLOSE): QuoteStatus.CLOSED,
}


def apply_rfq(status: str, event: RfqEvent) -> RfqStatus:
    target = RFQ_TRANSITIONS.get((status, event))
    if target is None:
        raise IllegalTransition(status or "not created", event, aggregate="request for quote")
    return target


def apply_quote(status: str, event: QuoteEvent) -> QuoteStatus:
    target = QUOTE_TRANSITIONS.get((status, event))
    if target is None:
        raise IllegalTransition(status or "not received", event, aggregate="quote")
    return target


def is_open(status: str) -> bool:
    return status in RFQ_OPEN


def is_live(status: str, valid_until: float, now: float) -> bool:
    """A quote that may be executed at `now` (epoch seconds)."""
    return status == QuoteStatus.LIVE and now < valid_until


def outcome(status: str, *, quotes_received: int, last_attempt_rejected: bool) -> Outcome:
    if status == RfqStatus.EXECUTED:
        return Outcome.FILLED
    if status == RfqStatus.CANCELLED:
        return Outcome.CANCELLED
    if status == RfqStatus.EXPIRED:
        return Outcome.EXPIRED if quotes_received else Outcome.NO_QUOTES
    return Outcome.LAST_LOOK_REJECTED if last_attempt_rejected else Outcome.PENDING
