from django.apps import AppConfig


class FixConfig(AppConfig):
    name = "fix"
    verbose_name = "FIX connectivity"
    default_auto_field = "django.db.models.BigAutoField"
