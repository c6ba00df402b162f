from django.apps import AppConfig


class SorConfig(AppConfig):
    name = "sor"
    verbose_name = "Smart order router"
