"""Serve the product: ASGI (HTTP + websockets) under uvicorn. In the embedded mode the
Celery worker and beat run in-process on the in-memory broker, and the market simulator runs
on the server's event loop, so `make run` is the whole product in one process."""

import logging
import os
import threading

import uvicorn
from celery.beat import EmbeddedService
from celery.worker import WorkController
from django.conf import settings
from django.core.management.base import BaseCommand

from config.celery import app as celery_app

log = logging.getLogger(__name__)


def start_embedded_celery() -> None:
    worker = WorkController(
        app=celery_app,
        hostname="embedded@localhost",
        pool_cls="threads",
        concurrency=2,
        queues=list(settings.CELERY_QUEUES_WORKED),  # production gives analytics its own worker
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
        loglevel="WARNING",
    )
    threading.Thread(target=worker.start, name="celery-worker", daemon=True).start()
    beat = EmbeddedService(
        celery_app, thread=True, schedule_filename=str(settings.EMBEDDED_DB_PATH.parent / "celerybeat-schedule")
    )
    beat.start()


def start_embedded_fix() -> None:
    """The FIX acceptor (FIX_PORT, every interface) in this process; a port taken is logged, not fatal."""
    from fix.acceptor import ClientAcceptor

    try:
        ClientAcceptor().start()
    except Exception:  # QuickFIX raises its own RuntimeError kinds; the web still serves without it
        log.exception("FIX acceptor not started (FIX_PORT=%s)", settings.FIX_PORT)


class Command(BaseCommand):
    help = "Serve HTTP and websockets; in the embedded mode also the Celery worker, beat and simulator."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--workers",
            type=int,
            default=settings.WEB_WORKERS,
            help="Web processes (WEB_WORKERS); each holds at most DB_POOL_MAX_SIZE database connections "
            "and admits WEB_MAX_INFLIGHT requests at once. The embedded mode always runs one.",
        )

    def handle(self, *args, host, port, workers, **options):
        if settings.EMBEDDED:
            start_embedded_celery()
            workers = 1  # the in-process worker, beat and simulator live in this one process
            if settings.FIX_ENABLED:
                start_embedded_fix()
        self.stdout.write(
            f"Smart Trading on http://{host}:{port}/ (embedded={settings.EMBEDDED}, workers={workers}, "
            f"{settings.WEB_MAX_INFLIGHT} requests at once per worker)"
        )
        uvicorn.run(
            "config.asgi:application",
            host=host,
            port=port,
            lifespan="on",
            log_level="warning",
            # Uvicorn's lines go through Django's LOGGING (JSON in production), not its own format.
            log_config=None,
            # No line per request: at desk speed the access log alone costs a core's fraction;
            # the proxy in front logs requests in production.
            access_log=False,
            # The C parser and event loop (uvicorn[standard] brings httptools and uvloop): named, so a
            # missing one fails at start instead of silently falling back to the slow ones.
            loop="uvloop",
            http="httptools",
            ws="websockets-sansio",
            proxy_headers=True,
            workers=workers,
        )
