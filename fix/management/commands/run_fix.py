"""The FIX acceptor for clients as its own process (production: docker-compose's `fix`);
the embedded mode runs it inside `serve` instead."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from core import metrics
from core.runtime import heap_settle
from fix.acceptor import ClientAcceptor


class Command(BaseCommand):
    help = "Run the FIX 4.4 acceptor for clients (FIX_PORT, every interface) and its report loop."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=None, help="FIX_PORT unless given.")

    def handle(self, *args, port=None, **options):
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        if settings.METRICS_PORT:
            metrics.serve("fix")  # docs/operations.md: every process serves its figures
        acceptor = ClientAcceptor(port=port)
        acceptor.start()
        heap_settle()
        self.stdout.write(f"FIX acceptor on port {acceptor.port} (every interface)", ending="\n")
        self.stdout.flush()
        stop.wait()
        acceptor.stop()
