"""The router's recommendation for a package: several legs are worked as one RFQ at one net
price, because working them one by one on lit books risks filling one leg and not the
other (legging risk) and shows the structure to the market; option legs are illiquid. The
rationale is in plain sentences, like every recommendation. Pure."""

from dataclasses import dataclass

RFQ = "RFQ"


@dataclass(frozen=True, slots=True)
class PackageLegMarket:
    symbol: str
    asset_class: str
    quantity: float
    adv: float
    spread_bps: float
    is_hedge: bool = False


def package_recommendation(legs: list[PackageLegMarket], *, allow_leg_work: bool) -> dict:
    priced = [leg for leg in legs if not leg.is_hedge]
    hedge = next((leg for leg in legs if leg.is_hedge), None)
    options = [leg for leg in priced if leg.asset_class == "OPTION"]
    rationale = []
    if len(priced) > 1:
        rationale.append(
            f"{len(priced)} legs traded as one net price: working them one by one on lit books risks being "
            "filled on one leg and not the other (legging risk) and shows the structure to the market"
        )
    if options:
        widest = max(options, key=lambda leg: leg.spread_bps)
        rationale.append(
            f"option liquidity is thin: the widest leg, {widest.symbol}, shows a {widest.spread_bps:.0f} bps "
            "spread on lit books, and makers price the package from its legs' model values instead"
        )
    shares = [(leg, 100.0 * leg.quantity / leg.adv if leg.adv > 0 else 100.0) for leg in priced]
    if shares:
        leg, pct = max(shares, key=lambda s: s[1])
        rationale.append(f"the largest leg, {leg.symbol}, is {pct:.1f}% of its average daily volume")
    if hedge is not None:
        rationale.append(
            f"the delta hedge of {hedge.quantity:g} {hedge.symbol} trades with the package at the maker's "
            "reference price of the underlying, or goes to the EMS as an ordinary order when the maker does not take it"
        )
    rationale.append(
        "the PM allows working a leg alone: a trader may still start an execution on one leg's order"
        if allow_leg_work
        else "the PM did not allow working a leg alone: the legs trade together"
    )
    return {
        "strategy": RFQ,
        "parameters": {"execution_mode": "ALL_OR_NONE", "window_seconds": 30, "two_way": False},
        "rationale": rationale,
    }
