"""fix.venue_mapping: the venue gateway's commands and reports through FIX and back, unchanged."""

import pytest

from fix import venue_mapping as vm


def as_dict(fields):
    return dict(fields)


@pytest.mark.parametrize(
    "command",
    [
        {
            "client_order_id": "7-1",
            "symbol": "AAPL",
            "venue": "XNAS",
            "side": "BUY",
            "child_type": "LIMIT",
            "quantity": "100",
            "limit_price": "190.01",
        },
        {
            "client_order_id": "7-2",
            "symbol": "BTC-USD",
            "venue": "COINB",
            "side": "SELL",
            "child_type": "MARKET",
            "quantity": "0.5",
            "limit_price": None,
        },
        {
            "client_order_id": "7-3",
            "symbol": "MSFT",
            "venue": "DARK1",
            "side": "BUY",
            "child_type": "DARK",
            "quantity": "300",
            "limit_price": None,
        },
    ],
)
def test_a_new_order_arrives_as_the_same_command(command):
    fields = as_dict(vm.new_order_fields(command))
    assert vm.command_of("D", fields) == {"type": "NEW", **command}
    if command["child_type"] == "MARKET":
        assert fields[vm.TIME_IN_FORCE] == "3"
    if command["child_type"] == "DARK":
        assert (fields[40], fields[vm.EXEC_INST]) == ("P", "M")


def test_a_cancel_names_the_order():
    fields = as_dict(
        vm.cancel_fields({"client_order_id": "7-1", "venue": "XNAS"}, symbol="AAPL", side="SELL", quantity="100")
    )
    assert (fields[41], fields[11], fields[55], fields[54]) == ("7-1", "7-1:C", "AAPL", "2")
    assert vm.command_of("F", fields) == {"type": "CANCEL", "client_order_id": "7-1"}


REPORTS = [
    {
        "type": "ACKED",
        "exec_id": "7-1:A",
        "client_order_id": "7-1",
        "venue": "XNAS",
        "symbol": "AAPL",
        "quantity": None,
        "price": None,
        "fee": None,
        "liquidity": "",
        "reason": "",
        "ts": 1764620000.25,
    },
    {
        "type": "FILLED",
        "exec_id": "7-1:F1",
        "client_order_id": "7-1",
        "venue": "XNAS",
        "symbol": "AAPL",
        "quantity": "40.0",
        "price": "190.01",
        "fee": "0.38",
        "liquidity": "TAKER",
        "reason": "",
        "ts": 1764620000.5,
    },
    {
        "type": "CANCELLED",
        "exec_id": "7-1:X",
        "client_order_id": "7-1",
        "venue": "XNAS",
        "symbol": "AAPL",
        "quantity": "60.0",
        "price": None,
        "fee": None,
        "liquidity": "",
        "reason": "cancelled",
        "ts": 1764620001.0,
    },
    {
        "type": "REJECTED",
        "exec_id": "7-4:R",
        "client_order_id": "7-4",
        "venue": "XNAS",
        "symbol": "AAPL",
        "quantity": None,
        "price": None,
        "fee": None,
        "liquidity": "",
        "reason": "a LIMIT order needs a limit price",
        "ts": 1764620002.0,
    },
]


@pytest.mark.parametrize("report", REPORTS, ids=[r["type"] for r in REPORTS])
def test_a_report_arrives_as_the_same_report(report):
    fields = as_dict(
        vm.report_fields(report, side="BUY", order_qty="100.0", cum_qty="40.0", avg_px="190.01", leaves="60.0")
    )
    assert fields[17] == report["exec_id"]
    assert vm.report_of(fields) == report


def test_a_fill_completing_the_order_is_filled_status():
    fields = as_dict(
        vm.report_fields(REPORTS[1], side="BUY", order_qty="40.0", cum_qty="40.0", avg_px="190.01", leaves="0")
    )
    assert (fields[39], fields[150], fields[151]) == ("2", "F", "0")


def test_an_exec_type_the_gateway_does_not_carry():
    assert vm.report_of({150: "I", 17: "x", 11: "y"}) is None
