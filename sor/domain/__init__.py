"""Pure Smart Order Router core: cost model, Almgren-Chriss schedules, strategy selection,
venue allocation and re-evaluation. Standard library and numpy only: plain data in,
decisions out; the Django side converts rows to these types and back."""

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
from sor.domain.reevaluation import Reevaluation, reevaluate
from sor.domain.selection import (
    Decision,
    NoMatchingRule,
    SelectionInputs,
    SelectionRule,
    select_strategy,
)
from sor.domain.types import (
    STRATEGIES,
    AssetClass,
    Side,
    Strategy,
    Urgency,
    VenueKind,
    VolatilityRegime,
)

__all__ = [
    "ACParams",
    "Allocation",
    "AssetClass",
    "CostEstimate",
    "DEFAULT_RULES",
    "Decision",
    "FrontierPoint",
    "NoMatchingRule",
    "Reevaluation",
    "STRATEGIES",
    "SelectionInputs",
    "SelectionRule",
    "Side",
    "Strategy",
    "Urgency",
    "VenueKind",
    "VenueQuote",
    "VolatilityRegime",
    "allocate",
    "almgren_chriss_trajectory",
    "efficient_frontier",
    "estimate_cost",
    "reevaluate",
    "select_strategy",
    "trajectory_cost",
]
