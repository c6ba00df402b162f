"""Celery entry points of the OMS: thin, idempotent, ids only."""

from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import OperationalError

from oms import ledger


@shared_task(
    name="oms.tasks.reconciliation_nightly",
    queue="default",
    time_limit=600,
    soft_time_limit=540,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def reconciliation_nightly(actor_id: int | None = None, trigger: str = ledger.NIGHTLY) -> int:
    """Reconcile the books (beat, nightly; or an admin from the console) and store the run.
    Read-only over the books: a retried run stores one more run with the same findings."""
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    return ledger.reconciliation_run(trigger=trigger, actor=actor).pk
