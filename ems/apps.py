from django.apps import AppConfig


class EmsConfig(AppConfig):
    name = "ems"
    verbose_name = "Execution management"
