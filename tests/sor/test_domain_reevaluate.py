from decimal import Decimal

import pytest

from core.vocabulary import Strategy
from sor.domain import SelectionInputs, reevaluate
from sor.domain.reevaluation import (
    BEHIND_SCHEDULE_POINTS,
    LIMIT_FAR_BPS,
    VOLATILITY_SPIKE_RATIO,
)

DAY = 23_400


def market(**overrides) -> SelectionInputs:
    """A 2%-of-ADV buy in a liquid stock, half a day left."""
    fields = dict(
        side="BUY",
        quantity=Decimal(200_000),
        price=Decimal("50.00"),
        adv=Decimal(10_000_000),
        daily_vol=0.015,
        spread_bps=4.0,
        displayed_depth=Decimal(400_000),
        urgency="MEDIUM",
        asset_class="EQUITY",
        time_left_seconds=DAY / 2,
        venue_count_dark=2,
    )
    fields.update(overrides)
    return SelectionInputs(**fields)


def test_nothing_changed_keeps_the_strategy():
    result = reevaluate("VWAP", market(), market(), progress=0.40, schedule_progress=0.45)
    assert result.action == "KEEP" and result.new_strategy is None and result.parameters == {}
    assert result.reason == (
        "no trigger: volatility 1.5% (1.5% at start), depth 2.00x, spread 4.0 bps, 40% filled vs 45% scheduled"
    )


# -- Volatility spike ---------------------------------------------------------------------------


def test_volatility_spike_switches_a_patient_schedule_to_is():
    result = reevaluate("VWAP", market(), market(daily_vol=0.04), progress=0.4, schedule_progress=0.4)
    assert result.action == "SWITCH" and result.new_strategy is Strategy.IS
    assert result.reason == "volatility 4.0% a day is 2.7x the 1.5% at start: cut timing risk with a front-loaded IS"
    assert result.parameters["half_life_seconds"] is not None and result.parameters["participation_rate"] >= 0.25


def test_volatility_at_exactly_twice_is_not_a_spike():
    now = market(daily_vol=0.015 * VOLATILITY_SPIKE_RATIO)
    assert reevaluate("TWAP", market(), now, progress=0.4, schedule_progress=0.4).action == "KEEP"


@pytest.mark.parametrize("current", ["IS", "POV", "DIRECT", "RFQ"])
def test_volatility_spike_keeps_strategies_that_already_cut_risk(current):
    assert reevaluate(current, market(), market(daily_vol=0.06), progress=0.4, schedule_progress=0.4).action == "KEEP"


# -- Liquidity gone -----------------------------------------------------------------------------


def test_depth_collapse_sends_an_equity_with_dark_pools_dark():
    now = market(displayed_depth=Decimal(50_000))  # 2.0x -> 0.25x
    result = reevaluate("POV", market(), now, progress=0.4, schedule_progress=0.4)
    assert result.action == "SWITCH" and result.new_strategy is Strategy.DARK
    assert result.reason == (
        "liquidity gone: displayed depth fell to 0.25x the remaining quantity from 2.00x; "
        "stop crossing the spread and rest at the mid in the dark"
    )


def test_spread_blowout_without_dark_pools_rests_passively():
    start, now = market(venue_count_dark=0), market(venue_count_dark=0, spread_bps=15.0)
    result = reevaluate("TWAP", start, now, progress=0.4, schedule_progress=0.4)
    assert result.new_strategy is Strategy.ICEBERG
    assert result.reason.startswith("liquidity gone: spread widened to 15.0 bps from 4.0 bps")
    assert result.parameters["display_quantity"] == "20000"


def test_large_remainder_or_non_equity_goes_to_rfq_when_liquidity_is_gone():
    big_start = market(quantity=Decimal(1_000_000), displayed_depth=Decimal(2_000_000))
    big_now = market(quantity=Decimal(800_000), displayed_depth=Decimal(100_000))
    assert reevaluate("IS", big_start, big_now, progress=0.2, schedule_progress=0.2).new_strategy is Strategy.RFQ
    option_start = market(asset_class="OPTION", quantity=Decimal(20), adv=Decimal(10_000), displayed_depth=Decimal(50))
    option_now = market(asset_class="OPTION", quantity=Decimal(20), adv=Decimal(10_000), displayed_depth=Decimal(5))
    result = reevaluate("ICEBERG", option_start, option_now, progress=0.0, schedule_progress=0.1)
    assert result.new_strategy is Strategy.RFQ and result.parameters["counterparties"] == 5


def test_small_spread_moves_in_a_tight_market_are_not_a_blowout():
    # 1 -> 3 bps is three times wider but only 2 bps: noise, not a blowout.
    result = reevaluate("TWAP", market(spread_bps=1.0), market(spread_bps=3.0), progress=0.4, schedule_progress=0.4)
    assert result.action == "KEEP"


def test_depth_falling_but_still_covering_the_order_is_fine():
    now = market(displayed_depth=Decimal(1_000_000))
    start = market(displayed_depth=Decimal(10_000_000))  # 50x -> 5x: still plenty
    assert reevaluate("VWAP", start, now, progress=0.4, schedule_progress=0.4).action == "KEEP"


@pytest.mark.parametrize("current", ["DARK", "RFQ"])
def test_liquidity_gone_keeps_dark_and_rfq(current):
    result = reevaluate(current, market(), market(spread_bps=40.0), progress=0.4, schedule_progress=0.4)
    assert result.action == "KEEP"


# -- Behind schedule ----------------------------------------------------------------------------


def test_far_behind_schedule_switches_to_pov_at_the_catch_up_rate():
    # 2% of ADV left with a quarter of the day: 8% needed, floored at the 15% catch-up minimum.
    now = market(time_left_seconds=DAY / 4)
    result = reevaluate("VWAP", market(), now, progress=0.30, schedule_progress=0.55)
    assert result.action == "SWITCH" and result.new_strategy is Strategy.POV
    assert result.parameters["participation_rate"] == 0.15
    assert result.reason == "30% filled against 55% scheduled (25 points behind): POV at 15% of volume to catch up"
    # With little time the rate needed is used, up to the 50% cap.
    late = reevaluate("VWAP", market(), market(time_left_seconds=1800), progress=0.3, schedule_progress=0.6)
    assert late.parameters["participation_rate"] == 0.26  # 0.02 / (1800 / 23400)
    very_late = reevaluate("VWAP", market(), market(time_left_seconds=60), progress=0.3, schedule_progress=0.6)
    assert very_late.parameters["participation_rate"] == 0.5


def test_exactly_twenty_points_behind_is_tolerated():
    progress, schedule = 0.25, 0.25 + BEHIND_SCHEDULE_POINTS
    assert reevaluate("TWAP", market(), market(), progress=progress, schedule_progress=schedule).action == "KEEP"


def test_pov_behind_schedule_speeds_up_unless_already_fast_enough():
    now = market(time_left_seconds=1800)
    slow = reevaluate("POV", market(), now, progress=0.3, schedule_progress=0.6, current_participation_rate=0.10)
    assert (
        slow.action == "SWITCH" and slow.new_strategy is Strategy.POV and slow.parameters["participation_rate"] == 0.26
    )
    fast = reevaluate("POV", market(), now, progress=0.3, schedule_progress=0.6, current_participation_rate=0.30)
    assert fast.action == "KEEP"


@pytest.mark.parametrize("current", ["DIRECT", "RFQ"])
def test_one_shot_strategies_have_no_schedule_to_fall_behind(current):
    assert reevaluate(current, market(), market(), progress=0.0, schedule_progress=0.9).action == "KEEP"


# -- Limit --------------------------------------------------------------------------------------


def test_limit_far_behind_the_market_rests_as_an_iceberg():
    start = market(limit_price=Decimal("50.10"))
    now = market(limit_price=Decimal("50.10"), price=Decimal("51.00"))  # market ran 2% away
    result = reevaluate("POV", start, now, progress=0.2, schedule_progress=0.5)
    assert result.new_strategy is Strategy.ICEBERG
    assert result.reason.startswith("limit now -176 bps from the mid, more than 100 bps on the passive side")
    assert result.parameters["limit_price"] == "50.10"


def test_limit_just_inside_the_threshold_is_left_alone():
    limit = Decimal("50.00") * (1 - Decimal(LIMIT_FAR_BPS - 1) / 10000)
    now = market(limit_price=limit)
    assert reevaluate("TWAP", market(limit_price=limit), now, progress=0.4, schedule_progress=0.4).action == "KEEP"


def test_passive_limit_the_market_came_through_is_re_selected():
    start = market(quantity=Decimal(5_000), limit_price=Decimal("49.80"))  # -40 bps: iceberg
    now = market(quantity=Decimal(5_000), limit_price=Decimal("49.80"), price=Decimal("49.60"))  # now +40 bps
    result = reevaluate("ICEBERG", start, now, progress=0.0, schedule_progress=0.1)
    assert result.action == "SWITCH" and result.new_strategy is Strategy.DIRECT
    assert result.reason.startswith(
        "limit now +40 bps through the mid (was -40): marketable, so re-selected: 0.050% of ADV"
    )


def test_checks_run_in_order_limit_before_liquidity_before_volatility():
    start = market(limit_price=Decimal("50.00"))
    now = market(limit_price=Decimal("50.00"), price=Decimal("52.00"), spread_bps=30.0, daily_vol=0.05)
    assert reevaluate("VWAP", start, now, progress=0.1, schedule_progress=0.5).new_strategy is Strategy.ICEBERG
    now = market(spread_bps=30.0, daily_vol=0.05)
    assert reevaluate("VWAP", market(), now, progress=0.1, schedule_progress=0.5).new_strategy is Strategy.DARK


def test_rejects_bad_arguments():
    with pytest.raises(ValueError):
        reevaluate("VWAP", market(), market(), progress=1.2, schedule_progress=0.5)
    with pytest.raises(ValueError):
        reevaluate("WAIT", market(), market(), progress=0.2, schedule_progress=0.5)
    with pytest.raises(ValueError):
        reevaluate("VWAP", market(), market(side="SELL"), progress=0.2, schedule_progress=0.5)


def test_result_is_plain_json():
    import json

    result = reevaluate("VWAP", market(), market(daily_vol=0.05), progress=0.4, schedule_progress=0.4)
    plain = json.loads(json.dumps(result.to_dict()))
    assert plain["action"] == "SWITCH" and plain["new_strategy"] == "IS"
