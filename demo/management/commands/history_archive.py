"""`manage.py history_archive [--before 2019-01-01] [--directory DIR]`: export, check, then
delete the orders finished before the cutoff with everything that hangs on them
(config.archive). Run as the database owner. `manage.py loaddata <file>.jsonl.gz` restores."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from config.archive import history_archive


class Command(BaseCommand):
    help = "Archive (export, verify, then delete) the orders finished before a cutoff."

    def add_arguments(self, parser):
        parser.add_argument("--before", help="UTC date or time; default: now - HISTORY_RETENTION_DAYS")
        parser.add_argument("--directory", default=settings.HISTORY_ARCHIVE_DIR)
        parser.add_argument("--batch", type=int, default=1000)

    def handle(self, *args, before=None, directory=None, batch=1000, **options):
        if before:
            try:
                cutoff = datetime.fromisoformat(before)
            except ValueError:
                raise CommandError(f"--before {before!r}: give a date such as 2019-01-01") from None
            cutoff = cutoff if cutoff.tzinfo else cutoff.replace(tzinfo=UTC)
        else:
            cutoff = timezone.now() - timedelta(days=settings.HISTORY_RETENTION_DAYS)
        result = history_archive(before=cutoff, directory=Path(directory), batch=batch)
        self.stdout.write(
            f"archived {result.orders} orders finished before {cutoff.isoformat()} into {len(result.files)} "
            f"file(s) in {directory}; rows {result.rows}; kept {result.skipped_orders} an impact refit depends on"
        )
