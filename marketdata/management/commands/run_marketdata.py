"""Production market-data process: feed handlers -> Redis cache + channel layer."""

import asyncio

from django.conf import settings
from django.core.management.base import BaseCommand

from core import metrics
from core.runtime import heap_settle
from marketdata.publisher import publish_forever


class Command(BaseCommand):
    help = "Run the market data feed (the simulator, or a recorded replay) and publish snapshots."

    def add_arguments(self, parser):
        parser.add_argument("--replay-trades", default=None, help="CSV of recorded trades to replay")
        parser.add_argument("--replay-quotes", default=None, help="CSV of recorded top-of-book quotes to replay")
        parser.add_argument("--speed", type=float, default=1.0, help="Replay speed multiple of real time")

    def handle(self, *args, replay_trades, replay_quotes, speed, **options):
        feed = None
        if replay_trades or replay_quotes:
            from marketdata.feeds import ReplayFeed
            from marketdata.sim import WallClock

            feed = ReplayFeed(replay_trades, replay_quotes, WallClock(speed=speed))
        heap_settle()
        if settings.METRICS_PORT:
            metrics.serve("marketdata")  # docs/operations.md: every process serves its figures
        asyncio.run(publish_forever(feed))
