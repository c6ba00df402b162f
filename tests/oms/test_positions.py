from decimal import Decimal as D

from oms.domain.positions import PositionState, apply_trade, average_price

FLAT = PositionState(D(0), D(0), D(0))


def test_buys_average_the_cost():
    p = apply_trade(FLAT, side="BUY", quantity=D(100), price=D("10"), multiplier=D(1))
    p = apply_trade(p, side="BUY", quantity=D(300), price=D("14"), multiplier=D(1))
    assert (p.quantity, p.average_cost, p.realised_pnl) == (D(400), D(13), D(0))


def test_partial_sell_realises_against_average_cost():
    p = PositionState(D(400), D(13), D(0))
    p = apply_trade(p, side="SELL", quantity=D(100), price=D("15"), multiplier=D(1))
    assert (p.quantity, p.average_cost, p.realised_pnl) == (D(300), D(13), D(200))


def test_option_multiplier_scales_pnl():
    p = PositionState(D(10), D("6.00"), D(0))
    p = apply_trade(p, side="SELL", quantity=D(10), price=D("7.50"), multiplier=D(100))
    assert (p.quantity, p.average_cost, p.realised_pnl) == (D(0), D(0), D(1500))


def test_sell_through_zero_opens_a_short_at_the_trade_price():
    p = PositionState(D(100), D(10), D(0))
    p = apply_trade(p, side="SELL", quantity=D(150), price=D(12), multiplier=D(1))
    assert (p.quantity, p.average_cost, p.realised_pnl) == (D(-50), D(12), D(200))


def test_short_cover_realises_gain_when_price_falls():
    p = PositionState(D(-50), D(12), D(0))
    p = apply_trade(p, side="BUY", quantity=D(50), price=D(11), multiplier=D(1))
    assert (p.quantity, p.realised_pnl) == (D(0), D(50))


def test_average_price():
    assert average_price(D(0), None, D(10), D(5)) == D(5)
    assert average_price(D(10), D(5), D(30), D(9)) == D(8)
