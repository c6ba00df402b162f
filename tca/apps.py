from django.apps import AppConfig


class TcaConfig(AppConfig):
    name = "tca"
    verbose_name = "Transaction cost analysis"
