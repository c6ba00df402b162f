"""The block allocation rule (ems.domain.allocation), pure: no database. CI runs at least
1,000 examples of each property (EMS_EXAMPLES, default 1000)."""

import os
from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ems.domain.allocation import Member, average_price, limit_refusal, most_conservative_limit, pro_rata

EXAMPLES = int(os.environ.get("EMS_EXAMPLES", "1000"))
PROPERTY = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
RUN = {"examples": 0}


@pytest.fixture(scope="module", autouse=True)
def _count():
    yield
    print(f"\nblock allocation examples run: {RUN['examples']}")


@st.composite
def blocks(draw):
    lot = draw(st.sampled_from([D("1"), D("10"), D("100"), D("0.0001"), D("0.5")]))
    n = draw(st.integers(min_value=1, max_value=8))
    members = [
        Member(
            key=draw(st.integers(min_value=1, max_value=10**6)) * 10 + i,  # unique, random order
            remaining=lot * draw(st.integers(min_value=0, max_value=5_000)),
            entered_at=float(draw(st.integers(min_value=0, max_value=5))),  # ties on purpose
            limit_price=draw(st.one_of(st.none(), st.sampled_from([D("99.50"), D("100.00"), D("100.50")]))),
        )
        for i in range(n)
    ]
    side = draw(st.sampled_from(["BUY", "SELL"]))
    fill = lot * draw(st.integers(min_value=1, max_value=30_000))
    price = draw(st.sampled_from([D("99.00"), D("100.00"), D("101.00")]))
    return lot, members, side, fill, price


def _eligible(members, side, price, lot):
    ok = []
    for m in members:
        within = m.limit_price is None or (price <= m.limit_price if side == "BUY" else price >= m.limit_price)
        if within and m.remaining >= lot:
            ok.append(m)
    return ok


@PROPERTY
@given(blocks())
def test_allocations_sum_exactly_never_exceed_a_member_nor_cross_its_limit_and_stay_within_a_lot(case):
    RUN["examples"] += 1
    lot, members, side, fill, price = case
    result = pro_rata(quantity=fill, price=price, side=side, lot=lot, members=members)
    by_key = result.by_key()
    # Sums exactly to the fill (what nobody could take is reported, never dropped).
    assert result.allocated + result.unallocated == fill
    assert result.unallocated >= 0
    eligible = _eligible(members, side, price, lot)
    total = sum((m.remaining for m in eligible), D(0))
    assert result.allocated == min(fill, total)
    for m in members:
        got = by_key.get(m.key, D(0))
        assert got >= 0 and got % lot == 0  # whole lots
        assert got <= m.remaining  # never more than it still wants
        if m not in eligible:
            assert got == 0  # never at a price beyond its limit
    # Pro rata within one lot of the exact share.
    if total:
        for m in eligible:
            exact = Fraction(result.allocated) * Fraction(m.remaining) / Fraction(total)
            assert abs(Fraction(by_key.get(m.key, D(0))) - exact) < Fraction(lot)


@PROPERTY
@given(blocks(), st.randoms(use_true_random=False))
def test_the_same_fill_gives_the_same_allocations_whatever_the_members_order(case, rnd):
    RUN["examples"] += 1
    lot, members, side, fill, price = case
    shuffled = list(members)
    rnd.shuffle(shuffled)
    first = pro_rata(quantity=fill, price=price, side=side, lot=lot, members=members)
    again = pro_rata(quantity=fill, price=price, side=side, lot=lot, members=shuffled)
    assert first == again


def test_largest_remainder_with_ties_by_entry_time():
    # 10 lots among three equal members: 3 each, one left over, to the earliest entered.
    members = [
        Member(key=1, remaining=D("100"), entered_at=3.0),
        Member(key=2, remaining=D("100"), entered_at=1.0),
        Member(key=3, remaining=D("100"), entered_at=2.0),
    ]
    result = pro_rata(quantity=D("10"), price=D("100"), side="BUY", lot=D("1"), members=members)
    assert result.by_key() == {1: D("3"), 2: D("4"), 3: D("3")}
    # Same entry time: the smaller key.
    same = [Member(key=k, remaining=D("100"), entered_at=0.0) for k in (7, 5, 9)]
    assert pro_rata(quantity=D("10"), price=D("100"), side="BUY", lot=D("1"), members=same).by_key() == {
        5: D("4"),
        7: D("3"),
        9: D("3"),
    }


def test_largest_remainder_beats_entry_time():
    # 7 lots, 1:2 -> 2.333 and 4.667: the larger remainder (the later member) gets the lot.
    members = [Member(key=1, remaining=D("10"), entered_at=0.0), Member(key=2, remaining=D("20"), entered_at=9.0)]
    assert pro_rata(quantity=D("7"), price=D("1"), side="SELL", lot=D("1"), members=members).by_key() == {
        1: D("2"),
        2: D("5"),
    }


def test_a_fill_beyond_what_members_want_is_reported_unallocated():
    members = [Member(key=1, remaining=D("200"), entered_at=0.0), Member(key=2, remaining=D("100"), entered_at=1.0)]
    result = pro_rata(quantity=D("500"), price=D("10"), side="BUY", lot=D("100"), members=members)
    assert result.by_key() == {1: D("200"), 2: D("100")}
    assert result.unallocated == D("200")


def test_a_member_whose_limit_the_price_crosses_gets_nothing():
    members = [
        Member(key=1, remaining=D("100"), entered_at=0.0, limit_price=D("99")),
        Member(key=2, remaining=D("100"), entered_at=1.0, limit_price=None),
    ]
    assert pro_rata(quantity=D("50"), price=D("100"), side="BUY", lot=D("1"), members=members).by_key() == {2: D("50")}


def test_limits_and_average_price():
    assert most_conservative_limit("BUY", [None, D("101"), D("100")]) == D("100")
    assert most_conservative_limit("SELL", [None, D("101"), D("100")]) == D("101")
    assert most_conservative_limit("BUY", [None, None]) is None
    assert limit_refusal("BUY", D("100.5"), [D("100")], D("100")) == ""
    assert "bps" in limit_refusal("BUY", D("110"), [D("100")], D("100"))
    assert limit_refusal("BUY", None, [D("100")], D("100")) == ""
    assert average_price([(D("100"), D("10")), (D("300"), D("11"))]) == D("10.75")
