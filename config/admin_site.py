"""The admin console: the product's name and look, admins only, and the console's own
pages (reconciliation, the audit trail across orders) beside the models."""

from functools import partial, update_wrapper

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import path, reverse

from accounts.roles import ADMIN, role_of


class ConsoleSite(admin.AdminSite):
    site_header = "Smart Trading console"
    site_title = "Smart Trading console"
    index_title = "Compliance and operations"

    def has_permission(self, request):
        # The Admin role only: staff flags alone (or a trader made staff) do not open the console.
        user = request.user
        return bool(user.is_active and user.is_staff and role_of(user) == ADMIN)

    def admin_view(self, view, cacheable=False):
        """As Django's, except that a signed-in user without the Admin role gets 403 (the
        login page would only tell them to log in again); anonymous users still go to login."""
        inner = super().admin_view(view, cacheable)

        def guarded(request, *args, **kwargs):
            if (
                request.user.is_authenticated
                and not self.has_permission(request)
                and request.path != reverse("admin:logout", current_app=self.name)
            ):
                raise PermissionDenied
            return inner(request, *args, **kwargs)

        return update_wrapper(guarded, inner)

    def register(self, model_or_iterable, admin_class=None, **options):
        # Every model admin of every app records its changes with old and new values, the
        # apps' own admins included (venues, instruments, selection rules, counterparties).
        from core.admin import AuditedAdmin

        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AuditedAdmin):
            admin_class = type(
                admin_class.__name__, (AuditedAdmin, admin_class), {"__module__": admin_class.__module__}
            )
        return super().register(model_or_iterable, admin_class, **options)

    def get_urls(self):
        from oms import console

        def page(view):
            return self.admin_view(partial(view, admin_site=self))

        return [
            path("reconciliation/", page(console.reconciliation_page), name="console-reconciliation"),
            path("reconciliation/run/", page(console.reconciliation_run_now), name="console-reconciliation-run"),
            path("audit/", page(console.audit_page), name="console-audit"),
            path("audit/export.csv", page(console.audit_export), name="console-audit-export"),
            *super().get_urls(),
        ]
