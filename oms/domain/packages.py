"""Packages: several parent orders entered as one structure (a straddle, a spread...), sized
in package units: leg i trades units * ratio_i. The templates' shapes, the checks of a
package's legs, its net risk (premium, delta, vega) and the package-wide compliance rules.

Pure: plain data in, decisions out."""

from dataclasses import dataclass
from decimal import Decimal
from math import gcd

from core.vocabulary import Side
from oms.domain.compliance import (
    PACKAGE_MAX_NET_DELTA,
    PACKAGE_MAX_NET_PREMIUM,
    PACKAGE_MAX_NET_VEGA,
    PACKAGE_RULE_KINDS,
    Breach,
    RuleConfig,
)

__all__ = ["PACKAGE_RULE_KINDS"]
WITH_PACKAGE = "PACKAGE"  # a leg rejected because another leg or the whole package breached


@dataclass(frozen=True, slots=True)
class TemplateLeg:
    right: str  # C or P
    side: str  # for buying the structure
    ratio: int
    strike: int  # rank among the template's strikes: 0 lowest
    expiry: int  # rank among its expiries: 0 nearest


def _t(*legs) -> tuple[TemplateLeg, ...]:
    return tuple(TemplateLeg(*leg) for leg in legs)


# Each template as it is bought; selling the structure flips every side.
TEMPLATES: dict[str, tuple[TemplateLeg, ...]] = {
    "VERTICAL_SPREAD": _t(("C", "BUY", 1, 0, 0), ("C", "SELL", 1, 1, 0)),
    "STRADDLE": _t(("C", "BUY", 1, 0, 0), ("P", "BUY", 1, 0, 0)),
    "STRANGLE": _t(("P", "BUY", 1, 0, 0), ("C", "BUY", 1, 1, 0)),
    "RISK_REVERSAL": _t(("P", "SELL", 1, 0, 0), ("C", "BUY", 1, 1, 0)),
    "CALENDAR": _t(("C", "SELL", 1, 0, 0), ("C", "BUY", 1, 0, 1)),
    "BUTTERFLY": _t(("C", "BUY", 1, 0, 0), ("C", "SELL", 2, 1, 0), ("C", "BUY", 1, 2, 0)),
}
TEMPLATE_NAMES = {
    "VERTICAL_SPREAD": "Vertical spread",
    "STRADDLE": "Straddle",
    "STRANGLE": "Strangle",
    "RISK_REVERSAL": "Risk reversal",
    "CALENDAR": "Calendar",
    "BUTTERFLY": "Butterfly",
}


@dataclass(frozen=True, slots=True)
class LegTerms:
    """One leg as entered, with its instrument's reference data and model value per unit."""

    symbol: str
    side: str
    ratio: Decimal
    asset_class: str
    underlying: str | None
    right: str | None
    strike: Decimal | None
    expiry: str | None  # ISO date
    tick_size: Decimal
    lot_size: Decimal
    multiplier: Decimal
    price: Decimal  # model value per unit
    delta: Decimal  # per unit of the instrument, in units of the underlying
    vega: Decimal  # per unit, per vol point


def signed(side: str) -> int:
    return 1 if side == Side.BUY else -1


def leg_errors(legs: list[LegTerms], *, template: str = "", hedge: bool = False) -> dict[str, str]:
    """What is wrong with a package's legs, per field (empty: nothing)."""
    errors: dict[str, str] = {}
    if not legs:
        return {"legs": "A package needs at least one leg."}
    if len({leg.symbol for leg in legs}) != len(legs):
        errors["legs"] = "Each instrument may appear in one leg only."
    ratios = [leg.ratio for leg in legs]
    if any(r <= 0 or r != r.to_integral_value() for r in ratios):
        errors["legs"] = "Ratios are positive whole numbers."
    elif _gcd(ratios) != 1:
        errors["legs"] = f"Ratios have the common factor {_gcd(ratios)}: divide them by it and size in more units."
    if len({leg.tick_size for leg in legs}) > 1:
        errors["legs"] = "All legs of a package are quoted on one tick: these instruments have different ticks."
    if template:
        if template not in TEMPLATES:
            errors["template"] = f"Unknown template: one of {', '.join(TEMPLATES)}."
        else:
            why = template_mismatch(template, legs)
            if why:
                errors["template"] = why
    if hedge:
        unders = {leg.underlying for leg in legs if leg.asset_class == "OPTION"}
        if len(unders) != 1 or None in unders:
            errors["hedge"] = "A delta hedge needs option legs on one underlying."
    return errors


def _gcd(ratios: list[Decimal]) -> int:
    g = 0
    for r in ratios:
        g = gcd(g, int(r))
    return g


def template_mismatch(template: str, legs: list[LegTerms]) -> str | None:
    """Why the legs are not the template (bought, or sold with every side flipped), or None."""
    shape = TEMPLATES[template]
    name = TEMPLATE_NAMES[template]
    if len(legs) != len(shape) or any(leg.asset_class != "OPTION" for leg in legs):
        return f"A {name.lower()} has {len(shape)} option legs."
    if len({leg.underlying for leg in legs}) != 1:
        return f"The legs of a {name.lower()} share one underlying."
    strikes = sorted({leg.strike for leg in legs})
    expiries = sorted({leg.expiry for leg in legs})
    want_strikes = len({t.strike for t in shape})
    want_expiries = len({t.expiry for t in shape})
    if len(strikes) != want_strikes:
        return f"A {name.lower()} has {want_strikes} strike(s)."
    if len(expiries) != want_expiries:
        return f"A {name.lower()} has {want_expiries} expiry(ies)."
    flip = legs[0].side != shape[0].side
    wanted = sorted(
        (t.right, (Side.SELL if t.side == Side.BUY else Side.BUY) if flip else t.side, t.ratio, t.strike, t.expiry)
        for t in shape
    )
    got = sorted(
        (leg.right, leg.side, int(leg.ratio), strikes.index(leg.strike), expiries.index(leg.expiry)) for leg in legs
    )
    if wanted != got:
        return f"These legs are not a {name.lower()}: right, side, ratio, strike or expiry differs."
    return None


@dataclass(frozen=True, slots=True)
class PackageRisk:
    """Net figures of the whole package (all units), on the portfolio's sign convention
    (bought positive): premium in currency (paid positive), delta in units of the
    underlying, vega in currency per vol point."""

    premium: Decimal
    delta: Decimal
    vega: Decimal


def package_risk(legs: list[LegTerms], *, units: Decimal, hedge_quantity: Decimal = Decimal(0)) -> PackageRisk:
    """`hedge_quantity`: signed units of the underlying bought (+) or sold (-) as the hedge."""
    premium = delta = vega = Decimal(0)
    for leg in legs:
        q = signed(leg.side) * leg.ratio * units * leg.multiplier
        premium += q * leg.price
        delta += q * leg.delta
        vega += q * leg.vega
    return PackageRisk(premium=premium, delta=delta + hedge_quantity, vega=vega)


def hedge_quantity(legs: list[LegTerms], *, units: Decimal, lot_size: Decimal) -> Decimal:
    """Signed units of the underlying that bring the package's net delta closest to zero, on
    the underlying's lot."""
    delta = package_risk(legs, units=units).delta
    return (-delta / lot_size).to_integral_value() * lot_size


def _fmt(v: Decimal) -> str:
    return f"{v.quantize(Decimal('0.01')):,f}"


def package_breaches(risk: PackageRisk, rules: list[RuleConfig]) -> list[Breach]:
    """The package-wide rules: |net premium|, |net delta| and |net vega| within the limits."""
    figures = {
        PACKAGE_MAX_NET_PREMIUM: ("net premium", risk.premium),
        PACKAGE_MAX_NET_DELTA: ("net delta", risk.delta),
        PACKAGE_MAX_NET_VEGA: ("net vega", risk.vega),
    }
    out = []
    for rule in rules:
        if rule.kind not in figures or rule.limit is None:
            continue
        label, value = figures[rule.kind]
        if abs(value) > rule.limit:
            out.append(
                Breach(
                    rule.kind,
                    f"package {label} {_fmt(value)} exceeds the portfolio's limit {_fmt(rule.limit)}",
                    f"{rule.limit.normalize():f}",
                    f"{value.quantize(Decimal('0.01')):f}",
                )
            )
    return out


def with_package(symbol: str, breaches: list[Breach]) -> Breach:
    """The reason a leg that passed on its own is rejected with its package."""
    text = "; ".join(b.message for b in breaches)
    return Breach(WITH_PACKAGE, f"rejected with its package: {symbol}: {text}"[:400], "every leg passes", symbol)
