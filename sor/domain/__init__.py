"""Pure Smart Order Router core: cost model, Almgren-Chriss schedules, strategy selection,
venue allocation and re-evaluation. Standard library and numpy only: plain data in,
decisions out; the Django side converts rows to these types and back. Sides, urgencies,
asset classes, venue kinds and strategies come from core.vocabulary."""

from sor.domain.allocation import Allocation, VenueQuote, allocate
from sor.domain.almgren_chriss import (
    ACParams,
    FrontierPoint,
    almgren_chriss_trajectory,
    efficient_frontier,
    trajectory_cost,
)
from sor.domain.cost import CostEstimate, estimate_cost
from sor.domain.default_rules import DEFAULT_RULES
from sor.domain.inputs import SelectionInputs
from sor.domain.reevaluation import Reevaluation, reevaluate
from sor.domain.rules import NoMatchingRule, SelectionRule
from sor.domain.selection import Decision, runner_up, select_strategy
from sor.domain.types import VolatilityRegime

__all__ = [
    "ACParams",
    "Allocation",
    "CostEstimate",
    "DEFAULT_RULES",
    "Decision",
    "FrontierPoint",
    "NoMatchingRule",
    "Reevaluation",
    "SelectionInputs",
    "SelectionRule",
    "VenueQuote",
    "VolatilityRegime",
    "allocate",
    "almgren_chriss_trajectory",
    "efficient_frontier",
    "estimate_cost",
    "reevaluate",
    "runner_up",
    "select_strategy",
    "trajectory_cost",
]
