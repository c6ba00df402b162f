from decimal import Decimal as D

import pytest

from core.errors import DomainError
from rfq.domain.best_execution import improvement
from rfq.domain.ladder import LadderQuote, bps_from_mid, ladder, meets_threshold
from rfq.domain.legs import Leg, leg_fills


def q(i, bid, ask, size="100", received=0.0, valid=10.0, provider=None):
    return LadderQuote(
        i, provider or f"LP{i}", D(bid) if bid else None, D(ask) if ask else None, D(size), received, valid
    )


def test_buy_ladder_lowest_ask_first_then_size_then_time():
    quotes = [
        q(1, "99.90", "100.10", received=1.0),
        q(2, "99.95", "100.05", received=2.0),
        q(3, "99.90", "100.10", size="200", received=3.0),
        q(4, "99.90", "100.10", received=0.5),
    ]
    rows = ladder(quotes, client_side="BUY", mid=D("100.00"), now=5.0)
    assert [r.quote for r in rows] == [2, 3, 4, 1]
    assert [r.bps_from_mid for r in rows] == [D("5.00"), D("10.00"), D("10.00"), D("10.00")]
    assert rows[0].time_left == 5.0 and rows[0].price == D("100.05")


def test_sell_ladder_highest_bid_first_and_cost_sign():
    rows = ladder([q(1, "99.90", "100.1"), q(2, "99.98", "100.2")], client_side="SELL", mid=D("100"), now=0.0)
    assert [(r.quote, r.price, r.bps_from_mid) for r in rows] == [
        (2, D("99.98"), D("2.00")),
        (1, D("99.90"), D("10.00")),
    ]


def test_expired_and_one_sided_quotes_leave_the_ladder():
    rows = ladder([q(1, None, "100.1"), q(2, "99", "101", valid=3.0)], client_side="SELL", mid=D("100"), now=3.0)
    assert rows == []


def test_a_quote_better_than_mid_has_negative_cost():
    assert bps_from_mid(D("99.99"), D("100"), "BUY") == D("-1.00")
    assert bps_from_mid(D("99.99"), None, "BUY") is None


@pytest.mark.parametrize(
    ("price", "side", "tp", "tb", "expected"),
    [
        ("100.05", "BUY", "100.05", None, True),
        ("100.06", "BUY", "100.05", None, False),
        ("99.95", "SELL", "99.95", None, True),
        ("99.94", "SELL", "99.95", None, False),
        ("100.05", "BUY", None, "5", True),
        ("100.06", "BUY", None, "5", False),
        ("100.05", "BUY", None, None, False),
    ],
)
def test_threshold(price, side, tp, tb, expected):
    assert (
        meets_threshold(
            D(price),
            client_side=side,
            mid=D("100"),
            threshold_price=D(tp) if tp else None,
            threshold_bps=D(tb) if tb else None,
        )
        is expected
    )


def test_improvement_vs_mid_and_second_best():
    imp = improvement(price=D("100.05"), client_side="BUY", mid=D("100"), second_best=D("100.08"))
    assert (imp.vs_mid, imp.vs_mid_bps, imp.vs_second, imp.vs_second_bps) == (
        D("-0.05"),
        D("-5.00"),
        D("0.03"),
        D("3.00"),
    )
    sell = improvement(price=D("99.97"), client_side="SELL", mid=D("100"), second_best=None)
    assert (sell.vs_mid_bps, sell.vs_second, sell.vs_second_bps) == (D("-3.00"), None, None)


def test_single_leg_fills_the_whole_quantity_at_the_net_price():
    assert leg_fills([Leg(0, "BUY", D(1))], quantity=D("500"), net_price=D("101.25"))[0].price == D("101.25")
    with pytest.raises(DomainError):
        leg_fills([Leg(0, "BUY", D(1)), Leg(1, "SELL", D(1))], quantity=D(1), net_price=D(1))
