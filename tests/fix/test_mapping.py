"""fix.mapping without a database or an engine: incoming messages to the OMS's terms, and
the reports owed for every way an order moves."""

from decimal import Decimal as D

import pytest

from fix import mapping as m


def fields(**kw) -> dict[int, str]:
    base = {m.CL_ORD_ID: "C1", m.SYMBOL: "AAPL", m.SIDE: "1", m.ORDER_QTY: "100", m.ORD_TYPE: "2", m.PRICE: "190.5"}
    base.update({getattr(m, k.upper()): v for k, v in kw.items()})
    return {k: v for k, v in base.items() if v is not None}


def as_dict(out: m.Fields) -> dict[int, str]:
    return dict(out)


def test_new_order_limit_and_market():
    assert m.new_order(fields()) == m.NewOrder("C1", "AAPL", "BUY", D("100"), D("190.5"), "2")
    market = m.new_order(fields(side="2", ord_type="1", price=None))
    assert (market.side, market.limit_price, market.ord_type) == ("SELL", None, "1")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cl_ord_id": None}, "ClOrdID (11) is required"),
        ({"symbol": ""}, "Symbol (55) is required"),
        ({"side": "7"}, "Side (54) must be 1 (buy) or 2 (sell)"),
        ({"order_qty": "abc"}, "OrderQty (38) is not a number"),
        ({"order_qty": "-5"}, "OrderQty (38) must be positive"),
        ({"order_qty": "NaN"}, "OrderQty (38) must be positive"),
        ({"ord_type": "3"}, "OrdType (40) must be 1 (market) or 2 (limit)"),
        ({"price": None}, "Price (44) is required"),
        ({"ord_type": "1"}, "a market order (40=1) takes no Price (44)"),
        ({"cl_ord_id": "x" * 65}, "ClOrdID (11) is longer than 64 characters"),
    ],
)
def test_new_order_refusals(change, message):
    with pytest.raises(m.Refused) as refused:
        m.new_order(fields(**change))
    assert refused.value.text.startswith(message)


def test_cancel_and_replace_requests():
    assert m.cancel_request({11: "C2", 41: "C1"}) == m.CancelRequest("C2", "C1")
    with pytest.raises(m.Refused):
        m.cancel_request({11: "C2"})
    assert m.replace_request({11: "C3", 41: "C2", 38: "80", 40: "2", 44: "191"}) == m.ReplaceRequest(
        "C3", "C2", D("80"), D("191"), "2"
    )


def test_poss_dup():
    assert m.is_poss_dup({43: "Y"}) and m.is_poss_dup({97: "Y"}) and not m.is_poss_dup({43: "N"})


def snap(status="ACCEPTED", cum="0", avg=None, qty="100", limit="190"):
    return m.Snapshot(
        order_id=7,
        symbol="AAPL",
        side="BUY",
        quantity=D(qty),
        limit_price=None if limit is None else D(limit),
        status=status,
        cum_qty=D(cum),
        avg_px=None if avg is None else D(avg),
    )


def test_execution_report_quantities():
    er = as_dict(
        m.execution_report(snap("PARTIALLY_FILLED", "40", "189.5"), cl_ord_id="C1", exec_id="E", exec_type="F")
    )
    assert (er[m.ORD_STATUS], er[m.CUM_QTY], er[m.LEAVES_QTY], er[m.AVG_PX], er[m.PRICE]) == (
        "1",
        "40",
        "60",
        "189.5",
        "190",
    )
    done = as_dict(m.execution_report(snap("CANCELLED", "40", "189.5"), cl_ord_id="C1", exec_id="E", exec_type="4"))
    assert (done[m.ORD_STATUS], done[m.LEAVES_QTY]) == ("4", "0")
    market = as_dict(m.execution_report(snap(limit=None), cl_ord_id="C1", exec_id="E", exec_type="0"))
    assert market[m.ORD_TYPE] == "1" and m.PRICE not in market


def test_number_formatting():
    assert [m.number(D(x)) for x in ("100.00000000", "0.00010000", "1E+3", "0E-8")] == ["100", "0.0001", "1000", "0"]


def reported(status="ACCEPTED", cum="0", avg=None, qty="100", limit="190", **kw):
    return m.Reported("C1", status, D(cum), None if avg is None else D(avg), D(qty), D(limit), **kw)


def test_fills_one_report_each_accumulated_and_the_last_exactly_the_oms():
    fills = [m.Fill(1, "f1", D("40"), D("189.5")), m.Fill(2, "f2", D("60"), D("190.123"))]
    now = snap("FILLED", "100", "189.8738")
    due = m.reports_due(reported(), now, fills, exec_id_prefix="7")
    reports = [as_dict(f) for _, f in due.messages]
    assert [(r[m.EXEC_TYPE], r[m.ORD_STATUS], r[m.LAST_QTY], r[m.CUM_QTY], r[m.LEAVES_QTY]) for r in reports] == [
        ("F", "1", "40", "40", "60"),
        ("F", "2", "60", "100", "0"),
    ]
    assert (reports[0][m.AVG_PX], reports[1][m.AVG_PX]) == ("189.5", "189.8738")
    assert len({r[m.EXEC_ID] for r in reports}) == 2
    assert due.reported == m.Reported("C1", "FILLED", D("100"), D("189.8738"), D("100"), D("190"), 2)


def test_nothing_changed_nothing_due():
    due = m.reports_due(reported("WORKING"), snap("WORKING"), [], exec_id_prefix="7")
    assert due.messages == []


def test_cancel_pending_then_cancelled_carries_the_cancel_clordid():
    pending = reported(pending_cl_ord_id="C2", pending_orig_cl_ord_id="C1")
    due = m.reports_due(pending, snap("CANCEL_PENDING"), [], exec_id_prefix="7")
    [(kind, er)] = due.messages
    er = as_dict(er)
    assert (kind, er[m.EXEC_TYPE], er[m.CL_ORD_ID], er[m.ORIG_CL_ORD_ID], er[m.ORD_STATUS]) == (
        "8",
        "6",
        "C2",
        "C1",
        "6",
    )
    due = m.reports_due(
        due.reported, snap("CANCELLED", "10", "190"), [m.Fill(3, "f", D("10"), D("190"))], exec_id_prefix="7"
    )
    kinds = [(as_dict(f)[m.EXEC_TYPE], as_dict(f)[m.CL_ORD_ID], as_dict(f)[m.ORD_STATUS]) for _, f in due.messages]
    assert kinds == [("F", "C1", "1"), ("4", "C2", "4")]
    assert (due.reported.cl_ord_id, due.reported.pending_cl_ord_id) == ("C2", "")


def test_cancel_refused_by_the_ems_is_an_order_cancel_reject():
    pending = reported("CANCEL_PENDING", pending_cl_ord_id="C2", pending_orig_cl_ord_id="C1")
    due = m.reports_due(pending, snap("WORKING"), [], exec_id_prefix="7")
    [(kind, body)] = due.messages
    body = as_dict(body)
    assert (kind, body[m.CL_ORD_ID], body[m.ORIG_CL_ORD_ID], body[m.CXL_REJ_RESPONSE_TO], body[m.ORD_STATUS]) == (
        "9",
        "C2",
        "C1",
        "1",
        "0",
    )
    assert due.reported.pending_cl_ord_id == ""


def test_a_fill_completing_a_pending_cancel_rejects_the_cancel():
    pending = reported("CANCEL_PENDING", pending_cl_ord_id="C2", pending_orig_cl_ord_id="C1")
    due = m.reports_due(pending, snap("FILLED", "100", "190"), [m.Fill(4, "f", D("100"), D("190"))], exec_id_prefix="7")
    assert [k for k, _ in due.messages] == ["8", "9"]
    assert as_dict(due.messages[1][1])[m.TEXT] == "filled before the cancel"


def test_expired_and_restated():
    due = m.reports_due(reported("WORKING"), snap("EXPIRED"), [], exec_id_prefix="7")
    assert [as_dict(f)[m.EXEC_TYPE] for _, f in due.messages] == ["C"]
    due = m.reports_due(reported("WORKING"), snap("WORKING", qty="80"), [], exec_id_prefix="7")
    [(_, er)] = due.messages
    assert (as_dict(er)[m.EXEC_TYPE], as_dict(er)[m.ORDER_QTY]) == ("D", "80")


def test_rejects():
    er = as_dict(
        m.rejected_new_order({11: "C9", 55: "ZZZ", 54: "2"}, exec_id="R1", text="unknown symbol ZZZ", reason="1")
    )
    assert (er[m.EXEC_TYPE], er[m.ORD_STATUS], er[m.ORD_REJ_REASON], er[m.SIDE]) == ("8", "8", "1", "2")
    bmr = as_dict(m.business_reject(ref_seq_num="5", ref_msg_type="R", text="no"))
    assert (bmr[m.REF_SEQ_NUM], bmr[m.REF_MSG_TYPE]) == ("5", "R")
