"""The execution profile: how the order was worked. Participation of market volume,
passive / aggressive / dark share of the filled quantity (by the child order's type), fill
rate of the child orders per venue, fees and average price per venue, and the schedule
against the actual cumulative quantity."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from tca.domain.shortfall import Fill

STYLE_OF_CHILD = {"LIMIT": "passive", "MARKET": "aggressive", "DARK": "dark"}
PERCENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Child:
    venue: str
    child_type: str  # MARKET | LIMIT | DARK
    quantity: Decimal
    filled_quantity: Decimal
    fees: Decimal = Decimal(0)


def _share(part: Decimal, whole: Decimal) -> str | None:
    return None if not whole else str((part / whole * 100).quantize(PERCENT))


def execution_profile(
    *,
    fills: list[Fill],
    children: list[Child],
    market_volume: Decimal | None,
    start: float,
    schedule: list[tuple[float, Decimal]] | None = None,
) -> dict:
    """`schedule`: (seconds since start, expected cumulative quantity) points."""
    filled = sum((f.quantity for f in fills), Decimal(0))
    by_style = defaultdict(Decimal)
    for child in children:
        by_style[STYLE_OF_CHILD.get(child.child_type, "aggressive")] += child.filled_quantity
    styled = sum(by_style.values(), Decimal(0))
    venues: dict[str, dict] = {}
    for child in children:
        row = venues.setdefault(child.venue, {"children": 0, "sent": Decimal(0), "child_filled": Decimal(0)})
        row["children"] += 1
        row["sent"] += child.quantity
        row["child_filled"] += child.filled_quantity
    fill_rows: dict[str, dict] = defaultdict(lambda: {"quantity": Decimal(0), "value": Decimal(0), "fees": Decimal(0)})
    for fill in fills:
        row = fill_rows[fill.venue]
        row["quantity"] += fill.quantity
        row["value"] += fill.quantity * fill.price
        row["fees"] += fill.fee
    per_venue = []
    for venue in sorted(set(venues) | set(fill_rows)):
        sent = venues.get(venue, {})
        got = fill_rows.get(venue)
        per_venue.append(
            {
                "venue": venue,
                "child_orders": sent.get("children", 0),
                "sent_quantity": str(sent.get("sent", Decimal(0))),
                "fill_rate_pct": _share(sent.get("child_filled", Decimal(0)), sent.get("sent", Decimal(0))),
                "filled_quantity": str(got["quantity"]) if got else "0",
                "average_price": str((got["value"] / got["quantity"]).quantize(Decimal("0.00000001")))
                if got and got["quantity"]
                else None,
                "fees": str(got["fees"]) if got else "0",
                "share_pct": _share(got["quantity"], filled) if got else None,
            }
        )
    cumulative, actual = Decimal(0), [[0.0, "0"]]
    for fill in sorted(fills, key=lambda f: f.at):
        cumulative += fill.quantity
        actual.append([round(fill.at - start, 3), str(cumulative)])
    return {
        "participation_pct": _share(filled, market_volume) if market_volume else None,
        "market_volume": None if market_volume is None else str(market_volume),
        "passive_pct": _share(by_style["passive"], styled),
        "aggressive_pct": _share(by_style["aggressive"], styled),
        "dark_pct": _share(by_style["dark"], styled),
        "fees": str(sum((f.fee for f in fills), Decimal(0))),
        "venues": per_venue,
        "schedule": [[round(t, 3), str(q)] for t, q in (schedule or [])],
        "actual": actual,
    }
