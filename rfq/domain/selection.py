"""Which counterparties an RFQ goes to: the enabled ones that quote the asset class and can
take the notional, ranked by scorecard, the top N (never fewer than the minimum when that
many are eligible)."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

DEFAULT_TOP_N: Final = 5
MINIMUM: Final = 3


@dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    name: str
    enabled: bool
    asset_classes: frozenset[str]
    max_notional: Decimal
    tier: int
    score: float


def refusal(candidate: Candidate, *, asset_class: str, notional: Decimal) -> str | None:
    """Why `candidate` cannot be asked, or None."""
    if not candidate.enabled:
        return f"{candidate.name} is disabled"
    if asset_class not in candidate.asset_classes:
        return f"{candidate.name} does not quote {asset_class}"
    if notional > candidate.max_notional:
        return f"{candidate.name} takes at most {candidate.max_notional} notional, asked {notional}"
    return None


def rank_key(candidate: Candidate) -> tuple:
    # Best score first; a better (lower) tier breaks ties, then the name for determinism.
    return (-candidate.score, candidate.tier, candidate.name, candidate.id)


def select(
    candidates: list[Candidate],
    *,
    asset_class: str,
    notional: Decimal,
    top_n: int = DEFAULT_TOP_N,
    minimum: int = MINIMUM,
) -> list[Candidate]:
    eligible = sorted(
        (c for c in candidates if refusal(c, asset_class=asset_class, notional=notional) is None), key=rank_key
    )
    count = max(top_n, min(minimum, len(eligible)))
    return eligible[:count]
