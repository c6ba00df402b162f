"""RFQ pages for the desk: the list, the ticket from an order, the live ladder. Data comes
from selectors; writes go through the API."""

from django.shortcuts import get_object_or_404, render

from accounts import roles
from accounts.decorators import role_required
from oms.selectors import orders_visible_to
from rfq import selectors
from rfq.models import Counterparty


@role_required(roles.TRADER, roles.ADMIN)
def rfq_list(request):
    rfqs = selectors.rfqs_visible_to(request.user).order_by("-id")[:100]
    return render(request, "rfq/rfq_list.html", {"rfqs": rfqs})


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
