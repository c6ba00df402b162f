"""The EMS's FIX session to the venue (EMS_GATEWAY=fix): compose's `fix-venue`."""

import os
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from core import metrics
from core.runtime import heap_settle
from core.streams import streams
from fix.venue import VenueConnector


class Command(BaseCommand):
    help = "Run the EMS's FIX initiator to the venue (FIX_VENUE_HOST:FIX_VENUE_PORT) and its command loop."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=None)
        parser.add_argument("--port", type=int, default=None)

    def handle(self, *args, host=None, port=None, **options):
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        if settings.METRICS_PORT:
            metrics.serve("fix-venue")
        connector = VenueConnector(
            streams(),
            host=host or settings.FIX_VENUE_HOST,
            port=port or settings.FIX_VENUE_PORT,
            password=settings.FIX_VENUE_PASSWORD,
            store_dir=os.path.join(settings.FIX_STORE_DIR, "venue"),
        )
        connector.start()
        heap_settle()
        self.stdout.write(f"FIX venue session to {host or settings.FIX_VENUE_HOST}:{port or settings.FIX_VENUE_PORT}")
        self.stdout.flush()
        stop.wait()
        connector.stop()
