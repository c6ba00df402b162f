from decimal import Decimal as D

from rfq.domain.selection import Candidate, refusal, select


def cand(i, score, *, enabled=True, classes=("EQUITY",), max_notional="1000000", tier=2):
    return Candidate(i, f"LP{i}", enabled, frozenset(classes), D(max_notional), tier, score)


def test_enabled_asset_class_and_notional_filter_then_score_ranks():
    cs = [
        cand(1, 0.9),
        cand(2, 0.99, enabled=False),
        cand(3, 0.8, classes=("CRYPTO",)),
        cand(4, 0.7, max_notional="100"),
        cand(5, 0.6),
        cand(6, 0.95),
    ]
    assert [c.id for c in select(cs, asset_class="EQUITY", notional=D("5000"))] == [6, 1, 5]


def test_top_n_default_five():
    cs = [cand(i, i / 10) for i in range(1, 9)]
    assert [c.id for c in select(cs, asset_class="EQUITY", notional=D(1))] == [8, 7, 6, 5, 4]


def test_never_fewer_than_three_when_three_exist():
    cs = [cand(i, i / 10) for i in range(1, 5)]
    assert [c.id for c in select(cs, asset_class="EQUITY", notional=D(1), top_n=1)] == [4, 3, 2]
    assert [c.id for c in select(cs[:2], asset_class="EQUITY", notional=D(1), top_n=1)] == [2, 1]


def test_ties_by_tier_then_name():
    cs = [cand(1, 0.5, tier=3), cand(2, 0.5, tier=1), cand(3, 0.5, tier=1)]
    assert [c.id for c in select(cs, asset_class="EQUITY", notional=D(1))] == [2, 3, 1]


def test_refusal_says_why():
    assert refusal(cand(1, 0.5, enabled=False), asset_class="EQUITY", notional=D(1)) == "LP1 is disabled"
    assert refusal(cand(1, 0.5), asset_class="OPTION", notional=D(1)) == "LP1 does not quote OPTION"
    assert refusal(cand(1, 0.5, max_notional="10"), asset_class="EQUITY", notional=D(11)) == (
        "LP1 takes at most 10 notional, asked 11"
    )
    assert refusal(cand(1, 0.5, max_notional="10"), asset_class="EQUITY", notional=D(10)) is None
