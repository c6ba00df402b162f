"""Recorded market data -> session statistics -> instrument analytics."""

from datetime import date, time
from decimal import InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from marketdata.services import (
    SESSION_BUCKETS,
    SESSION_SECONDS,
    US_EQUITY_OPEN_UTC,
    SessionCalendar,
    analytics_refresh,
    session_stats_import,
)


class Command(BaseCommand):
    help = (
        "Import recorded trades and top-of-book quotes (the replay CSV format, see marketdata.feeds.replay) "
        "as per-session statistics, then refresh the analytics of the instruments they cover."
    )

    def add_arguments(self, parser):
        parser.add_argument("--trades", default=None, help="CSV of trades: ts, symbol, venue, price, size[, side]")
        parser.add_argument(
            "--quotes",
            default=None,
            help="CSV of quotes: ts, symbol, venue, bid_price, bid_size, ask_price, ask_size[, level]",
        )
        parser.add_argument(
            "--session-open",
            default=US_EQUITY_OPEN_UTC.strftime("%H:%M"),
            help="UTC time the session opens, for ISO-8601 timestamps (default %(default)s)",
        )
        parser.add_argument(
            "--session-hours", type=float, default=SESSION_SECONDS / 3600, help="session length (default %(default)s)"
        )
        parser.add_argument(
            "--first-date",
            default=None,
            help="YYYY-MM-DD of the first session, for timestamps in seconds since its open",
        )
        parser.add_argument("--buckets", type=int, default=SESSION_BUCKETS, help="intraday volume buckets")
        parser.add_argument("--no-refresh", action="store_true", help="store the sessions only")

    def handle(self, *args, trades, quotes, session_open, session_hours, first_date, buckets, no_refresh, **options):
        if not (trades or quotes):
            raise CommandError("give --trades and/or --quotes")
        try:
            calendar = SessionCalendar(
                open_utc=time.fromisoformat(session_open),
                session_seconds=session_hours * 3600,
                first_date=date.fromisoformat(first_date) if first_date else None,
            )
            result = session_stats_import(trades_csv=trades, quotes_csv=quotes, calendar=calendar, buckets=buckets)
        except (OSError, ValueError, InvalidOperation) as error:
            raise CommandError(str(error)) from error
        refreshed = 0 if no_refresh else sum(analytics_refresh(instrument=i) for i in result.instruments)
        if result.unknown_symbols:
            self.stderr.write(f"skipped unknown symbols: {', '.join(sorted(result.unknown_symbols))}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {result.trades} trades and {result.quotes} quotes into {result.sessions} sessions; "
                f"refreshed the analytics of {refreshed} instruments."
            )
        )
