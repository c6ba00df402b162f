"""The best-execution report's arithmetic: group stored per-order figures by a dimension
and summarise each group (orders, notional, mean and p90 shortfall, the pre-trade estimate,
markouts, RFQ hit ratio and price improvement)."""

from __future__ import annotations

import math
from collections import defaultdict
from decimal import Decimal

DIMENSIONS = ("strategy", "venue", "counterparty", "urgency")
# The CSV's columns, in order (documented in docs/tca.md).
COLUMNS = (
    "dimension",
    "key",
    "orders",
    "notional",
    "mean_shortfall_bps",
    "p90_shortfall_bps",
    "mean_estimate_bps",
    "mean_estimate_error_bps",
    "mean_markout_1s_bps",
    "mean_markout_10s_bps",
    "mean_markout_60s_bps",
    "rfqs",
    "rfq_hit_ratio",
    "mean_improvement_vs_mid_bps",
    "mean_improvement_vs_second_bps",
    # The counterfactuals (tca.domain.counterfactual): the simulated shortfall of the same
    # orders worked as executed, as one market order, as a one-venue TWAP, as the router's
    # second choice; over the orders that have them.
    "counterfactual_orders",
    "mean_cf_as_executed_bps",
    "mean_cf_market_order_bps",
    "mean_cf_twap_bps",
    "mean_cf_second_choice_bps",
)
# Column -> the counterfactual row's way.
CF_COLUMNS = {
    "mean_cf_as_executed_bps": "as_executed",
    "mean_cf_market_order_bps": "single_market_order",
    "mean_cf_twap_bps": "one_venue_twap",
    "mean_cf_second_choice_bps": "router_second_choice",
}
TWO = Decimal("0.01")


def p90(values: list[Decimal]) -> Decimal | None:
    """The 90th percentile, nearest-rank (an observed value, no interpolation)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def _mean(values) -> Decimal | None:
    values = [v for v in values if v is not None]
    return (sum(values, Decimal(0)) / len(values)).quantize(TWO) if values else None


def summarise(rows: list[dict]) -> list[dict]:
    """`rows`: one per order, with keys strategy, urgency, venues (list), counterparties (the
    RFQ providers that quoted), rfq_won_by (the providers that won), notional, shortfall_bps
    (against the decision price), realised_bps (against the arrival price, fees included:
    what the pre-trade estimate predicts), estimate_bps, markouts {"1", "10", "60"}, rfq (None
    or {won, improvement_vs_mid_bps, improvement_vs_second_bps}), counterfactuals (optional:
    {way: simulated shortfall bps}). An order counts in every
    venue it traded on and every counterparty that quoted it."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in rows:
        groups[("strategy", row["strategy"] or "-")].append(row)
        groups[("urgency", row["urgency"] or "-")].append(row)
        for venue in row["venues"] or ["-"]:
            groups[("venue", venue)].append(row)
        for counterparty in row["counterparties"]:
            # A provider's hit ratio: the RFQs it quoted on that it won.
            rfq = None if row["rfq"] is None else {**row["rfq"], "won": counterparty in row.get("rfq_won_by", ())}
            groups[("counterparty", counterparty)].append({**row, "rfq": rfq})
    out = []
    for (dimension, key), members in sorted(groups.items(), key=lambda kv: (DIMENSIONS.index(kv[0][0]), kv[0][1])):
        shortfalls = [m["shortfall_bps"] for m in members if m["shortfall_bps"] is not None]
        rfqs = [m["rfq"] for m in members if m["rfq"] is not None]
        out.append(
            {
                "dimension": dimension,
                "key": key,
                "orders": len(members),
                "notional": str(sum((m["notional"] for m in members), Decimal(0)).quantize(TWO)),
                "mean_shortfall_bps": _str(_mean(shortfalls)),
                "p90_shortfall_bps": _str(p90(shortfalls)),
                "mean_estimate_bps": _str(_mean(m["estimate_bps"] for m in members)),
                "mean_estimate_error_bps": _str(
                    _mean(
                        m["realised_bps"] - m["estimate_bps"]
                        for m in members
                        if m["realised_bps"] is not None and m["estimate_bps"] is not None
                    )
                ),
                **{
                    f"mean_markout_{h}s_bps": _str(_mean(m["markouts"].get(h) for m in members))
                    for h in ("1", "10", "60")
                },
                "rfqs": len(rfqs),
                "rfq_hit_ratio": _str(
                    (Decimal(sum(1 for r in rfqs if r["won"])) / len(rfqs)).quantize(Decimal("0.0001"))
                )
                if rfqs
                else None,
                "mean_improvement_vs_mid_bps": _str(_mean(r["improvement_vs_mid_bps"] for r in rfqs)),
                "mean_improvement_vs_second_bps": _str(_mean(r["improvement_vs_second_bps"] for r in rfqs)),
                "counterfactual_orders": sum(1 for m in members if m.get("counterfactuals")),
                **{
                    column: _str(_mean((m.get("counterfactuals") or {}).get(way) for m in members))
                    for column, way in CF_COLUMNS.items()
                },
            }
        )
    return out


def _str(value) -> str | None:
    return None if value is None else str(value)
