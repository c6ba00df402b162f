"""Strategy selection: a matrix of rules held as data, first match by priority wins.

A rule is a box in the input space (half-open ranges: min inclusive, max exclusive; None
means unbounded) plus sets of allowed categories (None means any). The default matrix
(default_rules.py) ends in a catch-all, so every input gets exactly one strategy. Rules
round-trip through plain dicts so the Django side can keep them in an admin-editable table.

The chosen strategy's parameters (horizon, participation, slices...) are derived from the
rule's defaults and the order, then the cost model prices that horizon, and the rationale
says in plain sentences which inputs drove the choice.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sor.domain.cost import DEFAULT_IMPACT_COEF, CostEstimate, estimate_cost
from sor.domain.types import (
    TRADING_DAY_SECONDS,
    AssetClass,
    Side,
    Strategy,
    Urgency,
    VolatilityRegime,
    parse_enum,
)

Number = Decimal | float | int

# Daily volatility thresholds (fractions) splitting LOW | NORMAL | HIGH, per asset class.
# Equities: a large cap moves ~1-2% a day, so below 1.2% is quiet and above 3% is stressed.
# Crypto majors routinely move 2-5% a day. Option premia move several times their
# underlying (leverage), so their daily volatility is judged against a much wider band.
VOLATILITY_THRESHOLDS: dict[AssetClass, tuple[float, float]] = {
    AssetClass.EQUITY: (0.012, 0.03),
    AssetClass.CRYPTO: (0.025, 0.06),
    AssetClass.OPTION: (0.03, 0.08),
}
DEFAULT_TAKER_FEE_BPS = 0.3
# Default upper bound on the share of market volume a schedule may take (a rule may set a
# lower one): beyond half of the volume we would be the market, and the cost model's
# assumptions no longer hold.
MAX_PARTICIPATION_RATE = 0.5
# A schedule shorter than this is not a schedule; also the floor when time is up.
MIN_HORIZON_SECONDS = 60.0
DEFAULT_SLICE_SECONDS = 300.0
DEFAULT_DARK_HORIZON_SECONDS = 1800.0
DEFAULT_RFQ_SECONDS = 30.0
DEFAULT_RFQ_COUNTERPARTIES = 5
# Liquidity providers price a block off the immediate square-root impact but can warehouse
# and hedge it over time; we assume they charge half of it. No exchange fees on an RFQ.
RFQ_IMPACT_SHARE = 0.5


# --------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True, slots=True)
class SelectionInputs:
    """What the selector knows about an order and its market. Quantities are in the
    instrument's units (shares, contracts, coins); price is the mid; daily_vol a fraction."""

    side: Side
    quantity: Number
    price: Number
    adv: Number
    daily_vol: float
    spread_bps: float
    displayed_depth: Number  # our side of the book (asks for a buy), all lit venues
    urgency: Urgency
    asset_class: AssetClass
    time_left_seconds: float  # until the order must be done
    limit_price: Number | None = None
    lot_size: Number = Decimal(1)
    multiplier: Number = 1
    impact_coef: float = DEFAULT_IMPACT_COEF
    venue_count_dark: int = 0
    fee_bps: float = DEFAULT_TAKER_FEE_BPS

    def __post_init__(self) -> None:
        object.__setattr__(self, "side", parse_enum(Side, self.side, "side"))
        object.__setattr__(self, "urgency", parse_enum(Urgency, self.urgency, "urgency"))
        object.__setattr__(self, "asset_class", parse_enum(AssetClass, self.asset_class, "asset_class"))
        if not (self.quantity > 0 and self.price > 0 and self.adv > 0 and self.lot_size > 0):
            raise ValueError("quantity, price, adv and lot_size must be > 0")
        if not (self.daily_vol >= 0 and self.spread_bps >= 0 and self.displayed_depth >= 0):
            raise ValueError("daily_vol, spread_bps and displayed_depth must be >= 0")
        if not (self.time_left_seconds >= 0 and self.venue_count_dark >= 0 and self.fee_bps >= 0):
            raise ValueError("time_left_seconds, venue_count_dark and fee_bps must be >= 0")
        if self.limit_price is not None and not self.limit_price > 0:
            raise ValueError("limit_price must be > 0")

    @property
    def participation(self) -> float:
        return float(self.quantity) / float(self.adv)

    @property
    def depth_ratio(self) -> float:
        return float(self.displayed_depth) / float(self.quantity)

    @property
    def volatility_regime(self) -> VolatilityRegime:
        low, high = VOLATILITY_THRESHOLDS[self.asset_class]
        if self.daily_vol < low:
            return VolatilityRegime.LOW
        if self.daily_vol > high:
            return VolatilityRegime.HIGH
        return VolatilityRegime.NORMAL

    @property
    def limit_distance_bps(self) -> float | None:
        """How far the limit lets us pay through the mid: positive = marketable room,
        negative = the limit sits behind the mid on the passive side. None without limit."""
        if self.limit_price is None:
            return None
        mid = float(self.price)
        distance = (float(self.limit_price) - mid) / mid * 1e4
        return distance if self.side is Side.BUY else -distance

    @property
    def trading_day_seconds(self) -> float:
        return TRADING_DAY_SECONDS[self.asset_class]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values; decimals as strings, as everywhere at our edges."""
        return {name: _plain(getattr(self, name)) for name in _INPUT_FIELDS}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str):  # our StrEnums become their bare value
        return str.__str__(value)
    return value


_INPUT_FIELDS = tuple(f.name for f in fields(SelectionInputs))


def selection_features(inputs: SelectionInputs) -> dict[str, Any]:
    """Everything rules test and rationale templates may quote, computed once."""
    participation = inputs.participation
    limit_distance = inputs.limit_distance_bps
    return {
        "participation": participation,
        "participation_pct": participation * 100,
        "spread_bps": float(inputs.spread_bps),
        "depth_ratio": inputs.depth_ratio,
        "volatility_regime": inputs.volatility_regime,
        "daily_vol_pct": inputs.daily_vol * 100,
        "urgency": inputs.urgency,
        "asset_class": inputs.asset_class,
        "time_left_seconds": float(inputs.time_left_seconds),
        "time_left_minutes": inputs.time_left_seconds / 60,
        # No limit = nothing stops us paying through the mid: as far as +infinity.
        "limit_distance_bps": math.inf if limit_distance is None else limit_distance,
        "venue_count_dark": inputs.venue_count_dark,
        "quantity": inputs.quantity,
        "displayed_depth": inputs.displayed_depth,
        "lots_shown": float(inputs.displayed_depth) / float(inputs.lot_size),
        "side": inputs.side,
    }


# A complete example of the features, used to check rationale templates when a rule is
# built, so a typo in the admin fails on save rather than on the next order.
_SAMPLE_FEATURES = selection_features(
    SelectionInputs(
        side=Side.BUY, quantity=1000, price=100, adv=1e6, daily_vol=0.02, spread_bps=5,
        displayed_depth=5000, urgency=Urgency.MEDIUM, asset_class=AssetClass.EQUITY,
        time_left_seconds=3600, limit_price=101,
    )
)


# --------------------------------------------------------------------------------------
# Rules

# (condition field prefix, feature it tests); each has <prefix>_min and <prefix>_max.
_RANGE_CONDITIONS: tuple[tuple[str, str], ...] = (
    ("participation", "participation"),
    ("spread_bps", "spread_bps"),
    ("depth_ratio", "depth_ratio"),
    ("time_left_seconds", "time_left_seconds"),
    ("limit_distance_bps", "limit_distance_bps"),
    ("dark_venues", "venue_count_dark"),
)
# (set field, feature it tests, enum of its members)
_SET_CONDITIONS: tuple[tuple[str, str, type], ...] = (
    ("volatility_regimes", "volatility_regime", VolatilityRegime),
    ("urgencies", "urgency", Urgency),
    ("asset_classes", "asset_class", AssetClass),
)
# Keys a rule's parameter defaults may set (see plan_strategy for their meaning).
PARAMETER_KEYS = frozenset(
    {
        "participation_rate", "slice_seconds", "max_horizon_seconds", "horizon_share",
        "display_fraction", "counterparties", "dark_fraction", "expected_dark_fill",
        "aggressive_fraction", "front_loading", "max_participation_rate",
    }
)


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
        for prefix, feature in _RANGE_CONDITIONS:
            low, high = getattr(self, f"{prefix}_min"), getattr(self, f"{prefix}_max")
            if low is not None and high is not None and low >= high:
                raise ValueError(f"rule {self.name!r}: {prefix}_min must be < {prefix}_max")
            if low is not None or high is not None:
                ranges.append((feature, -math.inf if low is None else low, math.inf if high is None else high))
        sets = []
        for set_field, feature, enum_type in _SET_CONDITIONS:
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
            self.rationale.format(**_SAMPLE_FEATURES)
        except (KeyError, ValueError, IndexError, AttributeError) as error:
            raise ValueError(f"rule {self.name!r}: bad rationale template: {error!r}") from None
        object.__setattr__(self, "_ranges", tuple(ranges))
        object.__setattr__(self, "_sets", tuple(sets))

    @property
    def is_catch_all(self) -> bool:
        return not self._ranges and not self._sets

    def matches(self, features: Mapping[str, Any]) -> bool:
        for feature, low, high in self._ranges:
            if not low <= features[feature] < high:
                return False
        for feature, members in self._sets:
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
        for set_field, _, _ in _SET_CONDITIONS:
            if values.get(set_field) is not None:
                values[set_field] = frozenset(values[set_field])
        return cls(**values)


def first_match(features: Mapping[str, Any], rules: Sequence[SelectionRule]) -> SelectionRule | None:
    for rule in sorted(rules, key=_priority):
        if rule.matches(features):
            return rule
    return None


def _priority(rule: SelectionRule) -> int:
    return rule.priority


def _is_sorted(rules: Sequence[SelectionRule]) -> bool:
    return all(rules[i].priority <= rules[i + 1].priority for i in range(len(rules) - 1))


# --------------------------------------------------------------------------------------
# Decision


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


class NoMatchingRule(ValueError):
    """The rule set has no catch-all and nothing matched."""


def select_strategy(inputs: SelectionInputs, rules: Sequence[SelectionRule] | None = None) -> Decision:
    """The first rule (by priority) matching `inputs` picks the strategy; None means
    DEFAULT_RULES. Raises NoMatchingRule if a custom rule set has no catch-all."""
    if rules is None:
        # Imported here because the default rules are built from SelectionRule above.
        from sor.domain.default_rules import DEFAULT_RULES

        rules = DEFAULT_RULES
    ordered = rules if _is_sorted(rules) else sorted(rules, key=_priority)
    features = selection_features(inputs)
    for rule in ordered:
        if rule.matches(features):
            break
    else:
        raise NoMatchingRule("no selection rule matches; the rule set needs a catch-all")

    parameters, plan_sentences, cost = plan_strategy(rule.strategy, inputs, rule.parameters)
    rationale = [rule.rationale.format(**features)] if rule.rationale else []
    rationale += plan_sentences
    rationale.append(
        f"Estimated cost {cost.cost_bps:.1f} bps (half-spread {cost.spread_bps:.1f}, "
        f"impact {cost.impact_bps:.1f}, fees {cost.fees_bps:.1f}) = {cost.cost:,.2f}; "
        f"timing risk {cost.timing_risk_bps:.1f} bps"
    )
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
        rationale=rationale,
        inputs=plain_inputs,
        rule=rule.name,
        cost_breakdown=cost.to_dict(),
    )


# --------------------------------------------------------------------------------------
# Parameters and cost of the chosen strategy


def plan_strategy(
    strategy: Strategy, inputs: SelectionInputs, defaults: Mapping[str, float]
) -> tuple[dict[str, Any], list[str], CostEstimate]:
    """Turn a strategy and its rule defaults into concrete parameters for this order,
    the sentences that explain them, and the cost model's estimate for that horizon."""
    quantity, adv = float(inputs.quantity), float(inputs.adv)
    day = inputs.trading_day_seconds
    participation = quantity / adv
    # A scheduled strategy may use this much of the time left (urgent orders use less).
    usable = max(inputs.time_left_seconds * defaults.get("horizon_share", 1.0), MIN_HORIZON_SECONDS)
    parameters: dict[str, Any] = {
        "horizon_seconds": 0,
        "participation_rate": None,
        "slices": 1,
        "display_quantity": None,
        "counterparties": None,
        "limit_price": None if inputs.limit_price is None else str(inputs.limit_price),
        "dark_fraction": None,
        "half_life_seconds": None,
    }
    sentences: list[str] = []
    cost_kwargs: dict[str, Any] = {}
    aggressive = defaults.get("aggressive_fraction", 1.0)

    if strategy is Strategy.DIRECT:
        horizon, rate = 0.0, 1.0
        sentences.append(f"Sweep the lit book now for {_quantity_text(inputs.quantity)}")
    elif strategy is Strategy.RFQ:
        horizon, rate = defaults.get("max_horizon_seconds", DEFAULT_RFQ_SECONDS), 1.0
        counterparties = int(defaults.get("counterparties", DEFAULT_RFQ_COUNTERPARTIES))
        parameters["counterparties"] = counterparties
        cost_kwargs = {"fee_bps": 0.0, "impact_coef": inputs.impact_coef * RFQ_IMPACT_SHARE}
        sentences.append(
            f"Request quotes from {counterparties} liquidity providers for the whole block, "
            f"answering within {horizon:.0f} s"
        )
    elif strategy is Strategy.DARK:
        horizon = min(usable, defaults.get("max_horizon_seconds", DEFAULT_DARK_HORIZON_SECONDS))
        rate = participation / (horizon / day)
        dark_fraction = defaults.get("dark_fraction", 1.0)
        expected_fill = defaults.get("expected_dark_fill", 0.5)
        parameters["dark_fraction"] = dark_fraction
        # Dark fills at the mid pay no half-spread and no taker fee; the residual does.
        aggressive = 1.0 - dark_fraction * expected_fill
        sentences.append(
            f"Rest {dark_fraction:.0%} at the mid in {inputs.venue_count_dark} dark pool(s) for "
            f"up to {_duration_text(horizon)}, expecting {expected_fill:.0%} filled, then sweep the residual"
        )
    else:  # TWAP, VWAP, POV, IS, ICEBERG: trade along a schedule at a participation rate
        target = defaults.get("participation_rate", 0.1)
        horizon = participation / target * day
        if horizon > usable:
            horizon = usable  # finish in time, trading faster than the target
        rate = participation / (horizon / day)
        # A patient order would rather run late than become a large share of the market.
        cap = defaults.get("max_participation_rate", MAX_PARTICIPATION_RATE)
        if rate > cap:
            sentences.append(
                f"Finishing in {_duration_text(usable)} would need {rate:.0%} of the volume; "
                f"capped at {cap:.0%}, so the order will run past its deadline"
            )
            rate = cap
            horizon = participation / rate * day
        slices = max(1, math.ceil(horizon / defaults.get("slice_seconds", DEFAULT_SLICE_SECONDS)))
        parameters["slices"] = slices
        if strategy is Strategy.ICEBERG:
            display = _display_quantity(inputs, defaults.get("display_fraction", 0.1))
            parameters["display_quantity"] = str(display)
            sentences.append(
                f"Show {_quantity_text(display)} at a time, working {_quantity_text(inputs.quantity)} "
                f"over {_duration_text(horizon)} at about {rate:.1%} of volume"
            )
        else:
            sentences.append(f"{strategy.value} over {_duration_text(horizon)} in {slices} slices at {rate:.1%} of volume")
        if strategy is Strategy.IS:
            # Almgren-Chriss holdings decay like sinh(kappa (T - t)); the rule sets kappa*T,
            # unit-free, and the schedule gets the half-life 1/kappa in seconds.
            front_loading = defaults.get("front_loading", 1.0)
            if front_loading > 0:
                half_life = horizon / front_loading
                parameters["half_life_seconds"] = round(half_life)
                sentences.append(
                    f"Front-loaded: holdings decay with a half-life of {_duration_text(half_life)}, "
                    f"{_is_share_done_by_half_time(front_loading):.0%} done by half time"
                )
    parameters["horizon_seconds"] = round(horizon)
    if strategy not in (Strategy.DIRECT, Strategy.RFQ):
        parameters["participation_rate"] = round(min(rate, 1.0), 4)

    cost = estimate_cost(
        quantity=quantity,
        price=float(inputs.price),
        adv=adv,
        daily_vol=inputs.daily_vol,
        spread_bps=inputs.spread_bps,
        horizon_seconds=horizon,
        fee_bps=cost_kwargs.get("fee_bps", inputs.fee_bps),
        impact_coef=cost_kwargs.get("impact_coef", inputs.impact_coef),
        multiplier=float(inputs.multiplier),
        participation_rate=rate,
        aggressive_fraction=aggressive,
        trading_day_seconds=day,
    )
    return parameters, sentences, cost


def _is_share_done_by_half_time(kappa_t: float) -> float:
    return 1 - math.sinh(kappa_t / 2) / math.sinh(kappa_t)


def _display_quantity(inputs: SelectionInputs, display_fraction: float) -> Decimal:
    """Visible clip: a fraction of the order, whole lots, at least one lot."""
    lot = _decimal(inputs.lot_size)
    quantity = _decimal(inputs.quantity)
    lots = (quantity * _decimal(display_fraction) / lot).to_integral_value(rounding=ROUND_DOWN)
    return min(max(lots, Decimal(1)) * lot, quantity)


def _decimal(value: Number) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _quantity_text(quantity: Number) -> str:
    value = float(quantity)
    return f"{value:,.0f}" if value == int(value) else f"{value:,.6g}"


def _duration_text(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
