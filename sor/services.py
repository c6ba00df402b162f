"""The router's Django side: turn rows and the latest consolidated book into the pure
inputs, ask sor.domain, store the decision with what it saw."""

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from django.utils import timezone

from core.choices import OrderStatus, VenueKind
from core.decimals import to_step
from core.errors import Conflict
from core.vocabulary import Strategy
from marketdata.models import Instrument, Venue
from marketdata.selectors import is_fresh, latest_snapshot, trading_day_seconds
from oms.models import Order
from sor.domain import (
    DEFAULT_RULES,
    Decision,
    NoMatchingRule,
    SelectionInputs,
    SelectionRule,
    VenueQuote,
    allocate,
    select_strategy,
)
from sor.domain import rationale as wording
from sor.models import DEFINITION_COLUMNS, DecisionKind, RoutingDecision, SelectionRuleRecord

FALLBACK_SPREAD_BPS = 10.0


@transaction.atomic
def selection_rules_seed() -> int:
    """Put the default selection matrix (sor.domain.DEFAULT_RULES) in the admin-editable
    table: each default rule whose name is not there yet. Rows already there, edited or not,
    are left alone, so running it again changes nothing. Returns how many rows it created."""
    created = 0
    for rule in DEFAULT_RULES:
        columns = SelectionRuleRecord.columns_from_domain(rule)
        _, made = SelectionRuleRecord.objects.get_or_create(name=columns.pop("name"), defaults=columns)
        created += made
    return created


@dataclass(frozen=True)
class MarketView:
    """What the router sees of one instrument now."""

    mid: Decimal
    spread_bps: float
    snapshot: dict | None
    fresh: bool

    def depth(self, side: str) -> Decimal:
        if not self.fresh:
            return Decimal(0)
        book_side = "asks" if side == "BUY" else "bids"
        return sum((Decimal(q) for v in self.snapshot["venues"].values() for _, q in v[book_side]), Decimal(0))

    def provenance(self) -> dict:
        if self.snapshot is None:
            return {"source": "reference data", "fresh": False}
        return {
            "source": "consolidated book",
            "seq": self.snapshot.get("seq"),
            "age_seconds": self.snapshot.get("age_seconds"),
            "fresh": self.fresh,
        }


def market_view(instrument: Instrument) -> MarketView:
    snap = latest_snapshot(instrument.symbol)
    fresh = is_fresh(snap) and bool(snap.get("mid")) and bool(snap.get("venues"))
    if fresh:
        return MarketView(Decimal(snap["mid"]), float(snap.get("spread_bps") or FALLBACK_SPREAD_BPS), snap, True)
    spread = float(instrument.avg_spread_bps) or FALLBACK_SPREAD_BPS
    return MarketView(instrument.reference_price, spread, snap, False)


def routing_venues() -> list[Venue]:
    """The lit and dark venues, read once per decision: the selection inputs and the venue
    preview both come from these rows."""
    return list(Venue.objects.filter(kind__in=[VenueKind.LIT, VenueKind.DARK]))


def venue_quotes(
    instrument: Instrument, side: str, view: MarketView, venues: list[Venue] | None = None
) -> list[VenueQuote]:
    """Lit venues with their side of the book, dark pools with their fill rates."""
    book_side = "asks" if side == "BUY" else "bids"
    books = view.snapshot["venues"] if view.snapshot else {}
    quotes = []
    for venue in routing_venues() if venues is None else venues:
        levels = [(Decimal(p), Decimal(q)) for p, q in books.get(venue.name, {}).get(book_side, [])]
        quotes.append(
            VenueQuote(
                name=venue.name,
                kind=venue.kind,
                taker_fee_bps=float(venue.taker_fee_bps),
                min_quantity=venue.min_quantity,
                enabled=venue.enabled,
                fresh=view.fresh and (venue.kind == VenueKind.DARK or venue.name in books),
                levels=levels,
                mid=view.mid if view.fresh else None,
                dark_fill_rate=float(venue.dark_fill_rate),
            )
        )
    return quotes


def active_rules() -> list[SelectionRule]:
    """The enabled rows of the selection matrix, read on every decision, as domain rules."""
    rows = SelectionRuleRecord.objects.filter(enabled=True).values_list(*DEFINITION_COLUMNS)
    return [_rule_of(row) for row in rows]


# Rows already turned into rules, by their exact content: building a SelectionRule (parsing,
# precompiling its conditions) cost more than reading its row. A memo of a pure function,
# not a copy of the table: every decision still reads the rows, and an edited row has other
# content, so it is built anew. Rules are immutable and shared like DEFAULT_RULES.
_RULES_BUILT: dict[str, SelectionRule] = {}
_RULES_BUILT_MAX = 1024


def _rule_of(row: tuple) -> SelectionRule:
    key = repr(row)
    rule = _RULES_BUILT.get(key)
    if rule is None:
        if len(_RULES_BUILT) >= _RULES_BUILT_MAX:
            _RULES_BUILT.clear()
        definition = SelectionRuleRecord.definition_from(dict(zip(DEFINITION_COLUMNS, row, strict=True)))
        rule = _RULES_BUILT[key] = SelectionRule.from_dict(definition)
    return rule


def _selection_inputs(
    *,
    instrument: Instrument,
    side: str,
    quantity: Decimal,
    urgency: str,
    limit_price: Decimal | None,
    end_time: datetime | None,
    view: MarketView,
    venues: list[Venue],
) -> SelectionInputs:
    lit = [v.taker_fee_bps for v in venues if v.kind == VenueKind.LIT and v.enabled]
    dark = sum(1 for v in venues if v.kind == VenueKind.DARK and v.enabled and v.min_quantity <= quantity)
    # Without an end time the order has one trading day of its instrument's calendar.
    time_left = (
        trading_day_seconds(instrument) if end_time is None else max(0.0, (end_time - timezone.now()).total_seconds())
    )
    return SelectionInputs(
        side=side,
        quantity=quantity,
        price=view.mid,
        adv=instrument.adv,
        daily_vol=float(instrument.daily_volatility),
        spread_bps=view.spread_bps,
        displayed_depth=view.depth(side),
        urgency=urgency,
        asset_class=instrument.asset_class,
        time_left_seconds=time_left,
        limit_price=limit_price,
        lot_size=instrument.lot_size,
        multiplier=instrument.multiplier,
        impact_coef=float(instrument.impact_coefficient),
        venue_count_dark=dark,
        fee_bps=max(0.0, float(sum(lit) / len(lit))) if lit else 0.0,
    )


def _first_child(decision: Decision, quantity: Decimal, lot: Decimal) -> Decimal:
    """The size of the first child order the strategy would send, for the venue preview."""
    if decision.strategy in ("DIRECT", "DARK"):
        return quantity
    rate = Decimal(str(decision.parameters.get("participation_rate") or "0.1"))
    return max(lot, to_step(quantity * rate, lot, ROUND_DOWN))


def _allocation_preview(instrument, side, quantity, limit_price, decision, view, venues) -> list[dict]:
    if not view.fresh or decision.strategy == "RFQ":
        return []
    child = _first_child(decision, quantity, instrument.lot_size)
    dark_fraction = float(decision.parameters.get("dark_fraction") or 0.0)
    quotes = venue_quotes(instrument, side, view, venues)
    rows = allocate(side, child, limit_price, instrument.lot_size, quotes, dark_fraction=dark_fraction)
    return [
        {
            "venue": a.venue,
            "kind": str(a.kind.value),
            "quantity": str(a.quantity),
            "price": str(a.price),
            "effective_price": str(a.effective_price.quantize(instrument.tick_size / 100)),
        }
        for a in rows
    ]


def _bps(value: float) -> Decimal:
    return Decimal(str(round(value, 2)))


def _as_strings(value):
    """Numbers of the stored record travel as strings: a float from numpy becomes its
    shortest decimal at 10 significant digits ("1909.3", not 1909.3000000000002)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        return format(Decimal(format(value, ".10g")), "f") if math.isfinite(value) else None
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, dict):
        return {k: _as_strings(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_strings(v) for v in value]
    return str(value)


def routing_decide(
    *,
    kind: str,
    instrument: Instrument,
    side: str,
    quantity: Decimal,
    urgency: str,
    limit_price: Decimal | None = None,
    end_time: datetime | None = None,
    order: Order | None = None,
    actor=None,
    excluding: frozenset[Strategy] = frozenset(),
    store: bool = True,
) -> RoutingDecision:
    """Choose strategy and venues for an order (or a what-if), explain why, and store it (one
    INSERT: atomic on its own, and inside the caller's transaction when there is one).
    `excluding`: strategies already tried (an RFQ's leftover goes to an algorithm).
    `store=False` (a what-if nobody saved): the same decision, answered but not kept."""
    view = market_view(instrument)
    venues = routing_venues()
    inputs = _selection_inputs(
        instrument=instrument,
        side=side,
        quantity=quantity,
        urgency=urgency,
        limit_price=limit_price,
        end_time=end_time,
        view=view,
        venues=venues,
    )
    fallback = False

    def allowed(rules):
        return [r for r in rules if r.strategy not in excluding]

    try:
        decision = select_strategy(inputs, allowed(active_rules() or DEFAULT_RULES))
    except NoMatchingRule:
        # An edited matrix without a catch-all must not leave an order without an answer.
        decision = select_strategy(inputs, allowed(DEFAULT_RULES))
        fallback = True
    rationale = wording.decision_rationale(
        decision.rationale, decision.parameters, default_matrix=fallback, fresh_market=view.fresh
    )
    decision_row = RoutingDecision(
        kind=kind,
        order=order,
        instrument=instrument,
        requested_by=actor,
        strategy=decision.strategy.value,
        rule=decision.rule,
        parameters=decision.parameters,
        estimated_cost_bps=_bps(decision.estimated_cost_bps),
        estimated_risk_bps=_bps(decision.estimated_risk_bps),
        estimated_cost=Decimal(str(round(decision.estimated_cost, 2))),
        rationale=rationale,
        inputs=_as_strings(decision.inputs),
        cost_breakdown=_as_strings(decision.cost_breakdown),
        allocation=_allocation_preview(instrument, side, quantity, limit_price, decision, view, venues),
        market_data=view.provenance(),
    )
    if store:
        decision_row.save(force_insert=True)
    else:
        decision_row.created_at = timezone.now()
    return decision_row


def order_decision(order: Order) -> RoutingDecision | None:
    """The decision stored when the order was accepted (the record of why), if any."""
    return (
        RoutingDecision.objects.filter(order=order, kind=DecisionKind.RECOMMENDATION)
        .select_related("instrument")
        .order_by("id")
        .first()
    )


def order_decision_record(*, order: Order, actor=None) -> RoutingDecision | None:
    """Store the router's decision for an order just accepted, with its inputs, once: a
    replayed submission finds the first. Nothing for a rejected order."""
    if order.status != OrderStatus.ACCEPTED:
        return None
    return order_decision(order) or order_recommend(order=order, actor=actor)


def order_decision_on_accept(*, order: Order, actor=None) -> RoutingDecision:
    """The step order entry runs for an order `oms.services.order_submit` has just inserted
    and accepted, in its transaction: no decision can exist for it yet, so none is looked
    for (a replayed submission runs no step at all)."""
    return order_recommend(order=order, actor=actor)


def order_what_if(*, order: Order, actor=None, save: bool = False) -> RoutingDecision:
    """A fresh what-if for an open order's remaining quantity, asked for explicitly; a
    finished order has nothing left to decide. Kept only when the user saves it (`save`):
    the record of why is the decision stored at acceptance, not one row per look."""
    if not order.is_open:
        raise Conflict(f"order {order.pk} is {order.status}: a finished order has no what-if")
    return routing_decide(
        kind=DecisionKind.WHAT_IF,
        instrument=order.instrument,
        side=order.side,
        quantity=order.quantity - order.filled_quantity,
        urgency=order.urgency,
        limit_price=order.limit_price,
        end_time=order.end_time,
        order=order,
        actor=actor,
        store=save,
    )


def order_recommend(*, order: Order, actor=None, excluding: frozenset[Strategy] = frozenset()) -> RoutingDecision:
    """The router's recommendation for working a parent order's remaining quantity."""
    remaining = order.quantity - order.filled_quantity
    return routing_decide(
        kind=DecisionKind.RECOMMENDATION,
        instrument=order.instrument,
        side=order.side,
        quantity=remaining if remaining > 0 else order.quantity,
        urgency=order.urgency,
        limit_price=order.limit_price,
        end_time=order.end_time,
        order=order,
        actor=actor,
        excluding=excluding,
    )


def pretrade_estimate(
    *,
    instrument: Instrument,
    side: str,
    quantity: Decimal,
    urgency: str,
    limit_price: Decimal | None = None,
    end_time: datetime | None = None,
    actor=None,
    save: bool = False,
) -> RoutingDecision:
    """What-if for the order entry page: no order exists yet. Answered without a row unless
    the user saves it (`save`): the ticket asks on every keystroke, and the decision that
    counts is stored when the order is accepted."""
    return routing_decide(
        kind=DecisionKind.WHAT_IF,
        instrument=instrument,
        side=side,
        quantity=quantity,
        urgency=urgency,
        limit_price=limit_price,
        end_time=end_time,
        actor=actor,
        store=save,
    )


def package_recommendation(package) -> dict:
    """The router's recommendation for a package (oms.models.Package): RFQ, with why."""
    from sor.domain.packages import PackageLegMarket
    from sor.domain.packages import package_recommendation as recommend

    legs = [
        PackageLegMarket(
            symbol=leg.order.instrument.symbol,
            asset_class=leg.order.instrument.asset_class,
            quantity=float(leg.order.quantity - leg.order.filled_quantity),
            adv=float(leg.order.instrument.adv or 0),
            spread_bps=float(leg.order.instrument.avg_spread_bps or 0),
            is_hedge=leg.is_hedge,
        )
        for leg in package.legs.select_related("order__instrument")
    ]
    return recommend(legs, allow_leg_work=package.allow_leg_work)
