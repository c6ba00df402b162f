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


_PORTFOLIOS_ATTR = "_smart_trading_portfolio_ids"


def visible_portfolio_ids(user) -> list[int]:
    """The ids of a PM's own portfolios, read once per user object (a request's user lives
    one request, like its role in accounts.roles). Lists filter on these ids instead of
    joining the portfolios on every page, so the planner sees `portfolio_id IN (...)` and
    its statistics."""
    if not hasattr(user, _PORTFOLIOS_ATTR):
        ids = list(Portfolio.objects.filter(owner=user).order_by("id").values_list("id", flat=True))
        setattr(user, _PORTFOLIOS_ATTR, ids)
    return getattr(user, _PORTFOLIOS_ATTR)


def forget_visible_portfolios(user) -> None:
    """After giving `user` a portfolio within the same request (or test)."""
    if hasattr(user, _PORTFOLIOS_ATTR):
        delattr(user, _PORTFOLIOS_ATTR)


def orders_visible_to(user) -> QuerySet[Order]:
    qs = Order.objects.select_related("portfolio", "instrument", "created_by")
    if roles.is_desk(user):
        return qs
    if roles.is_pm(user):
        return qs.filter(portfolio_id__in=visible_portfolio_ids(user))
    return qs.none()


def positions_visible_to(user) -> QuerySet[Position]:
    qs = Position.objects.select_related("portfolio", "instrument")
    if roles.is_desk(user):
        return qs
    if roles.is_pm(user):
        return qs.filter(portfolio_id__in=visible_portfolio_ids(user))
    return qs.none()


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
