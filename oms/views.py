"""Server-rendered desk pages. Each checks the role; data comes from selectors, writes go
through the API (the same services the API, tasks and FIX use)."""

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render

from accounts import roles
from accounts.decorators import role_required
from core.choices import Side, Urgency
from marketdata.models import Instrument
from marketdata.selectors import mid_price
from oms import selectors


@login_required
def home(request):
    role = roles.role_of(request.user)
    if role == roles.PM:
        return redirect("pm-desk")
    if role == roles.TRADER:
        return redirect("trader-blotter")
    if role == roles.ADMIN:
        return redirect("admin:index")
    raise PermissionDenied


def _positions_with_pnl(user):
    rows = []
    for pos in selectors.positions_visible_to(user).exclude(quantity=0):
        mark = mid_price(pos.instrument)
        unrealised = (mark - pos.average_cost) * pos.quantity * pos.instrument.multiplier
        rows.append(
            {
                "position": pos,
                "mark": mark,
                "unrealised": unrealised,
                "market_value": mark * pos.quantity * pos.instrument.multiplier,
            }
        )
    return rows


@role_required(roles.PM)
def pm_desk(request):
    """Order entry with the compliance preview and what-if estimate, the PM's blotter and positions."""
    portfolios = list(selectors.portfolios_visible_to(request.user))
    positions = _positions_with_pnl(request.user)
    return render(
        request,
        "oms/pm_desk.html",
        {
            "portfolios": portfolios,
            "instruments": Instrument.objects.filter(is_active=True),
            "sides": Side.values,
            "urgencies": Urgency.values,
            "orders": selectors.orders_visible_to(request.user)[:100],
            "positions": positions,
            "total_unrealised": sum((p["unrealised"] for p in positions), Decimal(0)),
        },
    )


@role_required(roles.TRADER, roles.ADMIN)
def trader_blotter(request):
    # The first page as the live blotter's snapshot loads it (static/js/blotter.js LIMIT):
    # the rest of the history is one `next` away in the API.
    return render(request, "oms/trader_blotter.html", {"orders": selectors.orders_visible_to(request.user)[:100]})


@role_required(roles.PM, roles.TRADER, roles.ADMIN)
def order_detail(request, pk: int):
    order = get_object_or_404(
        selectors.orders_visible_to(request.user).prefetch_related("events__actor", "fills"), pk=pk
    )
    return render(request, "oms/order_detail.html", {"order": order})


@role_required(roles.PM)
def package_ticket(request):
    """The PM's multi-leg ticket: a template or custom legs, an optional delta hedge, sized
    in package units; it posts to POST /api/packages/."""
    from oms.domain.packages import TEMPLATE_NAMES, TEMPLATES

    options = Instrument.objects.filter(is_active=True, asset_class="OPTION").select_related("underlying")
    instruments = Instrument.objects.filter(is_active=True).order_by("asset_class", "symbol")
    templates = {
        key: {
            "name": TEMPLATE_NAMES[key],
            "legs": [
                {"right": t.right, "side": t.side, "ratio": t.ratio, "strike": t.strike, "expiry": t.expiry}
                for t in shape
            ],
        }
        for key, shape in TEMPLATES.items()
    }
    chain = [
        {
            "symbol": o.symbol,
            "underlying": o.underlying.symbol if o.underlying_id else "",
            "right": o.option_right,
            "strike": str(o.strike),
            "expiry": o.expiry.isoformat() if o.expiry else "",
        }
        for o in options
    ]
    return render(
        request,
        "oms/package_ticket.html",
        {
            "portfolios": selectors.portfolios_visible_to(request.user),
            "instruments": instruments,
            "templates": templates,
            "chain": chain,
            "urgencies": Urgency.values,
        },
    )
