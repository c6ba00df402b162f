"""The admin console: the product's name and look, admins only, and the console's own
pages (reconciliation, the audit trail across orders) beside the models."""

from functools import partial

from django.contrib import admin
from django.urls import path

from accounts.roles import ADMIN, role_of


class ConsoleSite(admin.AdminSite):
    site_header = "Smart Trading console"
    site_title = "Smart Trading console"
    index_title = "Compliance and operations"

    def has_permission(self, request):
        # The Admin role only: staff flags alone (or a trader made staff) do not open the console.
        user = request.user
        return bool(user.is_active and user.is_staff and role_of(user) == ADMIN)

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
