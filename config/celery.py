import logging
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("smart_trading")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["config"])  # config.tasks: the history's upkeep


# Logs and metrics of the worker and beat processes (core.logs, core.metrics).
from celery import signals  # noqa: E402


@signals.setup_logging.connect
def _keep_django_logging(**_):
    """Connected, so Celery leaves the logging Django configured (JSON in production) alone."""


@signals.before_task_publish.connect
def _pass_request_id(headers=None, **kwargs):
    from core import logs

    logs.task_publishing(headers=headers)


@signals.task_prerun.connect
def _task_context(**kwargs):
    from core import logs

    logs.task_starting(**kwargs)


@signals.task_postrun.connect
def _task_done(**kwargs):
    from core import logs

    logs.task_ended(**kwargs)


@signals.worker_ready.connect
def _worker_metrics(**_):
    _serve_metrics("worker")


@signals.beat_init.connect
def _beat_metrics(**_):
    _serve_metrics("beat")


@signals.worker_process_init.connect
@signals.beat_init.connect
def _heap_settle(**_):
    from core.runtime import heap_settle  # Django is set up by now

    heap_settle()


@signals.worker_process_init.connect
def _child_started(**_):
    from core import metrics

    metrics.start_sampler()


@signals.worker_process_shutdown.connect
def _child_ended(pid=None, **_):
    from core import metrics

    metrics.process_exited(pid)


def _serve_metrics(process: str) -> None:
    from django.conf import settings

    from core import metrics

    if settings.EMBEDDED or not settings.METRICS_PORT:
        return  # embedded: the web server's /metrics already has this process's figures
    try:
        metrics.serve(process)
    except OSError as exc:
        logging.getLogger(__name__).warning("%s metrics not served: %s", process, exc)
