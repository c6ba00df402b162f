"""FIX 4.4 order entry as plain data: incoming messages (a {tag: value} dict) to the
requests the OMS commands take, and the OMS order (a snapshot) to the ExecutionReports a
client is owed. Pure (standard library and the OMS's pure core): the engine adapter
(fix.acceptor) converts QuickFIX messages to dicts and back, and calls the services.

`reports_due` is the heart of it: given what the client was last told about an order and
the order as it stands (with the fills applied since), the ExecutionReports that bring the
client up to date, each with CumQty, LeavesQty and AvgPx as the OMS record has them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Final

from core.decimals import price as round_price
from oms.domain import positions

# Tags (FIX 4.4)
AVG_PX, CL_ORD_ID, CUM_QTY, EXEC_ID, LAST_PX, LAST_QTY, MSG_SEQ_NUM, MSG_TYPE = 6, 11, 14, 17, 31, 32, 34, 35
ORDER_ID, ORDER_QTY, ORD_STATUS, ORD_TYPE, ORIG_CL_ORD_ID, POSS_DUP, PRICE = 37, 38, 39, 40, 41, 43, 44
REF_SEQ_NUM, SIDE, SYMBOL, TEXT, TIME_IN_FORCE, TRANSACT_TIME, POSS_RESEND = 45, 54, 55, 58, 59, 60, 97
CXL_REJ_REASON, ORD_REJ_REASON, QUOTE_ID, EXEC_TYPE, LEAVES_QTY, REF_MSG_TYPE = 102, 103, 117, 150, 151, 372
BUSINESS_REJECT_REASON, BUSINESS_REJECT_REF_ID, CXL_REJ_RESPONSE_TO, USERNAME, PASSWORD = 380, 379, 434, 553, 554
ACCOUNT = 1

NEW_ORDER_SINGLE, ORDER_CANCEL, ORDER_REPLACE, EXECUTION_REPORT, CANCEL_REJECT = "D", "F", "G", "8", "9"
BUSINESS_MESSAGE_REJECT = "j"

# ExecType (150)
EXEC_NEW, EXEC_CANCELED, EXEC_REPLACED, EXEC_PENDING_CANCEL, EXEC_REJECTED = "0", "4", "5", "6", "8"
EXEC_EXPIRED, EXEC_RESTATED, EXEC_TRADE, EXEC_STATUS = "C", "D", "F", "I"
# OrdRejReason (103)
REJ_BROKER, REJ_UNKNOWN_SYMBOL, REJ_EXCEEDS_LIMIT, REJ_DUPLICATE, REJ_OTHER = "0", "1", "3", "6", "99"
# CxlRejReason (102) and CxlRejResponseTo (434)
CXL_TOO_LATE, CXL_UNKNOWN_ORDER, CXL_OTHER = "0", "1", "99"
CXL_RESPONSE_CANCEL, CXL_RESPONSE_REPLACE = "1", "2"

SIDES: Final = {"1": "BUY", "2": "SELL"}
SIDE_CODES: Final = {v: k for k, v in SIDES.items()}
MARKET, LIMIT, PREVIOUSLY_QUOTED = "1", "2", "D"

# The OMS's order status as OrdStatus (39).
ORD_STATUS_OF: Final = {
    "NEW": "0",
    "ACCEPTED": "0",
    "WORKING": "0",
    "PARTIALLY_FILLED": "1",
    "FILLED": "2",
    "CANCEL_PENDING": "6",
    "CANCELLED": "4",
    "REJECTED": "8",
    "EXPIRED": "C",
}
TERMINAL: Final = frozenset({"FILLED", "CANCELLED", "REJECTED", "EXPIRED"})

Fields = list[tuple[int, str]]


def number(value: Decimal | None) -> str:
    """A decimal as FIX writes it: plain digits, no exponent, no trailing zeros."""
    if value is None:
        return "0"
    text = f"{Decimal(value).normalize():f}"
    return "0" if text in ("-0", "") else text


class Refused(Exception):
    """A request that cannot be taken as it stands: answered with a reject, never raised to the engine."""

    def __init__(self, text: str, reason: str = REJ_OTHER):
        super().__init__(text)
        self.text, self.reason = text, reason


def _required(fields: dict[int, str], tag: int, name: str) -> str:
    value = (fields.get(tag) or "").strip()
    if not value:
        raise Refused(f"{name} ({tag}) is required")
    return value


def _decimal(fields: dict[int, str], tag: int, name: str, *, required: bool = True) -> Decimal | None:
    raw = (fields.get(tag) or "").strip()
    if not raw:
        if required:
            raise Refused(f"{name} ({tag}) is required")
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise Refused(f"{name} ({tag}) is not a number: {raw!r}") from None
    if not value.is_finite() or value <= 0:
        raise Refused(f"{name} ({tag}) must be positive: {raw!r}")
    return value


def is_poss_dup(fields: dict[int, str]) -> bool:
    return fields.get(POSS_DUP) == "Y" or fields.get(POSS_RESEND) == "Y"


@dataclass(frozen=True)
class NewOrder:
    cl_ord_id: str
    symbol: str
    side: str  # BUY | SELL
    quantity: Decimal
    limit_price: Decimal | None
    ord_type: str
    quote_id: str = ""


def new_order(fields: dict[int, str]) -> NewOrder:
    """A NewOrderSingle (D) as the OMS's terms, or Refused with the reason a client reads."""
    cl_ord_id = _required(fields, CL_ORD_ID, "ClOrdID")
    if len(cl_ord_id) > 64:
        raise Refused("ClOrdID (11) is longer than 64 characters")
    symbol = _required(fields, SYMBOL, "Symbol")
    side = SIDES.get(fields.get(SIDE, ""))
    if side is None:
        raise Refused(f"Side (54) must be 1 (buy) or 2 (sell), not {fields.get(SIDE)!r}")
    quantity = _decimal(fields, ORDER_QTY, "OrderQty")
    ord_type = fields.get(ORD_TYPE, "")
    if ord_type == LIMIT:
        limit_price = _decimal(fields, PRICE, "Price")
    elif ord_type == MARKET:
        if fields.get(PRICE):
            raise Refused("a market order (40=1) takes no Price (44)")
        limit_price = None
    else:
        raise Refused(f"OrdType (40) must be 1 (market) or 2 (limit), not {ord_type!r}")
    return NewOrder(cl_ord_id, symbol, side, quantity, limit_price, ord_type)


@dataclass(frozen=True)
class CancelRequest:
    cl_ord_id: str
    orig_cl_ord_id: str


@dataclass(frozen=True)
class ReplaceRequest:
    cl_ord_id: str
    orig_cl_ord_id: str
    quantity: Decimal
    limit_price: Decimal | None
    ord_type: str


def cancel_request(fields: dict[int, str]) -> CancelRequest:
    return CancelRequest(_required(fields, CL_ORD_ID, "ClOrdID"), _required(fields, ORIG_CL_ORD_ID, "OrigClOrdID"))


def replace_request(fields: dict[int, str]) -> ReplaceRequest:
    cl_ord_id = _required(fields, CL_ORD_ID, "ClOrdID")
    orig = _required(fields, ORIG_CL_ORD_ID, "OrigClOrdID")
    quantity = _decimal(fields, ORDER_QTY, "OrderQty")
    ord_type = fields.get(ORD_TYPE, "")
    if ord_type not in (MARKET, LIMIT):
        raise Refused(f"OrdType (40) must be 1 (market) or 2 (limit), not {ord_type!r}")
    limit_price = _decimal(fields, PRICE, "Price") if ord_type == LIMIT else None
    return ReplaceRequest(cl_ord_id, orig, quantity, limit_price, ord_type)


# --------------------------------------------------------------------------- outgoing


@dataclass(frozen=True)
class Snapshot:
    """An OMS order as a client's report sees it."""

    order_id: int
    symbol: str
    side: str
    quantity: Decimal
    limit_price: Decimal | None
    status: str
    cum_qty: Decimal
    avg_px: Decimal | None


@dataclass(frozen=True)
class Fill:
    fill_row_id: int
    fill_id: str
    quantity: Decimal
    price: Decimal


@dataclass(frozen=True)
class Reported:
    """What the client was last told about an order (persisted per order by the adapter)."""

    cl_ord_id: str
    status: str
    cum_qty: Decimal
    avg_px: Decimal | None
    quantity: Decimal
    limit_price: Decimal | None
    last_fill_row_id: int = 0
    # A cancel the client asked for over FIX and the OMS has not answered yet.
    pending_cl_ord_id: str = ""
    pending_orig_cl_ord_id: str = ""


def execution_report(
    snap: Snapshot,
    *,
    cl_ord_id: str,
    exec_id: str,
    exec_type: str,
    ord_status: str | None = None,
    orig_cl_ord_id: str = "",
    cum_qty: Decimal | None = None,
    avg_px: Decimal | None = None,
    last_qty: Decimal | None = None,
    last_px: Decimal | None = None,
    text: str = "",
    rej_reason: str = "",
) -> Fields:
    """One ExecutionReport (8). LeavesQty is what is still working: zero once the order is done."""
    status = ord_status or ORD_STATUS_OF[snap.status]
    cum = snap.cum_qty if cum_qty is None else cum_qty
    avg = snap.avg_px if avg_px is None else avg_px
    done = status in ("2", "4", "8", "C")
    fields: Fields = [
        (ORDER_ID, str(snap.order_id)),
        (CL_ORD_ID, cl_ord_id),
    ]
    if orig_cl_ord_id:
        fields.append((ORIG_CL_ORD_ID, orig_cl_ord_id))
    fields += [
        (EXEC_ID, exec_id),
        (EXEC_TYPE, exec_type),
        (ORD_STATUS, status),
        (SYMBOL, snap.symbol),
        (SIDE, SIDE_CODES[snap.side]),
        (ORDER_QTY, number(snap.quantity)),
        (ORD_TYPE, LIMIT if snap.limit_price is not None else MARKET),
    ]
    if snap.limit_price is not None:
        fields.append((PRICE, number(snap.limit_price)))
    if last_qty is not None:
        fields += [(LAST_QTY, number(last_qty)), (LAST_PX, number(last_px))]
    fields += [
        (LEAVES_QTY, "0" if done else number(max(snap.quantity - cum, Decimal(0)))),
        (CUM_QTY, number(cum)),
        (AVG_PX, number(avg or Decimal(0))),
    ]
    if rej_reason:
        fields.append((ORD_REJ_REASON, rej_reason))
    if text:
        fields.append((TEXT, text[:500]))
    return fields


def rejected_new_order(
    fields: dict[int, str], *, exec_id: str, text: str, reason: str, order_id: str = "NONE"
) -> Fields:
    """An ExecutionReport rejecting a NewOrderSingle no order was stored for (unknown symbol, malformed)."""
    out: Fields = [
        (ORDER_ID, order_id),
        (CL_ORD_ID, fields.get(CL_ORD_ID) or "NONE"),
        (EXEC_ID, exec_id),
        (EXEC_TYPE, EXEC_REJECTED),
        (ORD_STATUS, "8"),
        (SYMBOL, fields.get(SYMBOL) or "NONE"),
        (SIDE, fields.get(SIDE) if fields.get(SIDE) in SIDES else "1"),
        (LEAVES_QTY, "0"),
        (CUM_QTY, "0"),
        (AVG_PX, "0"),
        (ORD_REJ_REASON, reason),
        (TEXT, text[:500]),
    ]
    return out


def cancel_reject(
    *,
    cl_ord_id: str,
    orig_cl_ord_id: str,
    order_id: str,
    ord_status: str,
    response_to: str,
    reason: str,
    text: str,
) -> Fields:
    """An OrderCancelReject (9): the cancel or replace cannot be done; the order is as it was."""
    return [
        (ORDER_ID, order_id or "NONE"),
        (CL_ORD_ID, cl_ord_id or "NONE"),
        (ORIG_CL_ORD_ID, orig_cl_ord_id or "NONE"),
        (ORD_STATUS, ord_status),
        (CXL_REJ_RESPONSE_TO, response_to),
        (CXL_REJ_REASON, reason),
        (TEXT, text[:500]),
    ]


def business_reject(*, ref_seq_num: str, ref_msg_type: str, text: str, reason: str = "0") -> Fields:
    """A BusinessMessageReject (j): the message was taken by the session but cannot be processed."""
    return [
        (REF_SEQ_NUM, ref_seq_num or "0"),
        (REF_MSG_TYPE, ref_msg_type or "?"),
        (BUSINESS_REJECT_REASON, reason),
        (TEXT, text[:500]),
    ]


def reported_now(snap: Snapshot, *, cl_ord_id: str, last_fill_row_id: int = 0) -> Reported:
    return Reported(
        cl_ord_id=cl_ord_id,
        status=snap.status,
        cum_qty=snap.cum_qty,
        avg_px=snap.avg_px,
        quantity=snap.quantity,
        limit_price=snap.limit_price,
        last_fill_row_id=last_fill_row_id,
    )


@dataclass
class Due:
    """The reports a client is owed, and what it will have been told once they are sent."""

    messages: list[tuple[str, Fields]] = field(default_factory=list)  # (MsgType, fields)
    reported: Reported | None = None


def reports_due(reported: Reported, snap: Snapshot, fills: list[Fill], *, exec_id_prefix: str) -> Due:
    """The ExecutionReports (and an OrderCancelReject, when a cancel asked over FIX was
    refused by the EMS) that take the client from `reported` to `snap`. `fills` are the
    order's applied fills after `reported.last_fill_row_id`, oldest first. One report per
    fill (ExecType F), CumQty and AvgPx accumulated as the OMS does, the last one exactly
    the order's; then one for the status reached if it is not a fill's own (Canceled,
    Expired, Pending Cancel, Restated for terms changed outside FIX)."""
    due = Due()
    cum, avg = reported.cum_qty, reported.avg_px
    cl = reported.cl_ord_id
    last_row = reported.last_fill_row_id
    for index, fill in enumerate(fills):
        avg = round_price(positions.average_price(cum, avg, fill.quantity, fill.price))
        cum += fill.quantity
        last = index == len(fills) - 1
        if last and cum == snap.cum_qty:
            avg = snap.avg_px  # exactly the OMS record
        if cum >= snap.quantity:
            status = "2"
        elif last and snap.status in ("PARTIALLY_FILLED", "CANCEL_PENDING"):
            status = ORD_STATUS_OF[snap.status]
        else:
            status = "6" if snap.status == "CANCEL_PENDING" else "1"
        due.messages.append(
            (
                EXECUTION_REPORT,
                execution_report(
                    snap,
                    cl_ord_id=cl,
                    exec_id=f"{exec_id_prefix}-F{fill.fill_row_id}",
                    exec_type=EXEC_TRADE,
                    ord_status=status,
                    cum_qty=cum,
                    avg_px=avg,
                    last_qty=fill.quantity,
                    last_px=fill.price,
                ),
            )
        )
        last_row = fill.fill_row_id
    pending, pending_orig = reported.pending_cl_ord_id, reported.pending_orig_cl_ord_id
    status_id = f"{exec_id_prefix}-S{last_row}-{snap.status}"
    if (snap.quantity, snap.limit_price) != (reported.quantity, reported.limit_price) and snap.status not in TERMINAL:
        due.messages.append(
            (
                EXECUTION_REPORT,
                execution_report(
                    snap,
                    cl_ord_id=cl,
                    exec_id=f"{status_id}-{number(snap.quantity)}-{number(snap.limit_price)}",
                    exec_type=EXEC_RESTATED,
                    text="terms changed",
                ),
            )
        )
    if snap.status != reported.status:
        if snap.status == "CANCELLED":
            due.messages.append(
                (
                    EXECUTION_REPORT,
                    execution_report(
                        snap,
                        cl_ord_id=pending or cl,
                        orig_cl_ord_id=pending_orig if pending else "",
                        exec_id=status_id,
                        exec_type=EXEC_CANCELED,
                    ),
                )
            )
            if pending:
                cl, pending, pending_orig = pending, "", ""
        elif snap.status == "EXPIRED":
            due.messages.append(
                (
                    EXECUTION_REPORT,
                    execution_report(snap, cl_ord_id=cl, exec_id=status_id, exec_type=EXEC_EXPIRED),
                )
            )
        elif snap.status == "CANCEL_PENDING":
            due.messages.append(
                (
                    EXECUTION_REPORT,
                    execution_report(
                        snap,
                        cl_ord_id=pending or cl,
                        orig_cl_ord_id=pending_orig if pending else "",
                        exec_id=status_id,
                        exec_type=EXEC_PENDING_CANCEL,
                    ),
                )
            )
        elif reported.status == "CANCEL_PENDING" and pending:
            # The EMS refused the cancel (or a fill completed the order first).
            due.messages.append(
                (
                    CANCEL_REJECT,
                    cancel_reject(
                        cl_ord_id=pending,
                        orig_cl_ord_id=pending_orig,
                        order_id=str(snap.order_id),
                        ord_status=ORD_STATUS_OF[snap.status],
                        response_to=CXL_RESPONSE_CANCEL,
                        reason=CXL_TOO_LATE,
                        text="filled before the cancel" if snap.status == "FILLED" else "the venue refused the cancel",
                    ),
                )
            )
            pending, pending_orig = "", ""
    due.reported = replace(
        reported_now(snap, cl_ord_id=cl, last_fill_row_id=last_row),
        pending_cl_ord_id=pending,
        pending_orig_cl_ord_id=pending_orig,
    )
    return due
