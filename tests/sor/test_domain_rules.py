import dataclasses
import json
import math

import pytest

from core.vocabulary import AssetClass, Strategy, Urgency
from sor.domain import DEFAULT_RULES, SelectionRule, VolatilityRegime
from sor.domain.inputs import selection_features
from sor.domain.rules import RANGE_CONDITIONS, RANGE_FIELDS, SET_FIELDS, first_match
from tests.sor.factories import liquid_stock


def _rule(**conditions) -> SelectionRule:
    return SelectionRule(priority=1, name="test", strategy="POV", **conditions)


# -- The default matrix -------------------------------------------------------------------


def test_default_rules_shape():
    priorities = [rule.priority for rule in DEFAULT_RULES]
    assert priorities == sorted(priorities) and len(set(priorities)) == len(priorities)
    assert len({rule.name for rule in DEFAULT_RULES}) == len(DEFAULT_RULES)
    assert DEFAULT_RULES[-1].is_catch_all
    assert not any(rule.is_catch_all for rule in DEFAULT_RULES[:-1])
    assert {rule.strategy for rule in DEFAULT_RULES} == set(Strategy)


# -- Conditions and matching ---------------------------------------------------------------


def test_the_condition_fields_are_the_rule_fields():
    declared = [f.name for f in dataclasses.fields(SelectionRule) if f.init]
    bounds = [f"{prefix}_{bound}" for prefix in RANGE_FIELDS for bound in ("min", "max")]
    assert declared == ["priority", "name", "strategy", "rationale", *bounds, *SET_FIELDS, "parameters"]
    assert dict(RANGE_CONDITIONS)["dark_venues"] == "venue_count_dark"


@pytest.mark.parametrize(("value", "matches"), [(0.0999, False), (0.1, True), (0.1999, True), (0.2, False)])
def test_ranges_are_half_open(value, matches):
    rule = _rule(participation_min=0.1, participation_max=0.2)
    assert rule.matches({"participation": value}) is matches


def test_an_open_bound_is_unbounded():
    assert _rule(spread_bps_min=10).matches({"spread_bps": 1e12})
    assert _rule(limit_distance_bps_max=-25).matches({"limit_distance_bps": -math.inf})
    assert not _rule(limit_distance_bps_max=-25).matches({"limit_distance_bps": math.inf})  # no limit


def test_dark_venues_test_the_venue_count():
    rule = _rule(dark_venues_min=1)
    assert rule.matches({"venue_count_dark": 1}) and not rule.matches({"venue_count_dark": 0})


def test_sets_hold_the_allowed_members():
    rule = _rule(urgencies=["LOW", "MEDIUM"], volatility_regimes=["HIGH"])
    assert rule.urgencies == frozenset({Urgency.LOW, Urgency.MEDIUM})
    assert rule.matches({"urgency": Urgency.LOW, "volatility_regime": VolatilityRegime.HIGH})
    assert not rule.matches({"urgency": Urgency.HIGH, "volatility_regime": VolatilityRegime.HIGH})
    assert not rule.matches({"urgency": Urgency.LOW, "volatility_regime": VolatilityRegime.NORMAL})


def test_a_rule_without_conditions_is_a_catch_all():
    assert _rule().is_catch_all and _rule().matches({})
    assert not _rule(asset_classes=[AssetClass.OPTION]).is_catch_all


def test_first_match_is_by_priority_then_list_order():
    features = selection_features(liquid_stock())
    late = SelectionRule(priority=20, name="late", strategy="TWAP")
    early = SelectionRule(priority=10, name="early", strategy="VWAP")
    tie = SelectionRule(priority=10, name="tie", strategy="POV")
    assert first_match(features, [late, early, tie]) is early
    assert first_match(features, [late, tie, early]) is tie
    assert first_match(features, [early, late]) is early


def test_first_match_of_nothing_is_none():
    assert first_match({"participation": 0.5}, []) is None
    assert first_match({"participation": 0.5}, [_rule(participation_max=0.1)]) is None


# -- Rules as data ------------------------------------------------------------------------


@pytest.mark.parametrize("rule", DEFAULT_RULES, ids=lambda rule: rule.name)
def test_rules_round_trip_through_plain_dicts_and_json(rule):
    plain = rule.to_dict()
    assert SelectionRule.from_dict(plain) == rule
    assert SelectionRule.from_dict(json.loads(json.dumps(plain))) == rule
    assert SelectionRule.from_dict(plain).to_dict() == plain


def test_null_parameters_from_the_admin_mean_none():
    rule = SelectionRule.from_dict({**DEFAULT_RULES[-1].to_dict(), "parameters": None})
    assert rule.parameters == {}


def test_rule_dict_is_flat_and_readable():
    plain = next(rule for rule in DEFAULT_RULES if rule.name == "rfq-derivative-block").to_dict()
    assert plain["strategy"] == "RFQ"
    assert plain["asset_classes"] == ["CRYPTO", "OPTION"]
    assert plain["participation_min"] == 0.05 and plain["participation_max"] is None
    assert plain["urgencies"] is None
    assert plain["parameters"] == {"counterparties": 5, "max_horizon_seconds": 30}


@pytest.mark.parametrize(
    "change",
    [
        {"colour": "red"},
        {"strategy": "MOON"},
        {"participation_min": 0.2, "participation_max": 0.1},
        {"participation_min": 0.1, "participation_max": 0.1},
        {"urgencies": ["SOON"]},
        {"urgencies": []},
        {"rationale": "{no_such_feature} is large"},
        {"rationale": "{participation_pct:.1q}"},
        {"parameters": {"participation": 0.1}},
    ],
)
def test_invalid_rule_dicts_are_refused(change):
    plain = {**DEFAULT_RULES[0].to_dict(), **change}
    with pytest.raises(ValueError):
        SelectionRule.from_dict(plain)
