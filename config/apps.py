from django.contrib.admin.apps import AdminConfig


class ConsoleAdminConfig(AdminConfig):
    """django.contrib.admin with the product's console as its site (config.admin_site)."""

    default_site = "config.admin_site.ConsoleSite"

    def ready(self):
        super().ready()
        from config import metrics

        metrics.install()
