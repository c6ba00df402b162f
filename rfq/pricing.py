"""What a package RFQ is priced against, read from its legs: the model mid (each leg's model
value from the simulator's option pricing, on the underlying's mid now), the gross premium
its distances are in bps of (fixed when it opened), and the implied leg prices of a net
price (fixed too: from the legs' model values when it opened, so the leg prices the ladder
shows for a quote are the ones an execution books). A single-instrument RFQ has none of it:
its mid is the instrument's."""

from decimal import Decimal

from marketdata.selectors import mid_price, model_value
from rfq.domain import legs as legs_domain

MID_QUANTUM = Decimal("0.0001")


def priced_legs(rfq) -> list:
    """The RFQ's legs inside the net price (the hedge leg is outside), in index order."""
    return [leg for leg in _legs(rfq) if not leg.is_hedge]


def _legs(rfq) -> list:
    cached = getattr(rfq, "_legs_cache", None)
    if cached is None:
        cached = list(rfq.legs.select_related("instrument__underlying", "order"))
        rfq._legs_cache = cached
    return cached


def hedge_leg(rfq):
    return next((leg for leg in _legs(rfq) if leg.is_hedge), None)


def domain_legs(rfq) -> list[legs_domain.Leg]:
    return [legs_domain.Leg(leg.index, leg.side, leg.ratio, leg.model_price) for leg in priced_legs(rfq)]


def tick(rfq) -> Decimal:
    return priced_legs(rfq)[0].instrument.tick_size


def model_mid_now(rfq) -> Decimal:
    """The package's model mid per unit now, from each leg's model value now."""
    legs = [legs_domain.Leg(leg.index, leg.side, leg.ratio, model_value(leg.instrument)[0]) for leg in priced_legs(rfq)]
    return legs_domain.model_mid(legs, rfq.side).quantize(MID_QUANTUM)


def rfq_mid(rfq) -> Decimal | None:
    """The mid an RFQ is measured against now: the instrument's, or the package's model mid."""
    if rfq.package_id is None:
        return mid_price(rfq.order.instrument)
    return model_mid_now(rfq)


def rfq_scale(rfq) -> Decimal | None:
    """What bps are of: None (the mid) for one instrument, the gross premium for a package."""
    if rfq.package_id is None:
        return None
    return legs_domain.gross_premium(domain_legs(rfq)).quantize(MID_QUANTUM) or None


def implied_legs(rfq, net_price: Decimal) -> list[dict]:
    """The leg prices of a net price, as the ladder shows them (empty when none exist)."""
    if rfq.package_id is None:
        return []
    from core.errors import DomainError

    try:
        prices = legs_domain.implied_leg_prices(
            domain_legs(rfq), net_price=net_price, package_side=rfq.side, tick=tick(rfq)
        )
    except DomainError:
        return []
    return [
        {"index": leg.index, "instrument": leg.instrument.symbol, "side": leg.side, "price": str(prices[leg.index])}
        for leg in priced_legs(rfq)
    ]
