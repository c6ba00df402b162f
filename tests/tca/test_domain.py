"""TCA's pure core on a hand-computed example: a buy of 1000 decided at 100.00, arriving at
100.10, filled 400 on a lit venue at once and 300 in the dark ten seconds later, 300 left.
Every figure below was worked out by hand from these numbers."""

from decimal import Decimal as D

import pytest

from tca.domain import benchmarks, markouts, rfq, shortfall
from tca.domain.analysis import OrderFacts, analyse
from tca.domain.path import MarketPoint, PricePath
from tca.domain.profile import Child
from tca.domain.report import COLUMNS, p90, summarise
from tca.domain.shortfall import Fill

T = 1_000.0


def path() -> PricePath:
    return PricePath(
        [
            MarketPoint(T, D("100.10"), D(10_000), D("100.05"), D("100.15")),
            MarketPoint(T + 1, D("100.12"), D(10_100)),
            MarketPoint(T + 10, D("100.20"), D(11_000)),
            MarketPoint(T + 11, D("100.22"), D(11_200)),
            MarketPoint(T + 20, D("100.30"), D(12_000)),
            MarketPoint(T + 61, D("100.40"), D(13_000)),
            MarketPoint(T + 80, D("100.50"), D(14_000)),
        ]
    )


FILLS = [
    Fill(D(400), D("100.20"), T + 0.5, fee=D("2.00"), venue="XNAS"),
    Fill(D(300), D("100.20"), T + 10, venue="DARKX"),
]


def facts(**kw) -> OrderFacts:
    base = dict(
        side="BUY",
        ordered_quantity=D(1000),
        decision_price=D("100.00"),
        arrival_price=D("100.10"),
        decided_at=T - 5,
        start=T,
        end=T + 30,
        fills=FILLS,
        path=path(),
        children=[
            Child("XNAS", "MARKET", D(500), D(400), D("2.00")),
            Child("DARKX", "DARK", D(300), D(300)),
            Child("XNYS", "LIMIT", D(200), D(0)),
        ],
        estimate_bps=D("12.00"),
    )
    return OrderFacts(**{**base, **kw})


def test_the_shortfall_splits_as_worked_out_by_hand():
    result = analyse(facts())["shortfall"]
    assert result["parts"] == {
        "delay": "70.00",  # 700 * (100.10 - 100.00)
        "spread": "20.00",  # 400 * the 0.05 half-spread; the dark fill at the mid pays none
        "impact": "20.00",  # 400 * (0.10 paid over the mid - 0.05 of it the touch)
        "timing": "30.00",  # 300 * (100.20 - 100.10): the mid's move before the dark fill
        "fees": "2.00",
        "opportunity": "90.00",  # 300 unfilled * (100.30 end - 100.00 decision)
    }
    assert (result["total"], result["total_bps"], result["trading_cost"]) == ("232.00", "23.20", "40.00")


def test_a_sell_signs_every_part_the_other_way():
    sold = analyse(facts(side="SELL"))["shortfall"]["parts"]
    assert sold["delay"] == "-70.00" and sold["opportunity"] == "-90.00" and sold["timing"] == "-30.00"
    # Selling 0.10 above the mid is a gain: the touch is the (negative) half-spread.
    assert sold["spread"] == "-20.00" and sold["impact"] == "-20.00"


@pytest.mark.parametrize("seed", range(40))
def test_the_parts_add_up_to_the_total_to_the_cent(seed):
    import random

    rng = random.Random(seed)
    side = rng.choice(["BUY", "SELL"])
    q = D(rng.randint(1, 50_000))
    pd = D(rng.randint(1_000, 90_000)) / D(1000)
    fills, mids, halves = [], [], []
    left = q
    for i in range(rng.randint(0, 12)):
        take = min(left, D(rng.randint(1, 9_000)))
        if take <= 0:
            break
        left -= take
        fills.append(
            Fill(take, pd + D(rng.randint(-700, 700)) / D(1000), T + i, fee=D(rng.randint(0, 9999)) / D(10_000))
        )
        mids.append(pd + D(rng.randint(-7000, 7000)) / D(10_000))
        halves.append(rng.choice([None, D(rng.randint(1, 90)) / D(1000)]))
    pe = pd + D(rng.randint(-900, 900)) / D(1000)
    args = dict(
        side=side, ordered_quantity=q, decision_price=pd, end_price=pe, fills=fills, multiplier=D(rng.choice([1, 100]))
    )
    split = shortfall.implementation_shortfall(
        arrival_price=pd + D(rng.randint(-300, 300)) / D(1000), mids_at_fills=mids, half_spreads_at_fills=halves, **args
    )
    assert sum(split.parts.values()) == split.total
    assert split.total == shortfall.shortfall_direct(**args).quantize(D("0.01"))
    assert all(v == v.quantize(D("0.01")) for v in split.parts.values())


def test_rounding_hands_the_missing_cent_to_the_largest_remainder():
    parts = shortfall.round_to_total({"a": D("0.334"), "b": D("0.333"), "c": D("0.333")})
    assert parts == {"a": D("0.34"), "b": D("0.33"), "c": D("0.33")}
    assert sum(parts.values()) == D("1.00")


def test_interval_benchmarks_and_market_volume():
    p = path()
    # (100.10*1 + 100.12*9 + 100.20*1 + 100.22*9 + 100.30*10) / 30
    assert benchmarks.interval_twap(p, T, T + 30) == D("100.212")
    # (100*100.10 + 900*100.12 + 200*100.20 + 800*100.22) / 2000
    assert benchmarks.interval_vwap(p, T, T + 30) == D("100.167")
    assert benchmarks.market_volume(p, T, T + 30) == D(2000)
    result = analyse(facts())
    assert result["benchmarks"]["interval_vwap"] == "100.167"
    assert result["slippage_bps"]["arrival"] == "9.99"  # 0.10 / 100.10
    assert result["profile"]["participation_pct"] == "35.00"  # 700 of 2000


def test_markouts_are_signed_positive_good_and_stop_where_the_history_stops():
    summary = markouts.markout_summary("BUY", FILLS, path())
    # Lit fill: +1 s 100.12 (-7.98), +10 s 100.20 (0), +60 s 100.30 (+9.98); dark fill:
    # +1 s 100.22 (+2.00), +10 s 100.30 (+9.98), +60 s 100.40 (+19.96).
    assert summary["fills"] == [{"1": "-7.98", "10": "0.00", "60": "9.98"}, {"1": "2.00", "10": "9.98", "60": "19.96"}]
    assert summary["overall"] == {"1": "-3.70", "10": "4.28", "60": "14.26"}
    assert summary["by_venue"]["DARKX"] == {"1": "2.00", "10": "9.98", "60": "19.96"}
    late = Fill(D(1), D("100.40"), T + 75, venue="XNAS")  # the history ends at T + 80
    assert markouts.fill_markouts("BUY", [late], path()) == [{1: D("0.00"), 10: None, 60: None}]


def test_the_execution_profile():
    prof = analyse(facts())["profile"]
    assert (prof["aggressive_pct"], prof["dark_pct"], prof["passive_pct"]) == ("57.14", "42.86", "0.00")
    venues = {v["venue"]: v for v in prof["venues"]}
    assert venues["XNAS"]["fill_rate_pct"] == "80.00" and venues["XNYS"]["fill_rate_pct"] == "0.00"
    assert venues["DARKX"]["average_price"] == "100.20000000" and prof["fees"] == "2.00"
    assert prof["actual"] == [[0.0, "0"], [0.5, "400"], [10.0, "700"]]


def test_pretrade_estimate_against_the_realised_cost():
    pre = analyse(facts())["pretrade"]
    # 9.99 bps over the arrival plus 2.00 of fees on 700 * 100.10 (0.29 bps)
    assert pre == {"estimated_cost_bps": "12.00", "realised_cost_bps": "10.28", "error_bps": "-1.72"}


def test_rfq_price_improvement_and_leakage():
    quotes = [
        rfq.QuoteSeen(1, "LP-A", D("100.25"), T + 2, "EXPIRED"),
        rfq.QuoteSeen(2, "LP-B", D("100.21"), T + 11, "EXECUTED"),
        rfq.QuoteSeen(3, "LP-B", D("100.23"), T + 10, "REPLACED"),
    ]
    assert rfq.second_best("BUY", quotes, 2) == D("100.25")  # LP-B's own older quote is no competition
    assert rfq.price_improvement_bps("BUY", D("100.21"), D("100.25")) == D("3.99")
    assert rfq.price_improvement_bps("SELL", D("100.21"), D("100.25")) == D("-3.99")
    leak = rfq.leakage("BUY", path(), requested_at=T + 10, quotes=quotes, executed_at=T + 20)
    # LP-A answered 8 s *before* the request time here, so its window is empty: move 0.
    lp_b = next(r for r in leak["providers"] if r["provider"] == "LP-B")
    # request 100.20 -> first LP-B quote at +0 s: 0 move, 0 control
    assert lp_b == {
        "provider": "LP-B",
        "window_seconds": 0.0,
        "move_bps": "0.00",
        "control_bps": "0.00",
        "leakage_bps": "0.00",
    }
    # to the execution: 100.20 -> 100.30 (+9.98) against 100.10 -> 100.20 before (+9.99)
    assert leak["execution"]["move_bps"] == "9.98" and leak["execution"]["control_bps"] == "9.99"
    assert leak["execution"]["leakage_bps"] == "-0.01"


def test_the_report_groups_and_p90():
    assert p90([D(v) for v in range(1, 11)]) == D(9)
    row = dict(
        strategy="TWAP",
        urgency="LOW",
        venues=["XNAS", "DARKX"],
        counterparties=[],
        notional=D("1000"),
        shortfall_bps=D("10"),
        realised_bps=D("8"),
        estimate_bps=D("5"),
        markouts={"1": D("1"), "10": None, "60": D("3")},
        rfq=None,
    )
    rows = summarise(
        [
            row,
            {
                **row,
                "shortfall_bps": D("20"),
                "counterparties": ["LP-A", "LP-B"],
                "rfq_won_by": {"LP-A"},
                "rfq": {"won": True, "improvement_vs_mid_bps": D(2), "improvement_vs_second_bps": None},
            },
        ]
    )
    assert set(rows[0]) == set(COLUMNS)
    strategy = next(r for r in rows if r["dimension"] == "strategy")
    assert (strategy["orders"], strategy["mean_shortfall_bps"], strategy["p90_shortfall_bps"]) == (2, "15.00", "20")
    assert strategy["mean_estimate_error_bps"] == "3.00" and strategy["mean_markout_10s_bps"] is None
    lp, lp_b = (r for r in rows if r["dimension"] == "counterparty")
    assert (lp_b["key"], lp_b["rfq_hit_ratio"]) == ("LP-B", "0.0000")
    assert (lp["key"], lp["rfqs"], lp["rfq_hit_ratio"], lp["mean_improvement_vs_mid_bps"]) == (
        "LP-A",
        1,
        "1.0000",
        "2.00",
    )


def obs(order_id, observed, predicted=10.0, then=0.7):
    from tca.domain.refit import ImpactObservation

    return ImpactObservation(order_id, then, predicted, observed)


def test_the_refit_is_robust_bounded_and_needs_enough_orders():
    from tca.domain.refit import refit_coefficient

    few = refit_coefficient(0.7, [obs(i, 12.0) for i in range(4)], min_orders=5)
    assert (few.changed, few.coefficient, few.target) == (False, 0.7, None)
    # Five orders implying 0.7 * 11 / 10 = 0.77 and one outlier at 70: the median ignores it.
    near = refit_coefficient(0.7, [obs(i, 11.0) for i in range(5)] + [obs(9, 1000.0)], min_orders=5)
    assert (near.coefficient, near.bounded, near.orders) == (0.77, False, (0, 1, 2, 3, 4, 9))
    # All implying 2.1: one refit moves at most 20 %, the next 20 % of that.
    far = refit_coefficient(0.7, [obs(i, 30.0) for i in range(5)], min_orders=5, max_step=0.2)
    assert (far.coefficient, far.bounded, far.target) == (0.84, True, pytest.approx(2.1))
    assert refit_coefficient(far.coefficient, [obs(i, 30.0) for i in range(5)]).coefficient == 1.008
    down = refit_coefficient(0.7, [obs(i, -5.0) for i in range(5)])  # the market helped: down by the step
    assert down.coefficient == 0.56
    floor = refit_coefficient(0.06, [obs(i, -5.0) for i in range(5)], floor=0.05)
    assert floor.coefficient == 0.05
    # an order the model predicted no impact for says nothing
    assert refit_coefficient(0.7, [obs(i, 5.0, predicted=0.0) for i in range(9)]).changed is False
