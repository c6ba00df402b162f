from decimal import Decimal as D

from rfq.domain.scorecard import NEUTRAL_SCORE, InvitationRecord, percentile, scorecard


def rec(**kw):
    base = dict(
        responded=True,
        passed=False,
        response_seconds=1.0,
        quoted=True,
        won=False,
        was_best=False,
        distance_from_best_bps=None,
        distance_from_mid_bps=None,
    )
    return InvitationRecord(**{**base, **kw})


def test_no_history_is_neutral():
    c = scorecard([])
    assert (c.requests, c.response_rate, c.median_response_seconds, c.score) == (0, 0.0, None, NEUTRAL_SCORE)


def test_arithmetic():
    records = [
        rec(response_seconds=0.2, won=True, was_best=True, distance_from_best_bps=D("0"), distance_from_mid_bps=D("4")),
        rec(response_seconds=0.4, distance_from_best_bps=D("3"), distance_from_mid_bps=D("7"), last_look_rejections=1),
        rec(response_seconds=1.0, passed=True, quoted=False),
        rec(responded=False, response_seconds=None, quoted=False),
        rec(
            response_seconds=0.6,
            was_best=True,
            withdrawals=1,
            distance_from_best_bps=D("0"),
            distance_from_mid_bps=D("5"),
        ),
    ]
    c = scorecard(records)
    assert (c.requests, c.responses, c.passes, c.quotes) == (5, 4, 1, 3)
    assert c.response_rate == 0.8
    assert c.median_response_seconds == 0.5 and c.p90_response_seconds == 1.0
    assert c.hit_ratio == 1 / 3 and c.best_ratio == 2 / 3
    assert c.avg_distance_from_best_bps == D("1.00") and c.avg_distance_from_mid_bps == D("5.33")
    assert (c.last_look_rejections, c.withdrawals) == (1, 1)
    # 0.35 * 0.8 + 0.35 * 2/3 + 0.1 * 1/3 + 0.2 * (1 - 1/2)
    assert c.score == round(0.35 * 0.8 + 0.35 * 2 / 3 + 0.1 / 3 + 0.1, 4)


def test_nearest_rank_percentile():
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.9) == 5.0
    assert percentile(list(map(float, range(1, 11))), 0.9) == 9.0
    assert percentile([], 0.9) is None
