"""The TCA pages: one order's analysis (charts drawn by static/js/tca-order.js from the API)
and the best-execution report. Reads go through selectors; the figures come from the API."""

from django.shortcuts import get_object_or_404, render

from accounts import roles
from accounts.decorators import role_required
from oms.selectors import orders_visible_to


@role_required(*roles.ROLES)
def order_tca_page(request, order_id: int):
    order = get_object_or_404(orders_visible_to(request.user), pk=order_id)
    return render(request, "tca/order_tca.html", {"order": order})


@role_required(*roles.ROLES)
def report_page(request):
    return render(request, "tca/report.html", {})
