"""Markouts: where the mid went after each fill, signed so that positive is good for us
(the mid rose after a buy, fell after a sell), in bps of the fill price. A fill whose
horizon the stored history has not reached yet has no markout at that horizon."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from tca.domain.path import PricePath, bps, side_sign
from tca.domain.shortfall import Fill

HORIZONS = (1, 10, 60)  # seconds: the figures the issue asks for
CURVE_HORIZONS = (0, 1, 2, 5, 10, 20, 30, 60)  # the chart's curve


def fill_markouts(side: str, fills: list[Fill], path: PricePath, horizons=HORIZONS) -> list[dict[int, Decimal | None]]:
    s = side_sign(side)
    rows = []
    for fill in fills:
        row = {}
        for h in horizons:
            mid = path.mid_at(fill.at + h, extend=False)
            row[h] = None if mid is None else bps(s * (mid - fill.price), fill.price)
        rows.append(row)
    return rows


def _weighted(pairs: list[tuple[Decimal, Decimal | None]]) -> Decimal | None:
    known = [(q, v) for q, v in pairs if v is not None]
    weight = sum((q for q, _ in known), Decimal(0))
    if not weight:
        return None
    return (sum((q * v for q, v in known), Decimal(0)) / weight).quantize(Decimal("0.01"))


def markout_summary(side: str, fills: list[Fill], path: PricePath) -> dict:
    """Quantity-weighted markouts at HORIZONS overall, per venue and per counterparty, the
    per-fill figures, and the curve (overall, per venue) at CURVE_HORIZONS."""
    per_fill = fill_markouts(side, fills, path, CURVE_HORIZONS)
    groups: dict[str, dict[str, list[int]]] = {"venue": defaultdict(list), "counterparty": defaultdict(list)}
    for i, fill in enumerate(fills):
        groups["venue"][fill.venue].append(i)
        if fill.counterparty:
            groups["counterparty"][fill.counterparty].append(i)

    def average(indexes, h):
        return _weighted([(fills[i].quantity, per_fill[i][h]) for i in indexes])

    everything = range(len(fills))
    return {
        "horizons": list(HORIZONS),
        "overall": {str(h): _s(average(everything, h)) for h in HORIZONS},
        "by_venue": {
            key: {str(h): _s(average(ix, h)) for h in HORIZONS} for key, ix in sorted(groups["venue"].items())
        },
        "by_counterparty": {
            key: {str(h): _s(average(ix, h)) for h in HORIZONS} for key, ix in sorted(groups["counterparty"].items())
        },
        "fills": [{str(h): _s(row[h]) for h in HORIZONS} for row in per_fill],
        "curve": {
            "horizons": list(CURVE_HORIZONS),
            "overall": [_s(average(everything, h)) for h in CURVE_HORIZONS],
            "by_venue": {
                key: [_s(average(ix, h)) for h in CURVE_HORIZONS] for key, ix in sorted(groups["venue"].items())
            },
        },
    }


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
