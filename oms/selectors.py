from decimal import Decimal

from django.db.models import Q, QuerySet, Sum

from accounts import roles
from core.vocabulary import Side
from marketdata.models import Instrument
from oms.domain import compliance, states
from oms.models import ComplianceRule, Order, Portfolio, Position


def portfolios_visible_to(user) -> QuerySet[Portfolio]:
    qs = Portfolio.objects.select_related("owner")
    if roles.is_desk(user):
        return qs
    if roles.is_pm(user):
        return qs.filter(owner=user)
    return qs.none()


def orders_visible_to(user) -> QuerySet[Order]:
    qs = Order.objects.select_related("portfolio", "instrument", "created_by")
    if roles.is_desk(user):
        return qs
    if roles.is_pm(user):
        return qs.filter(portfolio__owner=user)
    return qs.none()


def positions_visible_to(user) -> QuerySet[Position]:
    return Position.objects.select_related("portfolio", "instrument").filter(portfolio__in=portfolios_visible_to(user))


def position_quantity(portfolio: Portfolio, instrument: Instrument) -> Decimal:
    row = (
        Position.objects.filter(portfolio=portfolio, instrument=instrument)
        .order_by()  # no join for the ordering by symbol: one row at most
        .values_list("quantity", flat=True)
        .first()
    )
    return row if row is not None else Decimal(0)


def open_sell_quantity(portfolio: Portfolio, instrument: Instrument) -> Decimal:
    agg = Order.objects.filter(
        portfolio=portfolio, instrument=instrument, side=Side.SELL, status__in=states.OPEN_STATUSES
    ).aggregate(q=Sum("quantity"), f=Sum("filled_quantity"))
    return (agg["q"] or Decimal(0)) - (agg["f"] or Decimal(0))


def compliance_rules_for(portfolio: Portfolio, instrument: Instrument) -> list[compliance.RuleConfig]:
    rows = ComplianceRule.objects.filter(
        Q(portfolio__isnull=True) | Q(portfolio=portfolio),
        Q(instrument__isnull=True) | Q(instrument=instrument),
        enabled=True,
    )
    return [compliance.RuleConfig(kind=r.kind, limit=r.limit, name=r.name) for r in rows]
