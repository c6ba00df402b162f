"""The venue gateway's commands and reports (marketdata.venue documents the dicts) as FIX 4.4
messages, both ways: the EMS side (fix.venue.VenueConnector) turns commands into
NewOrderSingle / OrderCancelRequest and ExecutionReports back into reports; the simulator's
FIX front (fix.venue.SimulatorFront) does the reverse. Pure: plain dicts in and out.

The venue's execution id travels as ExecID (17), so a report repeated for any reason (a
PossDup resend after a reconnect) repeats its id and the EMS applies it once. The report's
own figures (quantity, price, fee, liquidity, ts) travel exactly as the venue wrote them:
LastQty/LastPx/Commission for a fill, and user-defined tags for what FIX has no field for."""

from __future__ import annotations

from typing import Final

from fix.mapping import (
    AVG_PX,
    CL_ORD_ID,
    CUM_QTY,
    EXEC_ID,
    EXEC_TYPE,
    LAST_PX,
    LAST_QTY,
    LEAVES_QTY,
    ORD_STATUS,
    ORD_TYPE,
    ORDER_ID,
    ORDER_QTY,
    ORIG_CL_ORD_ID,
    PRICE,
    SIDE,
    SYMBOL,
    TEXT,
    Fields,
)

EX_DESTINATION, EXEC_INST, TIME_IN_FORCE, COMMISSION, LAST_MKT = 100, 18, 59, 12, 30
# User-defined tags (5000-9999) for the report's figures FIX has no field for.
LIQUIDITY, VENUE_TS, REPORT_QUANTITY = 5001, 5002, 5003

EXEC_TYPE_OF: Final = {"ACKED": "0", "FILLED": "F", "CANCELLED": "4", "REJECTED": "8"}
REPORT_TYPE_OF: Final = {v: k for k, v in EXEC_TYPE_OF.items()}
ORD_TYPE_OF: Final = {"MARKET": "1", "LIMIT": "2", "DARK": "P"}  # DARK: pegged to the mid (ExecInst M)
CHILD_TYPE_OF: Final = {"1": "MARKET", "2": "LIMIT", "P": "DARK"}
SIDE_OF: Final = {"BUY": "1", "SELL": "2"}
SIDE_NAME: Final = {"1": "BUY", "2": "SELL"}


def _opt(value) -> str:
    return "" if value in (None, "") else str(value)


def new_order_fields(command: dict) -> Fields:
    """A NEW command as a NewOrderSingle (D)."""
    child_type = command["child_type"]
    fields: Fields = [
        (CL_ORD_ID, command["client_order_id"]),
        (SYMBOL, command["symbol"]),
        (SIDE, SIDE_OF[command["side"]]),
        (ORDER_QTY, str(command["quantity"])),
        (ORD_TYPE, ORD_TYPE_OF[child_type]),
        (EX_DESTINATION, command["venue"]),
    ]
    if command.get("limit_price") not in (None, ""):
        fields.append((PRICE, str(command["limit_price"])))
    if child_type == "MARKET":
        fields.append((TIME_IN_FORCE, "3"))  # immediate or cancel, as the venue treats it
    if child_type == "DARK":
        fields.append((EXEC_INST, "M"))
    return fields


def cancel_fields(command: dict, *, symbol: str = "", side: str = "BUY", quantity: str = "0") -> Fields:
    """A CANCEL command as an OrderCancelRequest (F); its own ClOrdID derived from the order's."""
    coid = command["client_order_id"]
    return [
        (ORIG_CL_ORD_ID, coid),
        (CL_ORD_ID, f"{coid}:C"),
        (SYMBOL, symbol or command.get("symbol") or "NONE"),
        (SIDE, SIDE_OF.get(side, "1")),
        (ORDER_QTY, quantity or "0"),
        (EX_DESTINATION, command.get("venue", "")),
    ]


def command_of(msg_type: str, fields: dict[int, str]) -> dict:
    """The venue side: a NewOrderSingle or OrderCancelRequest as the venue's command."""
    if msg_type == "F":
        return {"type": "CANCEL", "client_order_id": fields[ORIG_CL_ORD_ID]}
    return {
        "type": "NEW",
        "client_order_id": fields[CL_ORD_ID],
        "symbol": fields[SYMBOL],
        "venue": fields.get(EX_DESTINATION, ""),
        "side": SIDE_NAME[fields[SIDE]],
        "child_type": CHILD_TYPE_OF[fields[ORD_TYPE]],
        "quantity": fields[ORDER_QTY],
        "limit_price": fields.get(PRICE) or None,
    }


def report_fields(report: dict, *, side: str, order_qty: str, cum_qty: str, avg_px: str, leaves: str) -> Fields:
    """The venue side: one report as an ExecutionReport (8). The order's running figures
    (side, quantities, average) are the front's, which FIX requires on every report."""
    kind = report["type"]
    status = {"ACKED": "0", "REJECTED": "8", "CANCELLED": "4"}.get(kind)
    if kind == "FILLED":
        status = "2" if leaves in ("0", "0.0") else "1"
    fields: Fields = [
        (ORDER_ID, report["client_order_id"]),
        (CL_ORD_ID, report["client_order_id"]),
        (EXEC_ID, report["exec_id"]),
        (EXEC_TYPE, EXEC_TYPE_OF[kind]),
        (ORD_STATUS, status),
        (SYMBOL, report.get("symbol") or "NONE"),
        (SIDE, SIDE_OF.get(side, "1")),
        (ORDER_QTY, order_qty or "0"),
        (LEAVES_QTY, leaves or "0"),
        (CUM_QTY, cum_qty or "0"),
        (AVG_PX, avg_px or "0"),
        (LAST_MKT, report.get("venue") or ""),
        (VENUE_TS, repr(float(report.get("ts") or 0))),
    ]
    if kind == "FILLED":
        fields += [
            (LAST_QTY, report["quantity"]),
            (LAST_PX, report["price"]),
            (COMMISSION, _opt(report.get("fee")) or "0"),
        ]
        if report.get("liquidity"):
            fields.append((LIQUIDITY, report["liquidity"]))
    elif report.get("quantity") not in (None, ""):
        fields.append((REPORT_QUANTITY, str(report["quantity"])))
    if report.get("reason"):
        fields.append((TEXT, report["reason"][:200]))
    return [(tag, value) for tag, value in fields if value != ""]


def report_of(fields: dict[int, str]) -> dict | None:
    """The EMS side: an ExecutionReport as the venue's report dict (None for an ExecType the
    gateway does not carry)."""
    kind = REPORT_TYPE_OF.get(fields.get(EXEC_TYPE, ""))
    if kind is None:
        return None
    filled = kind == "FILLED"
    return {
        "type": kind,
        "exec_id": fields[EXEC_ID],
        "client_order_id": fields[CL_ORD_ID],
        "venue": fields.get(LAST_MKT, ""),
        "symbol": fields.get(SYMBOL, ""),
        "quantity": fields.get(LAST_QTY) if filled else fields.get(REPORT_QUANTITY),
        "price": fields.get(LAST_PX) if filled else None,
        "fee": fields.get(COMMISSION) if filled else None,
        "liquidity": fields.get(LIQUIDITY, ""),
        "reason": fields.get(TEXT, ""),
        "ts": float(fields.get(VENUE_TS) or 0),
    }
