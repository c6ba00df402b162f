"""Pure: a package's implied leg prices net to its quoted price exactly, to the tick, for every
template and custom ratios; any-part-of never fills more than the size and respects the
minimum trade amount and each maker's last look; the simulator's greeks and package spreads."""

import math
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import DomainError
from marketdata.sim import liquidity_providers as lps
from marketdata.sim.pricing import black_scholes, black_scholes_greeks
from oms.domain.packages import TEMPLATES
from rfq.domain.legs import (
    Leg,
    gross_premium,
    implied_leg_prices,
    leg_fills,
    model_mid,
    net_of,
    parts_best_first,
)

TICK = D("0.05")
# Model values per leg for each template's shape (strike rank 0, 1, 2; expiry rank 0, 1).
VALUES = {("C", 0, 0): D("10.1234"), ("C", 1, 0): D("6.8511"), ("C", 2, 0): D("4.0102"), ("C", 0, 1): D("12.4420")}
VALUES |= {("P", 0, 0): D("15.2233"), ("P", 1, 0): D("8.3012")}


def template_legs(name: str, *, sold: bool = False) -> list[Leg]:
    flip = {"BUY": "SELL", "SELL": "BUY"}
    return [
        Leg(i, flip[t.side] if sold else t.side, D(t.ratio), VALUES[(t.right, t.strike, t.expiry)])
        for i, t in enumerate(TEMPLATES[name])
    ]


@pytest.mark.parametrize("name", sorted(TEMPLATES))
@pytest.mark.parametrize("sold", [False, True])
@pytest.mark.parametrize("offset_ticks", [-40, -7, -1, 0, 1, 3, 11, 40])
def test_implied_leg_prices_net_to_the_quote_for_every_template(name, sold, offset_ticks):
    legs = template_legs(name, sold=sold)
    side = legs[0].side
    mid = model_mid(legs, side)
    net = (mid / TICK).to_integral_value() * TICK + offset_ticks * TICK
    prices = implied_leg_prices(legs, net_price=net, package_side=side, tick=TICK)
    assert net_of(legs, prices, side) == net  # exactly, to the tick
    assert all(p % TICK == 0 and p >= TICK for p in prices.values())
    fills = leg_fills(legs, quantity=D("500"), net_price=net, package_side=side, tick=TICK)
    assert [f.quantity for f in fills] == [D(500) * leg.ratio for leg in legs]
    signs = [1 if leg.side == side else -1 for leg in legs]
    paid = sum((s * f.quantity * f.price for s, f in zip(signs, fills, strict=True)), D(0))
    assert paid == net * 500


@settings(max_examples=200, deadline=None)
@given(
    ratios=st.lists(st.integers(1, 5), min_size=2, max_size=4),
    sides=st.lists(st.sampled_from(["BUY", "SELL"]), min_size=4, max_size=4),
    values=st.lists(st.integers(40, 4000), min_size=4, max_size=4),
    offset=st.integers(-30, 30),
)
def test_custom_ratios_net_exactly_or_refuse(ratios, sides, values, offset):
    if math.gcd(*ratios) != 1:
        ratios = [*ratios, 1]
    legs = [Leg(i, sides[i % 4], D(r), D(values[i % 4]) / 100) for i, r in enumerate(ratios)]
    side = legs[0].side
    mid = model_mid(legs, side)
    net = (mid / TICK).to_integral_value() * TICK + offset * TICK
    try:
        prices = implied_leg_prices(legs, net_price=net, package_side=side, tick=TICK)
    except DomainError:
        return  # no positive prices on the tick net to it: refused, never approximated
    assert net_of(legs, prices, side) == net
    assert all(p % TICK == 0 and p > 0 for p in prices.values())


def test_a_net_price_off_the_tick_is_refused():
    with pytest.raises(DomainError, match="not on the tick"):
        implied_leg_prices(template_legs("STRADDLE"), net_price=D("25.33"), package_side="BUY", tick=TICK)


def test_gross_premium_and_mid_of_a_risk_reversal():
    legs = template_legs("RISK_REVERSAL")  # sell the put (rank 0), buy the call (rank 1)
    assert model_mid(legs, "SELL") == D("15.2233") - D("6.8511")
    assert gross_premium(legs) == D("15.2233") + D("6.8511")


def test_any_part_of_fills_best_first_never_above_the_size():
    rows = [(1, D("300")), (2, D("300")), (3, D("500"))]
    parts = parts_best_first(rows, quantity=D("500"), min_trade=None, accept=lambda q, n: True)
    assert [(p.quote, p.quantity) for p in parts] == [(1, D("300")), (2, D("200"))]


def test_any_part_of_skips_parts_below_the_minimum_and_rejected_parts():
    rows = [(1, D("300")), (2, D("300")), (3, D("150")), (4, D("500"))]
    parts = parts_best_first(rows, quantity=D("500"), min_trade=D("100"), accept=lambda q, n: q != 2)
    # 1 takes 300; 2 rejects on last look; 3 takes 150; 50 left is below the minimum for 4.
    assert [(p.quote, p.quantity) for p in parts] == [(1, D("300")), (3, D("150"))]


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 900), min_size=1, max_size=6),
    quantity=st.integers(1, 1000),
    floor=st.integers(0, 200),
    rejects=st.sets(st.integers(0, 5)),
)
def test_any_part_of_never_exceeds_the_size(sizes, quantity, floor, rejects):
    rows = [(i, D(s)) for i, s in enumerate(sizes)]
    parts = parts_best_first(
        rows, quantity=D(quantity), min_trade=D(floor) or None, accept=lambda q, n: q not in rejects
    )
    assert sum((p.quantity for p in parts), D(0)) <= quantity
    assert all(p.quantity >= floor and p.quote not in rejects for p in parts)
    assert all(p.quantity <= dict(rows)[p.quote] for p in parts)


def test_greeks_match_finite_differences():
    s, k, t, v = 190.0, 200.0, 0.3, 0.25
    for call in (True, False):
        delta, vega = black_scholes_greeks(s, k, t, v, call)
        h = 1e-4
        fd_delta = (float(black_scholes(s + h, k, t, v, call)) - float(black_scholes(s - h, k, t, v, call))) / (2 * h)
        fd_vega = (float(black_scholes(s, k, t, v + h, call)) - float(black_scholes(s, k, t, v - h, call))) / (2 * h)
        assert float(delta) == pytest.approx(fd_delta, rel=1e-6)
        assert float(vega) == pytest.approx(fd_vega / 100, rel=1e-6)


def _request(quantity=100.0, vega=50.0, adv_pct=1.0) -> lps.PackageQuoteRequest:
    return lps.PackageQuoteRequest("k", quantity, "BUY", 20.0, 22.0, vega, adv_pct, 30.0)


def test_package_spread_widens_with_size_and_vega():
    p = lps.PROFILES["tight_fast"]
    base = lps.package_half_spread(p, _request())
    assert lps.package_half_spread(p, _request(adv_pct=20.0)) > base
    assert lps.package_half_spread(p, _request(vega=100.0)) > base


def test_package_plan_quotes_the_whole_size_unless_parts_are_allowed():
    maker = lps.provider("tight_fast", seed=7)
    whole = maker.plan_package(_request(quantity=500.0))
    assert whole and all(a.size == 500.0 for a in whole if a.kind in (lps.QUOTE, lps.UPDATE))
    parts = maker.plan_package(lps.PackageQuoteRequest("k", 500.0, "BUY", 20.0, 22.0, 50.0, 1.0, 30.0, True, 100.0))
    assert all(a.size == 300.0 for a in parts if a.kind in (lps.QUOTE, lps.UPDATE))
    assert maker.plan_package(_request(quantity=500.0)) == whole  # seeded: a run repeats
