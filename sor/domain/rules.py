"""Selection rules as data: a box in the input space plus the strategy it picks.

A rule's conditions are half-open ranges (min inclusive, max exclusive; None means
unbounded) over numeric features and sets of allowed categories (None means any). Rules
round-trip through plain dicts so the Django side can keep them in an admin-editable table;
RANGE_FIELDS and SET_FIELDS name the conditions for it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from core.vocabulary import AssetClass, Strategy, Urgency, parse_enum
from sor.domain.inputs import SAMPLE_FEATURES
from sor.domain.planning import PARAMETER_KEYS
from sor.domain.types import VolatilityRegime

# Each range condition: the prefix of its <prefix>_min / <prefix>_max fields, and the
# feature (see selection_features) it tests.
RANGE_CONDITIONS: tuple[tuple[str, str], ...] = (
    ("participation", "participation"),
    ("spread_bps", "spread_bps"),
    ("depth_ratio", "depth_ratio"),
    ("time_left_seconds", "time_left_seconds"),
    ("limit_distance_bps", "limit_distance_bps"),
    ("dark_venues", "venue_count_dark"),
)
# Each set condition: its field, the feature it tests and the enum of its members.
SET_CONDITIONS: tuple[tuple[str, str, type], ...] = (
    ("volatility_regimes", "volatility_regime", VolatilityRegime),
    ("urgencies", "urgency", Urgency),
    ("asset_classes", "asset_class", AssetClass),
)
RANGE_FIELDS: tuple[str, ...] = tuple(prefix for prefix, _ in RANGE_CONDITIONS)
SET_FIELDS: tuple[str, ...] = tuple(name for name, _, _ in SET_CONDITIONS)


class NoMatchingRule(ValueError):
    """The rule set has no catch-all and nothing matched."""


@dataclass(frozen=True, slots=True)
class SelectionRule:
    priority: int  # lower is evaluated first; ties keep list order
    name: str
    strategy: Strategy
    rationale: str = ""  # str.format template over the features, e.g. {participation_pct:.1f}
    participation_min: float | None = None
    participation_max: float | None = None
    spread_bps_min: float | None = None
    spread_bps_max: float | None = None
    depth_ratio_min: float | None = None
    depth_ratio_max: float | None = None
    time_left_seconds_min: float | None = None
    time_left_seconds_max: float | None = None
    limit_distance_bps_min: float | None = None
    limit_distance_bps_max: float | None = None
    dark_venues_min: int | None = None
    dark_venues_max: int | None = None
    volatility_regimes: frozenset[VolatilityRegime] | None = None
    urgencies: frozenset[Urgency] | None = None
    asset_classes: frozenset[AssetClass] | None = None
    parameters: Mapping[str, float] = field(default_factory=dict, hash=False)
    # Precompiled conditions, so matching is a tight loop over what the rule constrains.
    _ranges: tuple[tuple[str, float, float], ...] = field(init=False, repr=False, compare=False)
    _sets: tuple[tuple[str, frozenset], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "strategy", parse_enum(Strategy, self.strategy, "strategy"))
        ranges = []
        for prefix, feature in RANGE_CONDITIONS:
            low, high = getattr(self, f"{prefix}_min"), getattr(self, f"{prefix}_max")
            if low is not None and high is not None and low >= high:
                raise ValueError(f"rule {self.name!r}: {prefix}_min must be < {prefix}_max")
            if low is not None or high is not None:
                ranges.append((feature, -math.inf if low is None else low, math.inf if high is None else high))
        sets = []
        for set_field, feature, enum_type in SET_CONDITIONS:
            members = getattr(self, set_field)
            if members is not None:
                members = frozenset(parse_enum(enum_type, m, set_field) for m in members)
                if not members:
                    raise ValueError(f"rule {self.name!r}: {set_field} is empty (use None for any)")
                object.__setattr__(self, set_field, members)
                sets.append((feature, members))
        object.__setattr__(self, "parameters", dict(self.parameters or {}))  # admin JSON may hold null
        unknown = set(self.parameters) - PARAMETER_KEYS
        if unknown:
            raise ValueError(f"rule {self.name!r}: unknown parameters {sorted(unknown)}")
        try:
            self.rationale.format(**SAMPLE_FEATURES)
        except (KeyError, ValueError, IndexError, AttributeError) as error:
            raise ValueError(f"rule {self.name!r}: bad rationale template: {error!r}") from None
        object.__setattr__(self, "_ranges", tuple(ranges))
        object.__setattr__(self, "_sets", tuple(sets))

    @property
    def is_catch_all(self) -> bool:
        return not self._ranges and not self._sets

    def matches(self, features: Mapping[str, Any]) -> bool:
        # Plain loops rather than all(...): this runs for every rule of every decision.
        for feature, low, high in self._ranges:
            if not low <= features[feature] < high:
                return False
        for feature, members in self._sets:  # noqa: SIM110
            if features[feature] not in members:
                return False
        return True

    def to_dict(self) -> dict[str, Any]:
        plain: dict[str, Any] = {}
        for f in fields(self):
            if f.name.startswith("_"):
                continue
            value = getattr(self, f.name)
            if isinstance(value, frozenset):
                value = sorted(member.value for member in value)
            elif isinstance(value, Strategy):
                value = value.value
            elif f.name == "parameters":
                value = dict(value)
            plain[f.name] = value
        return plain

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SelectionRule:
        known = {f.name for f in fields(cls) if f.init}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown rule fields {sorted(unknown)}")
        values = dict(data)
        for set_field in SET_FIELDS:
            if values.get(set_field) is not None:
                values[set_field] = frozenset(values[set_field])
        return cls(**values)


_DECLARED = {f.name for f in fields(SelectionRule)}
_UNDECLARED = [f"{p}_{b}" for p in RANGE_FIELDS for b in ("min", "max") if f"{p}_{b}" not in _DECLARED]
_UNDECLARED += [name for name in SET_FIELDS if name not in _DECLARED]
if _UNDECLARED:
    raise RuntimeError(f"SelectionRule lacks the condition fields {_UNDECLARED}")


def first_match(features: Mapping[str, Any], rules: Sequence[SelectionRule]) -> SelectionRule | None:
    """The first rule by priority (ties keep list order) whose conditions all hold."""
    ordered = rules if _is_sorted(rules) else sorted(rules, key=_priority)
    for rule in ordered:
        if rule.matches(features):
            return rule
    return None


def matching_rules(features: Mapping[str, Any], rules: Sequence[SelectionRule]) -> list[SelectionRule]:
    """Every rule whose conditions hold, by priority (ties keep list order): the first is
    the choice, the others the fallbacks behind it."""
    ordered = rules if _is_sorted(rules) else sorted(rules, key=_priority)
    return [rule for rule in ordered if rule.matches(features)]


def _priority(rule: SelectionRule) -> int:
    return rule.priority


def _is_sorted(rules: Sequence[SelectionRule]) -> bool:
    # The default matrix is kept sorted: checking is cheaper than sorting on every decision.
    return all(rules[i].priority <= rules[i + 1].priority for i in range(len(rules) - 1))
