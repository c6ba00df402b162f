"""The state figures computed when Prometheus scrapes the web server (core.metrics holds the
event counters and serves them), and the /metrics view.

They are read from the database, the cache and the broker at scrape time rather than kept
up to date by the services, so the EMS, RFQ and OMS code paths carry no bookkeeping for
them, and every web process answers the same figures (one copy: only the web server
exports them, the other processes export their own events)."""

import logging
import time

from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpResponse, HttpResponseForbidden
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.core import GaugeMetricFamily

from config.celery import app as celery_app
from core import metrics
from ems.domain import states as ems_states
from ems.models import ChildOrder, Execution
from marketdata.models import Instrument
from marketdata.selectors import latest_snapshot
from oms import ledger
from rfq.domain import states as rfq_states
from rfq.models import Rfq

log = logging.getLogger(__name__)


def _by_status(model, statuses) -> dict[str, int]:
    counts = dict.fromkeys(sorted(statuses), 0)
    for row in model.objects.filter(status__in=statuses).values("status").annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    return counts


def queue_depth(queue: str) -> int:
    """Messages waiting in a Celery queue (Redis list lengths, all priorities; the in-memory
    broker in the embedded mode)."""
    with celery_app.connection_for_read() as conn:
        # Not passive: a queue nothing was ever sent to is empty, not an error.
        _, waiting, _ = conn.default_channel.queue_declare(queue=queue, durable=True, auto_delete=False)
        return waiting


class SystemCollector:
    """Executions, child orders and RFQs by open status, how overdue the most overdue
    execution tick is, the market data's age per symbol, the Celery queues' depth, the
    books' last reconciliation. A part whose source is down is left out of the scrape (and
    counted): the other figures still answer, and an operator sees which source failed."""

    def collect(self):
        failed = GaugeMetricFamily(
            "smart_trading_scrape_failures",
            "State figures left out of this scrape: their source failed",
            labels=["part"],
        )
        for part in (self.work, self.tick_overdue, self.marketdata, self.queues, self.books):
            try:
                yield from list(part())
                failed.add_metric([part.__name__], 0)
            except Exception:
                log.warning("metrics: %s left out of the scrape", part.__name__, exc_info=True)
                failed.add_metric([part.__name__], 1)
        yield failed

    def work(self):
        executions = GaugeMetricFamily(
            "smart_trading_executions", "Executions not finished, by status", labels=["status"]
        )
        for status, n in _by_status(Execution, ems_states.EXECUTION_ACTIVE).items():
            executions.add_metric([status], n)
        children = GaugeMetricFamily(
            "smart_trading_child_orders_open", "Child orders open at venues, by status", labels=["status"]
        )
        for status, n in _by_status(ChildOrder, ems_states.CHILD_OPEN).items():
            children.add_metric([status], n)
        rfqs = GaugeMetricFamily("smart_trading_rfqs_open", "RFQs not finished, by status", labels=["status"])
        for status, n in _by_status(Rfq, rfq_states.RFQ_OPEN).items():
            rfqs.add_metric([status], n)
        return [executions, children, rfqs]

    def tick_overdue(self):
        # A tick lag that grows while nothing ticks: the histogram (core.metrics.TICK_LAG)
        # only moves when ticks run, this one also when the workers are down.
        now = timezone.now()
        oldest = Execution.objects.filter(
            status__in=ems_states.EXECUTION_ACTIVE - {ems_states.PAUSED}, next_tick_at__lte=now
        ).aggregate(due=Min("next_tick_at"))["due"]
        return [
            GaugeMetricFamily(
                "smart_trading_tick_overdue_seconds",
                "How long the most overdue execution tick has been due (0: none overdue)",
                value=(now - oldest).total_seconds() if oldest else 0.0,
            )
        ]

    def marketdata(self):
        age = GaugeMetricFamily(
            "smart_trading_marketdata_age_seconds", "Age of the latest published book, per symbol", labels=["symbol"]
        )
        missing = 0
        now = time.time()
        for symbol in Instrument.objects.order_by("symbol").values_list("symbol", flat=True):
            snap = latest_snapshot(symbol, now=now)
            if snap is None:
                missing += 1
            else:
                age.add_metric([symbol], snap["age_seconds"])
        without = GaugeMetricFamily(
            "smart_trading_marketdata_symbols_without_book", "Instruments with no published book", value=missing
        )
        return [age, without]

    def queues(self):
        depth = GaugeMetricFamily("smart_trading_celery_queue_depth", "Tasks waiting in a queue", labels=["queue"])
        for queue in settings.CELERY_QUEUES_WORKED:
            depth.add_metric([queue], queue_depth(queue))
        return [depth]

    def books(self):
        summary = ledger.reconciliation_summary()
        return [
            GaugeMetricFamily(
                "smart_trading_reconciliation_breaks",
                "Breaks found by the latest reconciliation of the books (0 when clean or never run)",
                value=summary.get("breaks", 0) or 0,
            )
        ]


def metrics_view(request):
    """GET /metrics: the web processes' figures and the state figures, for the internal
    network or a METRICS_TOKEN bearer (core.metrics.allowed)."""
    forwarded = any(request.META.get(h) for h in metrics.FORWARD_HEADERS)
    if not metrics.allowed(
        remote_addr=request.META.get("REMOTE_ADDR"),
        authorization=request.META.get("HTTP_AUTHORIZATION", ""),
        forwarded=forwarded,
    ):
        return HttpResponseForbidden("metrics: internal network or token only\n", content_type="text/plain")
    return HttpResponse(metrics.render(system=True), content_type=CONTENT_TYPE_LATEST)


def install() -> None:
    """Called once per process when Django is ready (config.apps): no database access here."""
    metrics.register_collector(SYSTEM)


SYSTEM = SystemCollector()
