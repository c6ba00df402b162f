from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.vocabulary import VenueKind
from sor.domain import Allocation, VenueQuote, allocate

D = Decimal


def lit(name, levels, fee=0.0, min_quantity="1", enabled=True, fresh=True) -> VenueQuote:
    return VenueQuote(
        name=name,
        kind="LIT",
        taker_fee_bps=fee,
        min_quantity=D(min_quantity),
        enabled=enabled,
        fresh=fresh,
        levels=[(D(price), D(size)) for price, size in levels],
    )


def dark(name, mid, fill_rate, fee=0.0, min_quantity="1", enabled=True, fresh=True) -> VenueQuote:
    return VenueQuote(
        name=name,
        kind="DARK",
        taker_fee_bps=fee,
        min_quantity=D(min_quantity),
        enabled=enabled,
        fresh=fresh,
        levels=[],
        mid=None if mid is None else D(mid),
        dark_fill_rate=fill_rate,
    )


def summary(allocations: list[Allocation]) -> list[tuple[str, str, str]]:
    return [(a.venue, str(a.quantity), str(a.price)) for a in allocations]


# -- Examples ---------------------------------------------------------------------------------


def test_takes_the_cheapest_effective_price_first_across_venues():
    venues = [
        lit("FEEHEAVY", [("100.00", 300), ("100.02", 500)], fee=3.0),  # 100.00 -> 100.03 with fee
        lit("REBATE", [("100.01", 200), ("100.02", 400)], fee=-0.5),  # 100.01 -> 100.005
    ]
    allocations = allocate("BUY", D(700), None, D(100), venues)
    # Effective: REBATE 100.005 (200), REBATE 100.015 (400), FEEHEAVY 100.03 (300) -> 100 of it.
    assert summary(allocations) == [("REBATE", "600", "100.02"), ("FEEHEAVY", "100", "100.00")]
    assert allocations[0].kind is VenueKind.LIT
    rebate = allocations[0]
    expected = (200 * D("100.01") + 400 * D("100.02")) * (1 - D("0.5") / 10000) / 600
    assert rebate.effective_price == expected
    assert allocations[1].effective_price == D("100.00") * (1 + D("3.0") / 10000)


def test_a_seller_takes_the_highest_effective_bid_first_and_fees_reduce_it():
    venues = [
        lit("A", [("99.99", 100), ("99.98", 100)], fee=0.0),
        lit("B", [("100.00", 100), ("99.97", 100)], fee=2.0),  # 100.00 -> 99.98 with fee
    ]
    allocations = allocate("SELL", D(300), None, D(1), venues)
    # 99.99 (A), then 99.98 (A) and 99.98 (B, fee-adjusted): tie goes to the earlier venue.
    assert summary(allocations) == [("A", "200", "99.98"), ("B", "100", "100.00")]


def test_never_crosses_the_limit():
    venues = [lit("A", [("10.00", 100), ("10.01", 100), ("10.02", 100)])]
    assert summary(allocate("BUY", D(1000), D("10.01"), D(1), venues)) == [("A", "200", "10.01")]
    bids = [lit("A", [("10.02", 100), ("10.01", 100), ("10.00", 100)])]
    assert summary(allocate("SELL", D(1000), D("10.02"), D(1), bids)) == [("A", "100", "10.02")]
    assert allocate("BUY", D(100), D("9.99"), D(1), venues) == []


def test_limit_is_on_the_price_sent_not_the_fee_adjusted_price():
    venues = [lit("A", [("10.00", 100)], fee=5.0)]
    assert summary(allocate("BUY", D(100), D("10.00"), D(1), venues)) == [("A", "100", "10.00")]


def test_quantity_is_rounded_down_to_whole_lots():
    venues = [lit("A", [("10.00", 1000)])]
    assert summary(allocate("BUY", D(250), None, D(100), venues)) == [("A", "200", "10.00")]
    assert allocate("BUY", D(99), None, D(100), venues) == []
    assert allocate("BUY", D(0), None, D(100), venues) == []


def test_odd_level_sizes_carry_to_the_next_level_of_the_same_venue():
    venues = [lit("A", [("10.00", 150), ("10.01", 150)])]
    assert summary(allocate("BUY", D(1000), None, D(100), venues)) == [("A", "300", "10.01")]


def test_fractional_lots_for_crypto():
    venues = [lit("X", [("65000.5", "0.0125"), ("65001.0", "0.5")], min_quantity="0.001")]
    allocations = allocate("BUY", D("0.3333"), None, D("0.001"), venues)
    assert summary(allocations) == [("X", "0.333", "65001.0")]


def test_a_venue_below_its_minimum_is_dropped_and_its_share_goes_elsewhere():
    venues = [
        lit("BIGMIN", [("10.00", 300)], min_quantity="500"),
        lit("OTHER", [("10.01", 1000)]),
    ]
    assert summary(allocate("BUY", D(600), None, D(100), venues)) == [("OTHER", "600", "10.01")]
    # It only shows 300, so however much we want it never qualifies.
    assert summary(allocate("BUY", D(2000), None, D(100), venues)) == [("OTHER", "1000", "10.01")]
    # Showing more, it qualifies once the walk reaches its deeper level; listed by its
    # average effective price (10.008), ahead of OTHER (10.01).
    venues[0] = lit("BIGMIN", [("10.00", 300), ("10.02", 300)], min_quantity="500")
    assert summary(allocate("BUY", D(1500), None, D(100), venues)) == [
        ("BIGMIN", "500", "10.02"),
        ("OTHER", "1000", "10.01"),
    ]
    assert summary(allocate("BUY", D(1200), None, D(100), venues)) == [("OTHER", "1000", "10.01")]


def test_disabled_and_stale_venues_get_nothing():
    venues = [
        lit("OFF", [("9.00", 1000)], enabled=False),
        lit("STALE", [("9.00", 1000)], fresh=False),
        lit("ON", [("10.00", 1000)]),
        dark("DARKOFF", "9.50", 0.9, enabled=False),
        dark("DARKSTALE", "9.50", 0.9, fresh=False),
    ]
    assert summary(allocate("BUY", D(500), None, D(1), venues, dark_fraction=0.5)) == [("ON", "500", "10.00")]


def test_dark_share_is_split_by_fill_rate_at_the_mid():
    venues = [
        dark("D1", "10.005", 0.3),
        dark("D2", "10.005", 0.1, fee=1.0),
        lit("A", [("10.01", 1000)]),
    ]
    allocations = allocate("BUY", D(2000), None, D(100), venues, dark_fraction=0.5)
    # 10 lots dark: 7.5 / 2.5 -> largest remainder tie goes to the better fill rate: 8 / 2.
    assert summary(allocations) == [("D1", "800", "10.005"), ("D2", "200", "10.005"), ("A", "1000", "10.01")]
    assert [a.kind for a in allocations] == [VenueKind.DARK, VenueKind.DARK, VenueKind.LIT]
    assert allocations[1].effective_price == D("10.005") * (1 + D("1.0") / 10000)


def test_dark_minimums_move_the_share_to_the_other_pool_or_to_lit():
    venues = [dark("D1", "10.005", 0.3), dark("D2", "10.005", 0.1, min_quantity="500"), lit("A", [("10.01", 5000)])]
    assert summary(allocate("BUY", D(2000), None, D(100), venues, dark_fraction=0.5)) == [
        ("D1", "1000", "10.005"),
        ("A", "1000", "10.01"),
    ]
    only_big_min = [dark("D2", "10.005", 0.1, min_quantity="5000"), lit("A", [("10.01", 5000)])]
    assert summary(allocate("BUY", D(2000), None, D(100), only_big_min, dark_fraction=0.5)) == [("A", "2000", "10.01")]


def test_no_dark_when_the_mid_is_through_the_limit_or_unknown():
    venues = [dark("D1", "10.005", 0.5), dark("NOMID", None, 0.9), lit("A", [("10.00", 5000)])]
    assert summary(allocate("BUY", D(1000), D("10.00"), D(100), venues, dark_fraction=1.0)) == [("A", "1000", "10.00")]
    assert summary(allocate("SELL", D(1000), D("10.00"), D(100), venues, dark_fraction=1.0)) == [
        ("D1", "1000", "10.005"),
    ]


def test_never_allocates_more_than_asked_or_available():
    venues = [lit("A", [("10.00", 100)]), lit("B", [("10.01", 100)])]
    assert sum(a.quantity for a in allocate("BUY", D(150), None, D(1), venues)) == D(150)
    assert sum(a.quantity for a in allocate("BUY", D(10_000), None, D(1), venues)) == D(200)


def test_refuses_a_book_that_is_not_best_first():
    venues = [lit("A", [("10.02", 100), ("10.01", 100)])]
    with pytest.raises(ValueError, match="not best first"):
        allocate("BUY", D(200), None, D(1), venues)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError):
        allocate("BUY", D(100), None, D(0), [])
    with pytest.raises(ValueError):
        allocate("HOLD", D(100), None, D(1), [])
    with pytest.raises(ValueError):
        allocate("BUY", D(100), None, D(1), [], dark_fraction=1.5)


# -- Properties -------------------------------------------------------------------------------

LOTS = [D(1), D(100), D("0.01")]


@st.composite
def markets(draw, whole_lot_sizes=False, without_minimums=False):
    """Up to 6 venues (mostly lit, mostly usable) of up to 10 levels around one mid, best
    first; sizes in lots plus, unless whole_lot_sizes, odd remainders."""
    side = draw(st.sampled_from(["BUY", "SELL"]))
    lot = draw(st.sampled_from(LOTS))
    mid_ticks = draw(st.integers(1_000, 100_000))  # mid in cents
    away = 1 if side == "BUY" else -1  # direction of worse prices for us
    venues = []
    for index in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["LIT", "LIT", "LIT", "DARK"]))
        levels = []
        ticks = mid_ticks + away * draw(st.integers(0, 5))
        for _ in range(draw(st.integers(0, 10)) if kind == "LIT" else 0):
            size = lot * draw(st.integers(0, 30))
            if not whole_lot_sizes:
                size += lot * D(draw(st.integers(0, 99))) / 100
            levels.append((D(ticks) / 100, size))
            ticks += away * draw(st.integers(1, 3))
        usable = st.sampled_from([True, True, True, False])
        venues.append(
            VenueQuote(
                name=f"V{index}",
                kind=kind,
                taker_fee_bps=draw(st.sampled_from([-0.5, 0.0, 0.3, 1.0, 3.0])),
                min_quantity=D(0) if without_minimums else lot * draw(st.sampled_from([0, 0, 1, 5, 40])),
                enabled=True if without_minimums else draw(usable),
                fresh=True if without_minimums else draw(usable),
                levels=levels,
                mid=D(mid_ticks) / 100 if kind == "DARK" else None,
                dark_fill_rate=draw(st.sampled_from([0.0, 0.05, 0.3, 0.8])),
            )
        )
    quantity = lot * draw(st.integers(0, 400)) + lot * D(draw(st.integers(0, 99))) / 100
    limit = draw(st.none() | st.integers(-10, 20).map(lambda k: D(mid_ticks + away * k) / 100))
    dark_fraction = draw(st.sampled_from([0.0, 0.0, 0.3, 1.0]))
    return side, quantity, limit, lot, venues, dark_fraction


@settings(max_examples=200, deadline=None)
@given(market=markets())
def test_allocation_invariants(market):
    side, quantity, limit, lot, venues, dark_fraction = market
    allocations = allocate(side, quantity, limit, lot, venues, dark_fraction=dark_fraction)
    by_name = {venue.name: venue for venue in venues}
    assert sum((a.quantity for a in allocations), D(0)) <= quantity
    assert len({a.venue for a in allocations}) == len(allocations)  # one child per venue
    for allocation in allocations:
        venue = by_name[allocation.venue]
        assert venue.enabled and venue.fresh
        assert allocation.kind is venue.kind
        assert allocation.quantity > 0
        assert allocation.quantity % lot == 0
        assert allocation.quantity >= venue.min_quantity
        if limit is not None:
            assert allocation.price <= limit if side == "BUY" else allocation.price >= limit
        if venue.kind == "LIT":
            shown = sum((size for price, size in venue.levels if _within(price, limit, side)), D(0))
            assert allocation.quantity <= shown
            assert allocation.price in {price for price, _ in venue.levels}
        else:
            assert allocation.price == venue.mid and venue.dark_fill_rate > 0


@settings(max_examples=200, deadline=None)
@given(market=markets(whole_lot_sizes=True, without_minimums=True))
def test_without_minimums_the_lit_walk_is_greedy_and_complete(market):
    side, quantity, limit, lot, venues, _ = market
    allocations = allocate(side, quantity, limit, lot, venues)
    wanted = (quantity // lot) * lot
    lit_venues = [venue for venue in venues if venue.kind == "LIT"]
    available = sum((size for venue in lit_venues for price, size in venue.levels if _within(price, limit, side)), D(0))
    assert sum((a.quantity for a in allocations), D(0)) == min(wanted, available)

    # Every level left (partly) untaken is no better than the worst level taken anywhere.
    taken = {a.venue: a.quantity for a in allocations}
    worst_taken = None
    untaken_effective = []
    for venue in lit_venues:
        factor = 1 + D(repr(venue.taker_fee_bps)) / 10000 if side == "BUY" else 1 - D(repr(venue.taker_fee_bps)) / 10000
        left = taken.get(venue.name, D(0))
        for price, size in venue.levels:
            if not _within(price, limit, side) or size == 0:
                continue
            effective = price * factor
            used = min(left, size)
            left -= used
            if used > 0:
                worst_taken = (
                    effective
                    if worst_taken is None
                    else (max(worst_taken, effective) if side == "BUY" else min(worst_taken, effective))
                )
            if used < size:
                untaken_effective.append(effective)
    if worst_taken is not None:
        for effective in untaken_effective:
            assert effective >= worst_taken if side == "BUY" else effective <= worst_taken


def _within(price, limit, side) -> bool:
    return limit is None or (price <= limit if side == "BUY" else price >= limit)
