"""Celery entry points of market data: thin, idempotent, no ORM objects in their arguments."""

from celery import shared_task
from django.db import OperationalError

from marketdata.models import Instrument
from marketdata.services import analytics_refresh


@shared_task(
    name="marketdata.tasks.analytics_refresh_all",
    queue="default",
    time_limit=120,
    soft_time_limit=100,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def analytics_refresh_all() -> int:
    """Recompute every active instrument's analytics from its stored sessions (scheduled by
    beat). Running it twice over the same sessions writes the same figures."""
    refreshed = 0
    for instrument in Instrument.objects.filter(is_active=True):
        # One short transaction per instrument: a refresh never holds every row lock at once.
        refreshed += analytics_refresh(instrument=instrument)
    return refreshed


@shared_task(
    name="marketdata.tasks.market_samples_purge_old",
    queue="default",
    time_limit=300,
    soft_time_limit=280,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def market_samples_purge_old() -> int:
    """Drop the stored market samples past their retention (scheduled by beat)."""
    from marketdata.sampling import market_samples_purge

    return market_samples_purge()
