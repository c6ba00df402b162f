"""One order's post-trade analysis from its facts: benchmarks, the shortfall split, the
execution profile, markouts, the RFQ record, the pre-trade estimate against the realised
cost. Plain data in, a JSON-ready dict out (decimals as strings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from tca.domain import benchmarks, markouts, profile, rfq, shortfall
from tca.domain.path import PricePath, side_sign
from tca.domain.shortfall import Fill

VERSION = 1  # bump when a stored figure's definition changes


@dataclass(frozen=True, slots=True)
class RfqFacts:
    rfq_id: int
    requested_at: float
    quotes: list[rfq.QuoteSeen]
    chosen_quote_id: int | None
    chosen_reason: str
    executed_at: float | None
    executed_price: Decimal | None
    mid_at_execution: Decimal | None
    record: list[dict] = field(default_factory=list)  # the RFQ's own stored quote record


@dataclass(frozen=True, slots=True)
class OrderFacts:
    side: str
    ordered_quantity: Decimal
    decision_price: Decimal  # mid when the PM entered the order (stored then)
    arrival_price: Decimal  # mid when the execution started (stored then)
    decided_at: float
    start: float
    end: float
    fills: list[Fill]
    path: PricePath
    multiplier: Decimal = Decimal(1)
    children: list[profile.Child] = field(default_factory=list)
    schedule: list[tuple[float, Decimal]] = field(default_factory=list)
    estimate_bps: Decimal | None = None
    closing_price: Decimal | None = None
    rfqs: list[RfqFacts] = field(default_factory=list)
    path_source: str = ""


def _s(value) -> str | None:
    return None if value is None else str(value)


def end_price(facts: OrderFacts) -> Decimal:
    """The mid at the execution's end; the last known mid before it; else the arrival."""
    return facts.path.mid_at(facts.end) or facts.arrival_price


def analyse(facts: OrderFacts) -> dict:
    fills = sorted(facts.fills, key=lambda f: f.at)
    mids, halves = [], []
    for fill in fills:
        point = facts.path.point_at(fill.at)
        mids.append(point.mid if point else facts.arrival_price)
        halves.append(point.half_spread if point else None)
    pe = end_price(facts)
    split = shortfall.implementation_shortfall(
        side=facts.side,
        ordered_quantity=facts.ordered_quantity,
        decision_price=facts.decision_price,
        arrival_price=facts.arrival_price,
        end_price=pe,
        fills=fills,
        mids_at_fills=mids,
        half_spreads_at_fills=halves,
        multiplier=facts.multiplier,
    )
    average = split.average_price
    twap = benchmarks.interval_twap(facts.path, facts.start, facts.end)
    vwap = benchmarks.interval_vwap(facts.path, facts.start, facts.end)
    volume = benchmarks.market_volume(facts.path, facts.start, facts.end)
    bench = {
        "decision": facts.decision_price,
        "arrival": facts.arrival_price,
        "interval_vwap": vwap,
        "interval_twap": twap,
        "close": facts.closing_price,
        "end": pe,
    }
    # Against the arrival: the part of the shortfall the execution (not the PM's wait) owns,
    # on what was filled, beside the pre-trade estimate that predicted it.
    realised = benchmarks.slippage_bps(facts.side, average, facts.arrival_price)
    if realised is not None and split.filled_quantity and facts.arrival_price:
        notional_filled = split.filled_quantity * facts.arrival_price * facts.multiplier
        realised = ((split.parts["fees"] / notional_filled) * 10_000 + realised).quantize(Decimal("0.01"))
    return {
        "version": VERSION,
        "side": facts.side,
        "ordered_quantity": str(facts.ordered_quantity),
        "window": {"decided_at": facts.decided_at, "start": facts.start, "end": facts.end},
        "benchmarks": {k: _s(v) for k, v in bench.items()},
        "slippage_bps": {
            k: _s(benchmarks.slippage_bps(facts.side, average, v)) for k, v in bench.items() if k != "end"
        },
        "shortfall": split.to_dict(),
        "pretrade": {
            "estimated_cost_bps": _s(facts.estimate_bps),
            "realised_cost_bps": _s(realised),
            "error_bps": _s(
                None if realised is None or facts.estimate_bps is None else (realised - facts.estimate_bps)
            ),
        },
        "profile": profile.execution_profile(
            fills=fills, children=facts.children, market_volume=volume, start=facts.start, schedule=facts.schedule
        ),
        "markouts": markouts.markout_summary(facts.side, fills, facts.path),
        "fills": [
            {
                "t": round(f.at - facts.start, 3),
                "at": f.at,
                "quantity": str(f.quantity),
                "price": str(f.price),
                "fee": str(f.fee),
                "venue": f.venue,
                "counterparty": f.counterparty,
                "mid": str(m),
            }
            for f, m in zip(fills, mids, strict=True)
        ],
        "price_path": {
            "source": facts.path_source,
            "points": [
                [round(p.at - facts.start, 3), str(p.mid)]
                for p in _thin(facts.path.window(facts.start, max(facts.end, fills[-1].at if fills else facts.end)))
            ],
        },
        "rfqs": [_rfq(facts.side, facts.path, r) for r in facts.rfqs],
        # Filled by the EMS backtest (ems.backtest.counterfactuals): the same order as a single
        # market order, a one-venue TWAP and the router's second choice. Empty until wired.
        "counterfactuals": [],
    }


def _rfq(side: str, path: PricePath, facts: RfqFacts) -> dict:
    price = facts.executed_price
    second = None if facts.chosen_quote_id is None else rfq.second_best(side, facts.quotes, facts.chosen_quote_id)
    return {
        "rfq": facts.rfq_id,
        "requested_at": facts.requested_at,
        "quotes": [
            {
                "quote": q.quote_id,
                "provider": q.provider,
                "price": _s(q.price),
                "after_seconds": round(q.received_at - facts.requested_at, 3),
                "status": q.status,
                "chosen": q.quote_id == facts.chosen_quote_id,
            }
            for q in sorted(facts.quotes, key=lambda q: q.received_at)
        ],
        "chosen_quote": facts.chosen_quote_id,
        "reason": facts.chosen_reason,
        "executed_price": _s(price),
        "mid": _s(facts.mid_at_execution),
        "second_best_price": _s(second),
        "improvement_vs_mid_bps": _s(
            None if price is None else rfq.price_improvement_bps(side, price, facts.mid_at_execution)
        ),
        "improvement_vs_second_bps": _s(None if price is None else rfq.price_improvement_bps(side, price, second)),
        "leakage": rfq.leakage(
            side, path, requested_at=facts.requested_at, quotes=facts.quotes, executed_at=facts.executed_at
        ),
    }


def _thin(points, limit: int = 600):
    """At most `limit` points for the chart, keeping the first and the last."""
    if len(points) <= limit:
        return points
    step = len(points) / (limit - 1)
    return [points[int(i * step)] for i in range(limit - 1)] + [points[-1]]


__all__ = ["OrderFacts", "RfqFacts", "analyse", "side_sign"]
