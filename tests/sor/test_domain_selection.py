import dataclasses
import json
import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.vocabulary import AssetClass, Strategy
from sor.domain import (
    DEFAULT_RULES,
    Decision,
    NoMatchingRule,
    SelectionInputs,
    SelectionRule,
    select_strategy,
)
from sor.domain.inputs import selection_features
from tests.sor.factories import DAY, illiquid_option, liquid_stock

# -- Required outcomes (a)-(d) -----------------------------------------------------------


def test_a_small_order_in_a_liquid_stock_is_swept_now():
    decision = select_strategy(liquid_stock(quantity=Decimal(1_000)))  # 0.01% of ADV
    assert decision.strategy is Strategy.DIRECT
    assert decision.rule == "direct-small"
    assert decision.parameters["horizon_seconds"] == 0
    assert decision.estimated_risk_bps == 0.0
    assert decision.rationale[0] == "0.010% of ADV with 50.0x its size displayed: one sweep of the lit book is cheapest"


@pytest.mark.parametrize("spread_bps", [2.0, 5.0])
@pytest.mark.parametrize("urgency", ["LOW", "MEDIUM", "HIGH"])
def test_a_holds_for_any_urgency_and_tight_spreads(spread_bps, urgency):
    decision = select_strategy(liquid_stock(spread_bps=spread_bps, urgency=urgency))
    assert decision.strategy is Strategy.DIRECT


def test_a_tiny_order_larger_than_the_displayed_book_goes_to_an_iceberg():
    # Documented choice: DIRECT needs the displayed book to cover the order.
    decision = select_strategy(liquid_stock(displayed_depth=Decimal(400)))
    assert decision.strategy is Strategy.ICEBERG
    assert decision.rule == "iceberg-thin-book"


def test_b_fifteen_percent_at_low_urgency_is_scheduled_patiently():
    decision = select_strategy(liquid_stock(quantity=Decimal(1_500_000), urgency="LOW"))
    assert decision.strategy is Strategy.VWAP
    assert decision.rule == "vwap-patient"
    assert decision.parameters["horizon_seconds"] == DAY  # uses the whole day
    assert decision.parameters["participation_rate"] == 0.15
    assert decision.rationale[0].startswith("15.0% of ADV: too large for one sweep")


@pytest.mark.parametrize(
    ("daily_vol", "rule"), [(0.005, "is-urgent-large"), (0.018, "is-urgent-large"), (0.05, "is-urgent-volatile")]
)
def test_c_fifteen_percent_at_high_urgency_is_is_whatever_the_volatility(daily_vol, rule):
    small = select_strategy(liquid_stock())
    patient = select_strategy(liquid_stock(quantity=Decimal(1_500_000), urgency="LOW", daily_vol=daily_vol))
    urgent = select_strategy(liquid_stock(quantity=Decimal(1_500_000), urgency="HIGH", daily_vol=daily_vol))
    assert urgent.strategy is Strategy.IS and urgent.rule == rule
    assert patient.strategy is Strategy.VWAP
    assert urgent.parameters["participation_rate"] > patient.parameters["participation_rate"]
    assert urgent.parameters["horizon_seconds"] < patient.parameters["horizon_seconds"]
    assert urgent.estimated_cost_bps > small.estimated_cost_bps
    assert urgent.estimated_cost_bps > patient.estimated_cost_bps  # faster costs more...
    assert urgent.estimated_risk_bps < patient.estimated_risk_bps  # ...and risks less


def test_c_in_high_volatility_names_both_inputs():
    decision = select_strategy(liquid_stock(quantity=Decimal(1_500_000), urgency="HIGH", daily_vol=0.05))
    assert decision.strategy is Strategy.IS
    assert decision.rationale[0] == (
        "HIGH urgency in HIGH volatility (5.0% a day): strongly front-loaded IS, at least 25% participation"
    )
    assert decision.parameters["participation_rate"] == 0.3  # half of the day for 15% of ADV
    assert decision.parameters["half_life_seconds"] == 3900  # horizon 11,700 s / kappa*T 3


@settings(max_examples=200, deadline=None)
@given(
    participation=st.floats(0.05, 0.6),
    time_left=st.floats(0, 5 * DAY),
    daily_vol=st.floats(0.001, 0.2),
)
def test_urgent_always_trades_faster_than_patient(participation, time_left, daily_vol):
    """Scenarios (b) vs (c) over any deadline and volatility: the urgent schedule may use
    half the time and 50% of volume, the patient one all the time but at most 25-35%.
    At 5% of ADV or more an urgent order is always IS; a patient one is a VWAP, or a TWAP
    when less than 30 minutes are left."""
    quantity = Decimal(round(participation * 10_000_000))
    common = dict(quantity=quantity, time_left_seconds=time_left, daily_vol=daily_vol, displayed_depth=Decimal(100))
    patient = select_strategy(liquid_stock(urgency="LOW", **common))
    urgent = select_strategy(liquid_stock(urgency="HIGH", **common))
    assert patient.strategy is (Strategy.TWAP if time_left < 1800 else Strategy.VWAP)
    assert urgent.strategy is Strategy.IS
    assert urgent.parameters["participation_rate"] > patient.parameters["participation_rate"]


def test_d_large_block_in_an_illiquid_option_goes_to_rfq():
    decision = select_strategy(illiquid_option())  # 30% of ADV, 350 bps wide, 5 lots shown
    assert decision.strategy is Strategy.RFQ
    assert decision.parameters["counterparties"] == 5
    assert decision.rationale[0] == "OPTION block of 30.0% of ADV: price it privately with liquidity providers (RFQ)"
    # 300 contracts x 2.40 x 100 per contract
    assert decision.cost_breakdown["notional"] == pytest.approx(72_000.0)
    assert decision.estimated_cost == pytest.approx(72_000.0 * decision.estimated_cost_bps / 1e4)


def test_small_option_order_in_a_wide_thin_market_is_rfq_too():
    decision = select_strategy(illiquid_option(quantity=Decimal(10), spread_bps=240.0, displayed_depth=Decimal(2)))
    assert decision.strategy is Strategy.RFQ
    assert decision.rule == "rfq-illiquid-option"
    assert decision.rationale[0] == "option spread 240 bps with 2 lots shown: RFQ"


def test_large_crypto_order_is_rfq():
    decision = select_strategy(
        liquid_stock(asset_class="CRYPTO", quantity=Decimal(800), adv=Decimal(10_000), daily_vol=0.035)
    )
    assert decision.strategy is Strategy.RFQ


# -- Other sensible outcomes ---------------------------------------------------------------


def test_mid_size_in_a_liquid_stock_with_dark_pools_goes_dark():
    decision = select_strategy(liquid_stock(quantity=Decimal(300_000)))  # 3% of ADV
    assert decision.strategy is Strategy.DARK
    assert decision.parameters["dark_fraction"] == 1.0
    assert decision.rationale[0].startswith("3.00% of ADV in a liquid stock (3.0 bps spread) with 2 dark pool(s)")
    no_dark = select_strategy(liquid_stock(quantity=Decimal(300_000), venue_count_dark=0))
    assert no_dark.strategy is Strategy.POV


def test_thin_book_small_participation_goes_to_an_iceberg():
    decision = select_strategy(liquid_stock(quantity=Decimal(30_000), displayed_depth=Decimal(5_000)))
    assert decision.strategy is Strategy.ICEBERG
    assert decision.parameters["display_quantity"] == "3000"


def test_passive_limit_rests_as_an_iceberg():
    decision = select_strategy(liquid_stock(quantity=Decimal(300_000), limit_price=Decimal("99.50")))
    assert decision.strategy is Strategy.ICEBERG
    assert decision.parameters["limit_price"] == "99.50"
    assert decision.rationale[0].startswith("limit -50 bps from the mid, on the passive side")
    # A limit on the marketable side does not trigger it, nor does the same limit for a seller.
    assert (
        select_strategy(liquid_stock(quantity=Decimal(300_000), limit_price=Decimal("100.50"))).strategy
        is Strategy.DARK
    )
    assert (
        select_strategy(liquid_stock(side="SELL", quantity=Decimal(300_000), limit_price=Decimal("99.50"))).strategy
        is Strategy.DARK
    )


def test_little_time_left_is_a_twap_and_says_it_will_run_late():
    decision = select_strategy(liquid_stock(quantity=Decimal(300_000), time_left_seconds=600))
    assert decision.strategy is Strategy.TWAP
    assert decision.parameters["participation_rate"] == 0.35
    assert any("capped at 35%, so the order will run past its deadline" in line for line in decision.rationale)


def test_decision_is_plain_json():
    decision = select_strategy(liquid_stock(quantity=Decimal(1_500_000), urgency="HIGH", limit_price=Decimal("101")))
    plain = json.loads(json.dumps(decision.to_dict()))
    assert plain["strategy"] == "IS"
    assert plain["inputs"]["quantity"] == "1500000" and plain["inputs"]["limit_price"] == "101"
    assert plain["inputs"]["urgency"] == "HIGH" and plain["inputs"]["volatility_regime"] == "NORMAL"
    assert plain["inputs"]["participation"] == 0.15
    assert plain["parameters"]["limit_price"] == "101"
    assert plain["rule"] == "is-urgent-large"
    assert plain["cost_breakdown"]["cost_bps"] == pytest.approx(decision.estimated_cost_bps)


def test_range_bounds_are_half_open():
    at_bound = liquid_stock(quantity=Decimal(10_000))  # exactly 0.1% of ADV
    assert at_bound.participation == 0.001
    assert select_strategy(at_bound).rule == "dark-midsize"  # whose range starts where direct-small's ends
    assert select_strategy(liquid_stock(quantity=Decimal(9_999))).rule == "direct-small"


# -- The matrix: exactly one strategy everywhere ------------------------------------------


random_inputs = st.builds(
    SelectionInputs,
    side=st.sampled_from(["BUY", "SELL"]),
    quantity=st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10_000_000), places=3),
    price=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100_000), places=2),
    adv=st.floats(1, 1e9),
    daily_vol=st.floats(0, 0.5),
    spread_bps=st.floats(0, 5_000),
    displayed_depth=st.decimals(min_value=Decimal(0), max_value=Decimal(10_000_000), places=3),
    urgency=st.sampled_from(["LOW", "MEDIUM", "HIGH"]),
    asset_class=st.sampled_from(["EQUITY", "OPTION", "CRYPTO"]),
    time_left_seconds=st.floats(0, 10 * DAY),
    limit_price=st.none() | st.decimals(min_value=Decimal("0.01"), max_value=Decimal(200_000), places=2),
    lot_size=st.sampled_from([Decimal(1), Decimal(100), Decimal("0.001")]),
    multiplier=st.sampled_from([1, 100]),
    impact_coef=st.floats(0.1, 2.0),
    venue_count_dark=st.integers(0, 5),
)


@settings(max_examples=200, deadline=None)
@given(inputs=random_inputs)
def test_every_input_gets_exactly_one_strategy(inputs):
    decision = select_strategy(inputs)
    features_rule = [rule for rule in DEFAULT_RULES if rule.matches(selection_features(inputs))]
    assert features_rule, "the catch-all must match everything"
    assert decision.rule == features_rule[0].name  # the first match by priority, and only it
    assert decision.strategy is features_rule[0].strategy
    assert decision.rationale and all(isinstance(line, str) and line for line in decision.rationale)
    assert math.isfinite(decision.estimated_cost_bps) and decision.estimated_cost_bps >= 0
    assert math.isfinite(decision.estimated_risk_bps) and decision.estimated_risk_bps >= 0
    assert math.isfinite(decision.estimated_cost)
    json.dumps(decision.to_dict())


def test_rule_list_order_does_not_matter_only_priority():
    inputs = liquid_stock(quantity=Decimal(1_500_000), urgency="HIGH")
    assert select_strategy(inputs, list(reversed(DEFAULT_RULES))).rule == select_strategy(inputs).rule


def test_rules_without_a_catch_all_can_fail_to_match():
    only_options = [rule for rule in DEFAULT_RULES if rule.asset_classes == frozenset({AssetClass.OPTION})]
    with pytest.raises(NoMatchingRule):
        select_strategy(liquid_stock(), only_options)


# -- Rules as data ------------------------------------------------------------------------


def test_null_parameters_from_the_admin_select_with_the_defaults():
    rule = SelectionRule.from_dict({**DEFAULT_RULES[-1].to_dict(), "parameters": None})
    assert select_strategy(liquid_stock(quantity=Decimal(20_000), venue_count_dark=0), [rule]).strategy is Strategy.POV


def test_an_edited_rule_changes_the_decision():
    edited = [
        SelectionRule.from_dict({**rule.to_dict(), "strategy": "TWAP"}) if rule.name == "direct-small" else rule
        for rule in DEFAULT_RULES
    ]
    decision = select_strategy(liquid_stock(), edited)
    assert decision.strategy is Strategy.TWAP and decision.rule == "direct-small"


def test_decision_fields_match_the_contract():
    names = [f.name for f in dataclasses.fields(Decision)]
    assert names[:8] == [
        "strategy",
        "parameters",
        "estimated_cost_bps",
        "estimated_risk_bps",
        "estimated_cost",
        "rationale",
        "inputs",
        "rule",
    ]
