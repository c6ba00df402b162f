"""Strategy selection: the first rule (by priority) whose conditions hold picks the
strategy, its planner sets the parameters, the cost model prices them and the rationale
says in plain sentences which inputs drove the choice.

The pieces live beside this module: inputs.py (what we know and the features derived from
it), rules.py (the rules and matching), default_rules.py (the default matrix, ending in a
catch-all), planning.py (one planner per strategy) and rationale.py (the sentences)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from core.vocabulary import Strategy
from sor.domain import rationale
from sor.domain.default_rules import DEFAULT_RULES
from sor.domain.inputs import SelectionInputs, selection_features
from sor.domain.planning import plan_strategy
from sor.domain.rules import NoMatchingRule, SelectionRule, first_match, matching_rules


@dataclass(frozen=True, slots=True)
class Decision:
    strategy: Strategy
    parameters: dict[str, Any]
    estimated_cost_bps: float
    estimated_risk_bps: float
    estimated_cost: float  # currency of the instrument's price
    rationale: list[str]
    inputs: dict[str, Any]
    rule: str
    # spread / impact / fees split and currency figures, for the trader's ticket
    cost_breakdown: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy.value,
            "parameters": dict(self.parameters),
            "estimated_cost_bps": self.estimated_cost_bps,
            "estimated_risk_bps": self.estimated_risk_bps,
            "estimated_cost": self.estimated_cost,
            "rationale": list(self.rationale),
            "inputs": dict(self.inputs),
            "rule": self.rule,
            "cost_breakdown": dict(self.cost_breakdown),
        }


def select_strategy(inputs: SelectionInputs, rules: Sequence[SelectionRule] | None = None) -> Decision:
    """The first rule (by priority) matching `inputs` picks the strategy; None means
    DEFAULT_RULES. Raises NoMatchingRule if a custom rule set has no catch-all."""
    features = selection_features(inputs)
    rule = first_match(features, DEFAULT_RULES if rules is None else rules)
    if rule is None:
        raise NoMatchingRule("no selection rule matches; the rule set needs a catch-all")
    return _decision(rule, inputs, features)


def runner_up(inputs: SelectionInputs, rules: Sequence[SelectionRule] | None = None) -> Decision | None:
    """The router's second choice: the first rule after the chosen one (by priority) that
    matches and picks another strategy, planned and priced as `select_strategy` would plan
    it. None when no later matching rule picks another strategy (e.g. the chosen rule's
    only fallback is the catch-all with the same strategy): a rule with the same strategy
    and other parameters is a variant of the choice, not a second choice."""
    features = selection_features(inputs)
    matching = matching_rules(features, DEFAULT_RULES if rules is None else rules)
    if not matching:
        raise NoMatchingRule("no selection rule matches; the rule set needs a catch-all")
    chosen = matching[0].strategy
    for rule in matching[1:]:
        if rule.strategy is not chosen:
            return _decision(rule, inputs, features)
    return None


def _decision(rule: SelectionRule, inputs: SelectionInputs, features: dict[str, Any]) -> Decision:
    parameters, plan_sentences, cost = plan_strategy(rule.strategy, inputs, rule.parameters)
    sentences = [rationale.rule_sentence(rule.rationale, features)] if rule.rationale else []
    sentences += plan_sentences
    sentences.append(rationale.cost_sentence(cost))
    plain_inputs = inputs.to_dict()
    plain_inputs.update(
        participation=features["participation"],
        depth_ratio=features["depth_ratio"],
        volatility_regime=features["volatility_regime"].value,
        limit_distance_bps=inputs.limit_distance_bps,
    )
    return Decision(
        strategy=rule.strategy,
        parameters=parameters,
        estimated_cost_bps=cost.cost_bps,
        estimated_risk_bps=cost.timing_risk_bps,
        estimated_cost=cost.cost,
        rationale=sentences,
        inputs=plain_inputs,
        rule=rule.name,
        cost_breakdown=cost.to_dict(),
    )
