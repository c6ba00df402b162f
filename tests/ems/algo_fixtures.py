"""Plain builders for algorithm tests: an execution state and a market view."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

from core.vocabulary import Side, Strategy, Urgency
from ems.algos import ExecutionState, MarketView, OpenChild, VenueTop
from ems.algos.base import ChildType


def state(**overrides) -> ExecutionState:
    base = ExecutionState(
        strategy=Strategy.DIRECT,
        side=Side.BUY,
        quantity=D("1000"),
        filled=D("0"),
        lot_size=D("10"),
        tick_size=D("0.01"),
        limit_price=None,
        urgency=Urgency.MEDIUM,
        start=0.0,
        end=600.0,
    )
    return replace(base, **overrides)


def lit(venue="XA", bid=99.99, ask=100.01, bid_size=500.0, ask_size=500.0, fee=0.3, **kw) -> VenueTop:
    return VenueTop(venue, "LIT", bid, ask, bid_size, ask_size, fee, -0.2, **kw)


def dark(venue="DK", fill_rate=0.5, min_quantity=0.0) -> VenueTop:
    return VenueTop(venue, "DARK", None, None, 0.0, 0.0, 0.1, 0.1, min_quantity=min_quantity, fill_rate=fill_rate)


def market(*venues: VenueTop, mid=100.0, **overrides) -> MarketView:
    venues = venues or (lit(),)
    bids = [v.bid for v in venues if v.bid is not None]
    asks = [v.ask for v in venues if v.ask is not None]
    base = MarketView(
        mid=mid,
        best_bid=max(bids) if bids else None,
        best_ask=min(asks) if asks else None,
        venues=tuple(venues),
        adv=1_000_000.0,
        daily_vol=0.02,
        spread_bps=2.0,
    )
    return replace(base, **overrides)


def child(coid, venue="XA", kind=ChildType.LIMIT, quantity="100", filled="0", limit="99.99", pending=False):
    return OpenChild(coid, venue, kind, D(quantity), D(filled), None if limit is None else D(limit), 0.0, pending)
