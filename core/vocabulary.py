"""The product's one vocabulary: every side, urgency, asset class and venue kind, and the
statuses and events of every state table (parent order, execution, child order, RFQ, quote)
are defined here once. Pure (standard library only): the pure cores use these
enums directly and `core.choices` derives the Django TextChoices from them.

StrEnum members are plain strings: they compare equal to "BUY", serialise to JSON as their
value and come straight from a database column."""

from enum import StrEnum
from typing import Final, TypeVar


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class Urgency(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


class AssetClass(StrEnum):
    EQUITY = "EQUITY"
    OPTION = "OPTION"
    CRYPTO = "CRYPTO"


class OptionRight(StrEnum):
    CALL = "C"
    PUT = "P"


class VenueKind(StrEnum):
    LIT = "LIT"
    DARK = "DARK"
    RFQ = "RFQ"


class Strategy(StrEnum):
    DIRECT = "DIRECT"  # sweep the lit venues now
    DARK = "DARK"  # rest at the mid in dark pools, sweep the residual
    TWAP = "TWAP"
    VWAP = "VWAP"
    POV = "POV"
    IS = "IS"  # implementation shortfall, Almgren-Chriss schedule
    ICEBERG = "ICEBERG"
    RFQ = "RFQ"


class OrderStatus(StrEnum):
    NEW = "NEW"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    WORKING = "WORKING"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCEL_PENDING = "CANCEL_PENDING"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


OPEN_ORDER_STATUSES: Final = frozenset(
    {
        OrderStatus.NEW,
        OrderStatus.ACCEPTED,
        OrderStatus.WORKING,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.CANCEL_PENDING,
    }
)


class OrderEventType(StrEnum):
    """The events of the parent-order state table (oms.domain.states), one audit row each."""

    SUBMIT = "SUBMIT"  # the order is stored (NEW)
    ACCEPT = "ACCEPT"  # passed pre-trade compliance
    REJECT = "REJECT"  # failed pre-trade compliance
    WORK = "WORK"  # the EMS started working it
    PARTIAL_FILL = "PARTIAL_FILL"
    FILL = "FILL"
    CANCEL_REQUEST = "CANCEL_REQUEST"  # asked while something is out at a venue
    CANCEL = "CANCEL"  # cancelled: at once, or confirmed by the EMS
    CANCEL_REJECT = "CANCEL_REJECT"  # the EMS could not cancel: back to where it was
    EXPIRE = "EXPIRE"
    AMEND = "AMEND"  # quantity or limit price changed, after compliance passed the new terms
    AMEND_REJECT = "AMEND_REJECT"  # compliance refused the new terms: the order stays as it was


# Human labels where the value alone reads badly; keyed by enum type, because StrEnum members
# of different types with the same value (VenueKind.DARK, Strategy.DARK) are equal.
LABELS: Final[dict[type[StrEnum], dict[str, str]]] = {
    OptionRight: {"C": "Call", "P": "Put"},
    VenueKind: {"LIT": "Lit exchange", "DARK": "Dark pool", "RFQ": "RFQ platform"},
    Strategy: {
        "DIRECT": "Direct sweep",
        "DARK": "Dark midpoint",
        "IS": "Implementation shortfall",
        "ICEBERG": "Iceberg",
        "TWAP": "TWAP",
        "VWAP": "VWAP",
        "POV": "POV",
        "RFQ": "RFQ",
    },
}


def label(member: StrEnum) -> str:
    """A member's human label: 'Lit exchange', 'Partially filled', 'VWAP'."""
    return LABELS.get(type(member), {}).get(member.value) or member.value.replace("_", " ").capitalize()


# One trading day in seconds: daily volatility and ADV are per trading day, so a horizon is
# a fraction of *this* day. A US equity session is 6.5 hours; crypto trades around the clock.
EQUITY_SESSION_SECONDS: Final = 6.5 * 3600
TRADING_DAY_SECONDS: Final[dict[AssetClass, float]] = {
    AssetClass.EQUITY: EQUITY_SESSION_SECONDS,
    AssetClass.OPTION: EQUITY_SESSION_SECONDS,
    AssetClass.CRYPTO: 24 * 3600.0,
}

E = TypeVar("E", bound=StrEnum)


def parse_enum(enum_type: type[E], value: object, field_name: str) -> E:
    """Turn a string (or member) into a member, with an error that names the field."""
    try:
        return enum_type(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_type)
        raise ValueError(f"{field_name}={value!r} is not one of: {allowed}") from None


class ExecutionStatus(StrEnum):
    """An execution (the EMS working one parent order): ems.domain.states."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    COMPLETING = "COMPLETING"  # winding down: open child orders are being cancelled
    DONE = "DONE"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"


class ExecutionEventType(StrEnum):
    START = "START"
    PAUSE = "PAUSE"
    RESUME = "RESUME"
    SWITCH = "SWITCH"  # the strategy changed while running (sor.domain.reevaluate)
    COMPLETE = "COMPLETE"  # wind down: cancel what is open, then finish
    FINISH = "FINISH"  # nothing open any more: done
    CANCEL = "CANCEL"  # nothing open any more: cancelled
    FAIL = "FAIL"
    AMEND = "AMEND"  # the parent's quantity or limit changed: the execution follows


class BlockStatus(StrEnum):
    FORMED = "FORMED"  # members chosen, not worked yet
    WORKING = "WORKING"  # one execution works it
    CLOSED = "CLOSED"  # its execution ended (or it was dissolved before one started)


class BlockEventType(StrEnum):
    WORK = "WORK"
    CLOSE = "CLOSE"


class BlockAllocationMode(StrEnum):
    PRO_RATA = "PRO_RATA"  # every fill allocated as it arrives, pro rata to remaining quantity
    AVERAGE_PRICE = "AVERAGE_PRICE"  # allocated at the end of the execution at the block's average price


class ChildOrderStatus(StrEnum):
    NEW = "NEW"  # written by the tick (outbox), maybe not sent yet
    SENT = "SENT"
    ACKED = "ACKED"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCEL_PENDING = "CANCEL_PENDING"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"


class ChildOrderEventType(StrEnum):
    SEND = "SEND"
    ACK = "ACK"
    PARTIAL_FILL = "PARTIAL_FILL"
    FILL = "FILL"
    REJECT = "REJECT"
    CANCEL_REQUEST = "CANCEL_REQUEST"
    CANCEL = "CANCEL"
    CANCEL_REJECT = "CANCEL_REJECT"


class RfqStatus(StrEnum):
    """A request for quote: rfq.domain.states."""

    DRAFT = "DRAFT"
    SENT = "SENT"
    QUOTING = "QUOTING"
    EXECUTED = "EXECUTED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"


class RfqEventType(StrEnum):
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


class QuoteEventType(StrEnum):
    RECEIVE = "RECEIVE"
    REPLACE = "REPLACE"
    WITHDRAW = "WITHDRAW"
    EXPIRE = "EXPIRE"
    EXECUTE = "EXECUTE"
    LAST_LOOK_REJECT = "LAST_LOOK_REJECT"
    CLOSE = "CLOSE"


class RfqExecutionMode(StrEnum):
    ALL_OR_NONE = "ALL_OR_NONE"  # the whole size from one quote, every leg or none
    ANY_PART_OF = "ANY_PART_OF"  # several quotes may fill parts (packages issue)


class RfqOutcome(StrEnum):
    """What the trader is told about an RFQ."""

    PENDING = "PENDING"
    FILLED = "FILLED"
    LAST_LOOK_REJECTED = "LAST_LOOK_REJECTED"
    EXPIRED = "EXPIRED"
    NO_QUOTES = "NO_QUOTES"
    CANCELLED = "CANCELLED"


class CashMovementKind(StrEnum):
    """How cash enters or leaves a portfolio other than by a fill (oms.models.CashMovement)."""

    DEPOSIT = "DEPOSIT"
    WITHDRAWAL = "WITHDRAWAL"
    FEE_ADJUSTMENT = "FEE_ADJUSTMENT"
    CORRECTION = "CORRECTION"  # reverses or amends an earlier movement; never an edit of it
    OPENING = "OPENING"  # the opening balance a portfolio was created with


class ReconciliationCheck(StrEnum):
    """What a reconciliation compares (oms.reconciliation): a break names one of these."""

    POSITION = "POSITION"  # a position's quantity vs its opening holding plus its fills
    CASH = "CASH"  # a portfolio's cash vs its movements plus its fills
    ORDER_FILLED = "ORDER_FILLED"  # an order's filled quantity vs its applied fills


class ConsoleAction(StrEnum):
    """What an admin did in the console (core.models.ConsoleChange)."""

    ADD = "ADD"
    CHANGE = "CHANGE"
    DELETE = "DELETE"
    EXPORT = "EXPORT"
    RECONCILE = "RECONCILE"
    DISABLE = "DISABLE"


LABELS[CashMovementKind] = {"FEE_ADJUSTMENT": "Fee adjustment", "OPENING": "Opening balance"}
