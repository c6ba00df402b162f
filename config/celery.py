import os

from celery import Celery
from celery.signals import beat_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("smart_trading")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["config"])  # config.tasks: the history's upkeep


@worker_process_init.connect
@beat_init.connect
def _heap_settle(**_):
    from core.runtime import heap_settle  # Django is set up by now

    heap_settle()
