"""Celery entry points of TCA: thin and idempotent (tca_compute stores once)."""

from celery import shared_task
from django.db import OperationalError

from tca.services import (
    counterfactuals_compute,
    counterfactuals_pending,
    impact_refit,
    tca_compute,
    tca_compute_pending,
)


@shared_task(
    name="tca.tasks.tca_compute_order",
    queue="default",
    time_limit=60,
    soft_time_limit=50,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def tca_compute_order(order_id: int) -> bool:
    return tca_compute(order_id=order_id) is not None


@shared_task(
    name="tca.tasks.tca_compute_finished",
    queue="default",
    time_limit=120,
    soft_time_limit=100,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def tca_compute_finished() -> int:
    """Store the TCA of every finished order that has none yet (scheduled by beat). The sweep
    rather than a hook on the order's close: the order's close belongs to the OMS and the
    EMS, which know nothing of TCA, and a missed close is caught by the next sweep anyway."""
    counterfactuals_pending()  # queued, each its own task: a backtest takes seconds
    return tca_compute_pending()


@shared_task(
    name="tca.tasks.impact_refit_all",
    queue="default",
    time_limit=300,
    soft_time_limit=280,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def impact_refit_all() -> int:
    """Re-fit the impact coefficient of every instrument with new stored TCA (scheduled by
    beat); one short transaction per instrument. Returns how many were re-fitted."""
    from tca.models import OrderTca

    instruments = OrderTca.objects.values_list("order__instrument_id", flat=True).distinct()
    return sum(1 for instrument_id in sorted(set(instruments)) if impact_refit(instrument_id=instrument_id) is not None)


@shared_task(
    name="tca.tasks.counterfactuals_compute_order",
    # Seconds of backtest each: kept off the queue the ticks run on (docs/operations.md).
    queue="analytics",
    time_limit=300,
    soft_time_limit=280,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def counterfactuals_compute_order(order_id: int) -> bool:
    """One order's counterfactuals: seconds of virtual-time backtest, stored once."""
    return counterfactuals_compute(order_id=order_id) is not None
