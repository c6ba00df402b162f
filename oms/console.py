"""The console's own pages (mounted by config.admin_site, admins only): reconciliation and
the audit trail across all orders with its CSV export."""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.audit import console_change_record
from core.choices import OrderEventType
from core.vocabulary import ConsoleAction
from marketdata.models import Instrument
from oms import audit, ledger
from oms.models import Portfolio, ReconciliationRun

PAGE_ROWS = 200


def _context(admin_site, request, title):
    return {**admin_site.each_context(request), "title": title}


def reconciliation_page(request, *, admin_site):
    latest = ledger.reconciliation_latest()
    breaks = list(latest.breaks.select_related("portfolio")) if latest else []
    context = {
        **_context(admin_site, request, "Reconciliation"),
        "latest": latest,
        "breaks": breaks,
        "last_clean": ledger.reconciliation_last_clean(),
        "runs": ReconciliationRun.objects.select_related("actor")[:20],
    }
    return render(request, "admin/console/reconciliation.html", context)


@require_POST
def reconciliation_run_now(request, *, admin_site):
    run = ledger.reconciliation_run(trigger=ledger.CONSOLE, actor=request.user)
    console_change_record(
        actor=request.user,
        action=ConsoleAction.RECONCILE,
        obj=run,
        summary=f"ran a reconciliation: {run.breaks_found} breaks",
    )
    level = messages.SUCCESS if run.clean else messages.WARNING
    messages.add_message(
        request, level, "The books reconcile." if run.clean else f"{run.breaks_found} breaks found: see below."
    )
    return redirect("admin:console-reconciliation")


class AuditForm(forms.Form):
    user = forms.ModelChoiceField(queryset=get_user_model().objects.order_by("username"), required=False)
    portfolio = forms.ModelChoiceField(queryset=Portfolio.objects.order_by("name"), required=False)
    instrument = forms.ModelChoiceField(
        queryset=Instrument.objects.order_by("symbol"), required=False, to_field_name="symbol"
    )
    event = forms.ChoiceField(choices=[("", "any")] + list(OrderEventType.choices), required=False)
    start = forms.DateTimeField(required=False, help_text="UTC, inclusive", label="From (UTC)")
    end = forms.DateTimeField(required=False, help_text="UTC, exclusive", label="To (UTC)")

    def filters(self) -> audit.AuditFilters:
        d = self.cleaned_data
        return audit.AuditFilters(
            actor_id=d["user"].pk if d.get("user") else None,
            portfolio_id=d["portfolio"].pk if d.get("portfolio") else None,
            instrument_id=d["instrument"].pk if d.get("instrument") else None,
            event=d.get("event") or None,
            start=d.get("start"),
            end=d.get("end"),
        )


def audit_page(request, *, admin_site):
    form = AuditForm(request.GET or None)
    events, total = [], 0
    if form.is_bound and form.is_valid():
        qs = audit.audit_events(form.filters())
    elif not form.is_bound:
        qs = audit.audit_events(audit.AuditFilters())
    else:
        qs = None
    if qs is not None:
        total = qs.count()
        events = list(qs.order_by("-id")[:PAGE_ROWS])
    context = {
        **_context(admin_site, request, "Audit trail"),
        "form": form,
        "events": events,
        "total": total,
        "shown": len(events),
        "columns": audit.COLUMNS,
        "query": request.GET.urlencode(),
    }
    return render(request, "admin/console/audit.html", context)


def audit_export(request, *, admin_site):
    form = AuditForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        messages.error(request, "Fix the filters before exporting.")
        return redirect(f"{request.path.rsplit('export', 1)[0]}?{request.GET.urlencode()}")
    filters = form.filters() if form.is_bound else audit.AuditFilters()
    rows, lines = audit.audit_export(actor=request.user, filters=filters)
    name = f"audit-{timezone.now():%Y%m%dT%H%M%SZ}.csv"
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Audit-Rows"] = str(rows)
    return response
