"""The router's second choice: the next matching rule after the chosen one that picks
another strategy, planned as select_strategy plans it."""

from decimal import Decimal

import pytest

from core.vocabulary import Strategy
from sor.domain import DEFAULT_RULES, NoMatchingRule, SelectionRule, runner_up, select_strategy
from sor.domain.inputs import selection_features
from tests.sor.factories import liquid_stock

PRIORITY = {rule.name: rule.priority for rule in DEFAULT_RULES}
BY_NAME = {rule.name: rule for rule in DEFAULT_RULES}


@pytest.mark.parametrize(
    "inputs",
    [
        liquid_stock(),  # tiny: DIRECT
        liquid_stock(quantity=Decimal(200_000)),  # 2% MEDIUM: DARK before POV
        liquid_stock(quantity=Decimal(1_500_000), urgency="HIGH"),  # IS
        liquid_stock(quantity=Decimal(1_500_000), urgency="LOW"),  # VWAP
        liquid_stock(quantity=Decimal(50_000), time_left_seconds=900),  # short window
    ],
    ids=["direct", "dark", "is", "vwap", "twap"],
)
def test_the_runner_up_is_the_next_matching_rule_with_another_strategy(inputs):
    chosen = select_strategy(inputs)
    second = runner_up(inputs)
    assert second is not None
    assert second.strategy is not chosen.strategy
    assert PRIORITY[second.rule] > PRIORITY[chosen.rule]
    features = selection_features(inputs)
    assert BY_NAME[second.rule].matches(features)
    # No rule between the two matches with a strategy other than the chosen one.
    between = [r for r in DEFAULT_RULES if PRIORITY[chosen.rule] < r.priority < PRIORITY[second.rule]]
    assert not [r for r in between if r.matches(features) and r.strategy is not chosen.strategy]
    # Planned and priced as the selector would plan that rule.
    assert second.parameters["horizon_seconds"] >= 0 and second.estimated_cost_bps > 0
    assert second.rationale and second.inputs == chosen.inputs


def test_the_dark_midsize_order_falls_back_to_the_medium_pov():
    inputs = liquid_stock(quantity=Decimal(200_000))  # 2% of ADV, MEDIUM, two dark pools
    assert select_strategy(inputs).rule == "dark-midsize"
    second = runner_up(inputs)
    assert (second.strategy, second.rule) == (Strategy.POV, "pov-medium")
    assert second.parameters["participation_rate"] == 0.12


def test_no_runner_up_when_only_the_same_strategy_follows():
    # 2% MEDIUM without dark pools: pov-medium, then only the POV catch-all matches.
    inputs = liquid_stock(quantity=Decimal(200_000), venue_count_dark=0)
    assert select_strategy(inputs).rule == "pov-medium"
    assert runner_up(inputs) is None


def test_custom_rules_without_a_match_raise_like_the_selector():
    rules = [SelectionRule(priority=1, name="only-huge", strategy="POV", participation_min=0.5)]
    with pytest.raises(NoMatchingRule):
        runner_up(liquid_stock(), rules)
    with pytest.raises(NoMatchingRule):
        select_strategy(liquid_stock(), rules)


def test_custom_rules_are_honoured():
    rules = [
        SelectionRule(priority=5, name="a", strategy="TWAP"),
        SelectionRule(priority=1, name="b", strategy="IS", participation_max=0.01),
        SelectionRule(priority=3, name="c", strategy="IS"),
    ]
    assert select_strategy(liquid_stock(), rules).rule == "b"
    assert runner_up(liquid_stock(), rules).rule == "a"  # "c" is the same strategy, priority order kept
