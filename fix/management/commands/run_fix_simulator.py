"""The simulator's FIX acceptor front (compose's `fix-simulator`): FIX orders in, the venue's
commands out to the one simulator (run_marketdata), its reports back as ExecutionReports."""

import os
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from core import metrics
from core.runtime import heap_settle
from core.streams import streams
from fix.venue import SimulatorFront


class Command(BaseCommand):
    help = "Run the simulator's FIX 4.4 acceptor (FIX_VENUE_PORT, every interface)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=None)

    def handle(self, *args, port=None, **options):
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        if settings.METRICS_PORT:
            metrics.serve("fix-simulator")
        front = SimulatorFront(
            streams(),
            port=port or settings.FIX_VENUE_PORT,
            password=settings.FIX_VENUE_PASSWORD,
            store_dir=os.path.join(settings.FIX_STORE_DIR, "simulator"),
        )
        front.start()
        heap_settle()
        self.stdout.write(f"FIX simulator front on port {front.port} (every interface)")
        self.stdout.flush()
        stop.wait()
        front.stop()
