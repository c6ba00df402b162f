"""Scheduled upkeep of the history (config.archive)."""

from datetime import timedelta
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.utils import timezone


@shared_task(time_limit=3600, soft_time_limit=3500, ignore_result=True)
def history_archive_due() -> int:
    """Archive the orders finished more than HISTORY_RETENTION_DAYS ago. Idempotent: what
    is archived is gone from the live tables, so a rerun finds only what is newly due.
    Returns how many orders it archived."""
    before = timezone.now() - timedelta(days=settings.HISTORY_RETENTION_DAYS)
    from config.archive import history_archive

    return history_archive(before=before, directory=Path(settings.HISTORY_ARCHIVE_DIR)).orders
