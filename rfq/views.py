"""RFQ pages for the desk: the list, the ticket from an order, the live ladder. Data comes
from selectors; writes go through the API."""

from django.shortcuts import get_object_or_404, render

from accounts import roles
from accounts.decorators import role_required
from oms.models import Package
from oms.selectors import orders_visible_to
from rfq import selectors
from rfq.models import Counterparty
from sor.services import package_recommendation


@role_required(roles.TRADER, roles.ADMIN)
def rfq_list(request):
    rfqs = selectors.rfqs_visible_to(request.user).order_by("-id")[:100]
    packages = Package.objects.filter(legs__order__status="ACCEPTED").distinct().order_by("-id")[:50]
    return render(request, "rfq/rfq_list.html", {"rfqs": rfqs, "packages": packages})


@role_required(roles.TRADER, roles.ADMIN)
def rfq_ticket(request, order_id: int):
    order = get_object_or_404(orders_visible_to(request.user), pk=order_id)
    counterparties = [
        c for c in Counterparty.objects.filter(enabled=True) if order.instrument.asset_class in c.asset_classes
    ]
    return render(request, "rfq/rfq_ticket.html", {"order": order, "counterparties": counterparties})


@role_required(roles.TRADER, roles.ADMIN)
def rfq_detail(request, pk: int):
    rfq = get_object_or_404(selectors.rfqs_visible_to(request.user), pk=pk)
    return render(request, "rfq/rfq_detail.html", {"rfq": rfq})


@role_required(roles.TRADER, roles.ADMIN)
def package_rfq_ticket(request, package_id: int):
    """The trader's ticket for a package: its legs, the router's recommendation (RFQ, with
    why), and the RFQ's terms: window, side or two-way, all-or-none or any-part-of."""
    package = get_object_or_404(Package.objects.select_related("portfolio"), pk=package_id)
    legs = list(package.legs.select_related("order__instrument"))
    asset_class = next((x.order.instrument.asset_class for x in legs if not x.is_hedge), "OPTION")
    counterparties = [c for c in Counterparty.objects.filter(enabled=True) if asset_class in c.asset_classes]
    return render(
        request,
        "rfq/package_ticket.html",
        {
            "package": package,
            "legs": legs,
            "recommendation": package_recommendation(package),
            "counterparties": counterparties,
        },
    )
