"""Packages: one parent order per leg, linked by a Package, entered in one transaction. Each
leg goes through pre-trade compliance as an order (oms.services.order_submit) and the
package as a whole through the package-wide rules (net premium, delta, vega): a breach
anywhere rejects every leg together, each with the reasons, never some of them."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from core.errors import DomainError
from core.locks import lock_one
from core.vocabulary import Side
from marketdata.models import Instrument
from marketdata.selectors import model_value
from oms import services
from oms.domain import compliance
from oms.domain import packages as domain
from oms.models import ComplianceRule, Order, Package, PackageLeg, Portfolio


class PackageInvalid(DomainError):
    """Per-field errors of a package's terms (nothing stored)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class LegInput:
    instrument: Instrument
    side: str
    ratio: Decimal


def leg_terms(leg: LegInput) -> domain.LegTerms:
    i = leg.instrument
    price, delta, vega = model_value(i)
    return domain.LegTerms(
        symbol=i.symbol,
        side=leg.side,
        ratio=Decimal(leg.ratio),
        asset_class=i.asset_class,
        underlying=i.underlying.symbol if i.underlying_id else None,
        right=i.option_right or None,
        strike=i.strike,
        expiry=i.expiry.isoformat() if i.expiry else None,
        tick_size=i.tick_size,
        lot_size=i.lot_size,
        multiplier=i.multiplier,
        price=price,
        delta=delta,
        vega=vega,
    )


def _package_rules(portfolio: Portfolio) -> list[compliance.RuleConfig]:
    rows = ComplianceRule.objects.filter(
        Q(portfolio__isnull=True) | Q(portfolio=portfolio), kind__in=domain.PACKAGE_RULE_KINDS, enabled=True
    )
    return [compliance.RuleConfig(kind=r.kind, limit=r.limit, name=r.name) for r in rows]


@dataclass(frozen=True)
class _Leg:
    instrument: Instrument
    side: str
    ratio: Decimal
    quantity: Decimal
    is_hedge: bool
    model_price: Decimal


def package_preview(
    *, portfolio: Portfolio, quantity: Decimal, legs: list[LegInput], hedge: bool = False, template: str = ""
) -> dict:
    """The package as it would be entered now: its legs (with the hedge), net risk and every
    breach, per leg and package-wide. Raises PackageInvalid for malformed terms."""
    quantity = Decimal(quantity)
    terms = [leg_terms(leg) for leg in legs]
    errors = domain.leg_errors(terms, template=template, hedge=hedge)
    if quantity <= 0 or quantity != quantity.to_integral_value():
        errors["quantity"] = "Package units are a positive whole number."
    if errors:
        raise PackageInvalid(errors)
    rows = [
        _Leg(leg.instrument, leg.side, t.ratio, quantity * t.ratio, False, t.price)
        for leg, t in zip(legs, terms, strict=True)
    ]
    for r in rows:
        if r.quantity % r.instrument.lot_size:
            raise PackageInvalid({"legs": f"{r.instrument.symbol}: {r.quantity} is not a multiple of its lot"})
    hedge_qty = Decimal(0)
    if hedge:
        under = legs[0].instrument.underlying
        hedge_qty = domain.hedge_quantity(terms, units=quantity, lot_size=under.lot_size)
        if hedge_qty:
            per_unit = abs(hedge_qty) / quantity
            price = model_value(under)[0]
            side = Side.BUY if hedge_qty > 0 else Side.SELL
            rows.append(_Leg(under, side, per_unit, abs(hedge_qty), True, price))
    risk = domain.package_risk(terms, units=quantity, hedge_quantity=hedge_qty)
    leg_breaches = [
        services.order_preview(portfolio=portfolio, instrument=r.instrument, side=r.side, quantity=r.quantity)
        for r in rows
    ]
    return {
        "rows": rows,
        "risk": risk,
        "leg_breaches": leg_breaches,
        "package_breaches": domain.package_breaches(risk, _package_rules(portfolio)),
    }


@transaction.atomic
def package_submit(
    *,
    actor,
    portfolio: Portfolio,
    quantity: Decimal,
    legs: list[LegInput],
    hedge: bool = False,
    template: str = "",
    urgency: str = "MEDIUM",
    allow_leg_work: bool = False,
    confirmed: bool = False,
) -> Package:
    """Enter a package: one parent order per leg (and one for the delta hedge, when asked and
    not zero), all ACCEPTED or all REJECTED. Soft limits only on some leg: refused with
    ConfirmationRequired, nothing stored, unless `confirmed`."""
    lock_one(Portfolio, portfolio.pk, what="portfolio")
    preview = package_preview(portfolio=portfolio, quantity=quantity, legs=legs, hedge=hedge, template=template)
    rows, risk = preview["rows"], preview["risk"]
    hard = [[b for b in bs if not b.soft] for bs in preview["leg_breaches"]]
    soft = [b for bs in preview["leg_breaches"] for b in bs if b.soft]
    package_breaches = preview["package_breaches"]
    if soft and not confirmed and not package_breaches and not any(hard):
        raise compliance.ConfirmationRequired("; ".join(b.message for b in soft))
    package = Package.objects.create(
        portfolio=portfolio,
        template=template,
        side=rows[0].side,
        quantity=Decimal(quantity),
        urgency=urgency,
        allow_leg_work=allow_leg_work,
        rejection_reasons=[b.as_dict() for b in package_breaches],
        net_premium=risk.premium.quantize(Decimal("0.0001")),
        net_delta=risk.delta.quantize(Decimal("0.00000001")),
        net_vega=risk.vega.quantize(Decimal("0.0001")),
        created_by=actor,
    )
    try:
        # A savepoint: should a leg decide differently from its preview (the market moved
        # between the two), the legs are entered again, all rejected.
        with transaction.atomic():
            orders = _enter(package, rows, actor, urgency, _extras(rows, hard, package_breaches), confirmed)
            if len({o.status for o in orders}) > 1:
                raise _Mixed([o.rejection_reasons for o in orders])
    except _Mixed as mixed:
        hard = [[compliance.Breach(**{k: v for k, v in r.items() if k != "soft"}) for r in rs] for rs in mixed.reasons]
        orders = _enter(package, rows, actor, urgency, _extras(rows, hard, package_breaches, force=True), confirmed)
    return package


class _Mixed(Exception):
    def __init__(self, reasons):
        super().__init__("legs decided differently")
        self.reasons = reasons


def _extras(rows, hard, package_breaches, force: bool = False) -> list[list[compliance.Breach]]:
    """What rejects each leg beyond its own rules: the package's breaches and the other legs'."""
    if not (force or package_breaches or any(hard)):
        return [[] for _ in rows]
    out = []
    for i, _row in enumerate(rows):
        others = [
            domain.with_package(rows[j].instrument.symbol, hard[j]) for j in range(len(rows)) if j != i and hard[j]
        ]
        extra = list(package_breaches) + others
        if not extra and not hard[i]:
            extra = [compliance.Breach(domain.WITH_PACKAGE, "rejected with its package", "every leg passes", "")]
        out.append(extra)
    return out


def _enter(package, rows, actor, urgency, extras, confirmed) -> list[Order]:
    orders = []
    for index, (row, extra) in enumerate(zip(rows, extras, strict=True)):
        order = services.order_submit(
            actor=actor,
            portfolio=package.portfolio,
            instrument=row.instrument,
            side=row.side,
            quantity=row.quantity,
            urgency=urgency,
            confirmed=confirmed or bool(extra),
            extra_breaches=extra,
        )
        PackageLeg.objects.create(
            package=package,
            index=index,
            order=order,
            ratio=row.ratio,
            is_hedge=row.is_hedge,
            model_price=row.model_price.quantize(Decimal("0.00000001")),
        )
        orders.append(order)
    return orders
