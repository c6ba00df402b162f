"""Recorded market data -> session statistics -> instrument analytics.

manage.py import_marketdata --trades t.csv --quotes q.csv                  (generic CSV)
manage.py import_marketdata --format tardis --trades trades.csv --quotes quotes.csv --symbol BTC-USD
manage.py import_marketdata --format lobster --message AAPL_..._message_10.csv --orderbook AAPL_..._orderbook_10.csv
"""

import sys
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from marketdata.recorded.aggregate import SECONDS_FROM
from marketdata.recorded.formats import FORMATS
from marketdata.recorded.reading import RowError
from marketdata.services import RecordedSource, recorded_import


class Command(BaseCommand):
    help = (
        "Import recorded trades and quotes (generic CSV, tardis CSV, LOBSTER) as per-session statistics on each "
        "instrument's trading calendar, then refresh the analytics of the instruments they cover."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", default="generic", choices=FORMATS, help="file format (default generic)")
        parser.add_argument("--trades", default=None, help="CSV of trades (generic: ts, symbol, venue, price, size)")
        parser.add_argument(
            "--quotes",
            default=None,
            help="CSV of quotes (generic: ts, symbol, venue, bid_price, bid_size, ask_price, ask_size[, level]; "
            "tardis: quotes or book_snapshot_N)",
        )
        parser.add_argument("--message", default=None, help="LOBSTER message file")
        parser.add_argument("--orderbook", default=None, help="LOBSTER orderbook file")
        parser.add_argument("--symbol", default=None, help="our instrument for a single-symbol recording")
        parser.add_argument(
            "--first-date",
            default=None,
            help="YYYY-MM-DD of the first session, for timestamps in seconds (LOBSTER: from the file name)",
        )
        parser.add_argument(
            "--seconds-from",
            default="auto",
            choices=SECONDS_FROM,
            help="timestamps in seconds count from midnight (exchange time) or from the session open; "
            "auto decides on the first value and warns",
        )
        parser.add_argument("--buckets", type=int, default=None, help="intraday volume buckets (default: 30 minutes)")
        parser.add_argument("--encoding", default=None, help="file encoding (default: detected; a BOM is fine)")
        parser.add_argument(
            "--skip-bad-rows",
            action="store_true",
            help="import the good rows and write the rejected ones to --reject-report",
        )
        parser.add_argument("--reject-report", default="rejected_rows.csv", help="where --skip-bad-rows writes them")
        parser.add_argument("--no-refresh", action="store_true", help="store the sessions only")
        parser.add_argument("--quiet", action="store_true", help="no progress lines")

    def handle(self, *args, **options):
        fmt = options["format"]
        if fmt == "lobster":
            if not (options["message"] and options["orderbook"]):
                raise CommandError("--format lobster needs --message and --orderbook")
        elif not (options["trades"] or options["quotes"]):
            raise CommandError("give --trades and/or --quotes")
        source = RecordedSource(fmt, options["trades"], options["quotes"], options["message"], options["orderbook"])
        try:
            first_date = date.fromisoformat(options["first_date"]) if options["first_date"] else None
        except ValueError as error:
            raise CommandError(f"--first-date: {error}") from error
        started = time.monotonic()
        try:
            result = recorded_import(
                sources=[source],
                first_date=first_date,
                seconds_from=options["seconds_from"],
                buckets=options["buckets"],
                symbol=options["symbol"],
                encoding=options["encoding"],
                skip_bad_rows=options["skip_bad_rows"],
                reject_report=options["reject_report"] if options["skip_bad_rows"] else None,
                progress=None if options["quiet"] else self._progress,
                refresh=not options["no_refresh"],
            )
        except RowError as error:
            raise CommandError(f"{error} (nothing imported; --skip-bad-rows imports the other rows)") from error
        except (OSError, ValueError, LookupError) as error:
            raise CommandError(str(error)) from error
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")
        if result.unknown_symbols:
            self.stderr.write(f"skipped unknown symbols: {', '.join(sorted(result.unknown_symbols))}")
        if result.rejected:
            self.stderr.write(f"rejected {result.rejected} bad rows, written to {options['reject_report']}")
        seconds = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {result.trades} trades and {result.quotes} quotes into {result.sessions} sessions "
                f"in {seconds:.1f}s; refreshed the analytics of {len(result.changes)} instruments."
            )
        )
        for change in result.changes:
            self.stdout.write(f"  {change}")

    def _progress(self, done: int, total: int, rows: int) -> None:
        share = done / total if total else 1.0
        bar = "#" * round(share * 30)
        sys.stderr.write(f"\r  [{bar:<30}] {share:6.1%} {rows:,} rows")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()
