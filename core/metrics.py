"""Prometheus metrics: what an operator watches, on every process.

The services record what happens through one-line calls (`order_decided`, `tick_done`,
`fill_applied`, ...); the figures that are a state rather than an event (executions running,
child orders open, RFQs open, queue depth, market-data age) are computed when Prometheus
scrapes, by collectors the layers above register here (config.metrics), so the services'
code paths carry no bookkeeping for them.

Each process serves its figures: the web server at /metrics (config.urls), the Celery worker,
beat, the market-data process (and, when it lands, the FIX gateway) on METRICS_PORT through
`serve`. Processes with children (uvicorn's web workers, Celery's prefork pool) write their
figures to PROMETHEUS_MULTIPROC_DIR, and whichever process answers a scrape adds up every
process's files (the client's multiprocess mode). Without the variable (the embedded default,
the tests) the figures live in this process's memory.

Only the internal network (METRICS_ALLOWED_NETWORKS) or a caller with METRICS_TOKEN is
answered: the figures tell an outsider what the desk is trading and how busy it is.
"""

import functools
import hmac
import ipaddress
import logging
import os
import threading
import time
from collections.abc import Callable
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.exposition import ThreadingWSGIServer

from core import logs

log = logging.getLogger(__name__)
intake_log = logging.getLogger("oms.intake")  # one line per order decided: the start of its story
start_log = logging.getLogger("ems.start")  # one line per execution started
rfq_log = logging.getLogger("rfq.open")  # one line per RFQ opened
disable_created_metrics()  # the *_created series double every series and no panel reads them

# Seconds, for latencies that are milliseconds when healthy and seconds when not.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LAG_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)

# --------------------------------------------------------------------------- events
ORDERS = Counter("smart_trading_orders", "Parent orders decided at intake", ["outcome"])  # accepted | rejected
ORDER_INTAKE = Histogram(
    "smart_trading_order_intake_seconds", "order_submit, from the call to its commit", buckets=LATENCY_BUCKETS
)
EXECUTIONS_STARTED = Counter("smart_trading_executions_started", "Executions started, by strategy", ["strategy"])
RFQS_OPENED = Counter("smart_trading_rfqs_opened", "RFQs opened")
TICKS = Counter("smart_trading_execution_ticks", "Execution ticks run")
TICK_LAG = Histogram(
    "smart_trading_tick_lag_seconds", "How long after it was due each execution tick ran", buckets=LAG_BUCKETS
)
FILLS = Counter("smart_trading_fills", "Fills applied to parent orders")
FILL_QUANTITY = Counter("smart_trading_filled_quantity", "Quantity filled (units of each instrument, summed)")
OVERFILLS = Counter("smart_trading_overfill_refusals", "Fills refused because they would overfill their order")
QUOTE_TO_LADDER = Histogram(
    "smart_trading_rfq_quote_to_ladder_seconds",
    "A provider's quote, from its arrival to its ladder handed to the channel layer",
    buckets=LATENCY_BUCKETS,
)
HTTP_RESPONSES = Counter("smart_trading_http_responses", "HTTP responses of the web server", ["status"])  # 2xx..5xx
TASKS = Counter("smart_trading_celery_tasks", "Celery tasks run, by outcome", ["task", "outcome"])
# The FIX gateway (not built yet) sets this per session: 1 logged on, 0 not. The alert rule
# (deploy/prometheus/rules.yml, FixSessionDown) already watches it.
FIX_SESSIONS = Gauge(
    "smart_trading_fix_session_logged_on", "FIX sessions: 1 logged on, 0 not", ["session"], multiprocess_mode="max"
)
DB_POOL_IN_USE = Gauge(
    "smart_trading_db_pool_connections_in_use",
    "Database connections checked out of the processes' pools",
    multiprocess_mode="livesum",
)
DB_POOL_SIZE = Gauge(
    "smart_trading_db_pool_connections", "Database connections the processes' pools hold", multiprocess_mode="livesum"
)
DB_POOL_MAX = Gauge(
    "smart_trading_db_pool_connections_max",
    "Database connections the processes' pools may hold (DB_POOL_MAX_SIZE each)",
    multiprocess_mode="livesum",
)

# Every label value present from the start: a rate over a series that appears only with its
# first event is blank until then, and an alert on it cannot fire.
for _outcome in ("accepted", "rejected"):
    ORDERS.labels(_outcome)
for _status in ("2xx", "3xx", "4xx", "5xx"):
    HTTP_RESPONSES.labels(_status)


def order_decided(order) -> None:
    """A new parent order was accepted or rejected at intake (not a replayed submission)."""
    outcome = "accepted" if order.status == "ACCEPTED" else "rejected"
    ORDERS.labels(outcome).inc()
    logs.bind(order_id=order.pk)
    intake_log.info(
        "order %s %s",
        order.pk,
        outcome,
        extra={
            "client_order_id": order.client_order_id,
            "portfolio_id": order.portfolio_id,
            "instrument_id": order.instrument_id,
            "side": order.side,
            "quantity": str(order.quantity),
            "status": order.status,
        },
    )


def execution_started(execution) -> None:
    """A new execution of a parent order (not a repeated start)."""
    EXECUTIONS_STARTED.labels(execution.strategy).inc()
    logs.bind(execution_id=execution.pk, order_id=execution.order_id)
    start_log.info(
        "execution %s started",
        execution.pk,
        extra={"strategy": execution.strategy, "quantity": str(execution.quantity), "side": execution.side},
    )


def rfq_opened(rfq, *, invited: int) -> None:
    RFQS_OPENED.inc()
    logs.bind(rfq_id=rfq.pk, order_id=rfq.order_id)
    rfq_log.info("RFQ %s opened", rfq.pk, extra={"invited": invited, "quantity": str(rfq.quantity)})


def timed_intake(func: Callable) -> Callable:
    """Decorates order_submit (outside its transaction: the commit is part of intake)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            ORDER_INTAKE.observe(time.perf_counter() - started)

    return wrapper


def tick_done(*, lag_seconds: float) -> None:
    TICKS.inc()
    TICK_LAG.observe(max(0.0, lag_seconds))


def fill_applied(fill) -> None:
    FILLS.inc()
    FILL_QUANTITY.inc(float(fill.quantity))


def overfill_refused(fill) -> None:
    OVERFILLS.inc()


def timed_quote(func: Callable) -> Callable:
    """Decorates quotes_submit (outside its transaction: the ladder is sent on commit), one
    observation per quote taken. A quote the service ignored (late, for an RFQ that ended,
    None in its place) is not counted."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        quotes = func(*args, **kwargs)
        took = time.perf_counter() - started
        for quote in quotes:
            if quote is not None:
                QUOTE_TO_LADDER.observe(took)
        return quotes

    return wrapper


def fix_session_state(session: str, *, logged_on: bool) -> None:
    """The seam for the FIX gateway: call on logon and logout of each session."""
    FIX_SESSIONS.labels(session).set(1 if logged_on else 0)


# --------------------------------------------------------------------------- scrape-time figures
_collectors: list = []


def register_collector(collector) -> None:
    """A prometheus_client collector computing state figures when scraped (config.metrics)."""
    if collector not in _collectors:
        _collectors.append(collector)


def sample_db_pool() -> None:
    """This process's database pools, as the gauges' value for this process."""
    try:
        from django.db import connections
    except ImportError:  # pragma: no cover - Django is always there in the product
        return
    in_use = size = most = 0
    for alias in connections:
        # The pools that exist: reading `connection.pool` would open one in a process that
        # never used the database (beat).
        pools = getattr(type(connections[alias]), "_connection_pools", {})
        pool = pools.get(alias)
        if pool is None:
            continue
        stats = pool.get_stats()
        size += stats.get("pool_size", 0)
        most += pool.max_size
        in_use += stats.get("pool_size", 0) - stats.get("pool_available", 0)
    DB_POOL_IN_USE.set(in_use)
    DB_POOL_SIZE.set(size)
    DB_POOL_MAX.set(most)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def registry(*, system: bool) -> CollectorRegistry:
    """What a scrape answers: every process's figures (multiprocess mode) or this one's,
    plus the state figures when `system` (the web server answers those: one copy of them)."""
    sample_db_pool()
    if multiprocess_dir():
        answer = CollectorRegistry()
        multiprocess.MultiProcessCollector(answer)
    else:
        if not system:
            return REGISTRY
        answer = CollectorRegistry()
        answer.register(_Forward(REGISTRY))
    if system:
        for collector in _collectors:
            answer.register(collector)
    return answer


class _Forward:
    """This process's default registry inside another registry (embedded mode)."""

    def __init__(self, source):
        self.source = source

    def collect(self):
        yield from self.source.collect()


def render(*, system: bool) -> bytes:
    return generate_latest(registry(system=system))


# --------------------------------------------------------------------------- who may read them
def allowed(*, remote_addr: str | None, authorization: str, forwarded: bool) -> bool:
    """A caller with the token, or one on the internal network that did not come through a
    proxy (a proxy's own address is internal: whoever it forwards is not)."""
    from django.conf import settings

    token = getattr(settings, "METRICS_TOKEN", "")
    if token and hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode()):
        return True
    if forwarded or not remote_addr:
        return False
    try:
        address = ipaddress.ip_address(remote_addr.split("%")[0])
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n, strict=False) for n in settings.METRICS_ALLOWED_NETWORKS)


FORWARD_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def wsgi_app(*, system: bool = False):
    def app(environ, start_response):
        if not allowed(
            remote_addr=environ.get("REMOTE_ADDR"),
            authorization=environ.get("HTTP_AUTHORIZATION", ""),
            forwarded=any(environ.get(h) for h in FORWARD_HEADERS),
        ):
            start_response("403 Forbidden", [("Content-Type", "text/plain")])
            return [b"metrics: internal network or token only\n"]
        if environ.get("PATH_INFO", "/") not in ("/", "/metrics"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
        return [render(system=system)]

    return app


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


_served: dict[str, object] = {}


def serve(process: str, *, port: int | None = None, addr: str | None = None):
    """Serve this process's figures on METRICS_ADDR:METRICS_PORT from a daemon thread (the
    Celery worker's main process, beat, market data; FIX when it lands). Idempotent."""
    from django.conf import settings

    if process in _served:
        return _served[process]
    port = settings.METRICS_PORT if port is None else port
    addr = settings.METRICS_ADDR if addr is None else addr
    server = make_server(addr, port, wsgi_app(), ThreadingWSGIServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name=f"metrics-{process}", daemon=True).start()
    _served[process] = server
    start_sampler()
    log.info("%s metrics on http://%s:%s/metrics", process, addr, server.server_port)
    return server


_sampler: threading.Thread | None = None


def start_sampler(interval: float | None = None) -> None:
    """Sample the database pool every METRICS_SAMPLE_SECONDS in this process, so a scrape
    answered by another process still sees this one's pool."""
    global _sampler
    if _sampler is not None and _sampler.is_alive():
        return
    if interval is None:
        from django.conf import settings

        interval = settings.METRICS_SAMPLE_SECONDS

    def loop():
        while True:
            time.sleep(interval)
            try:
                sample_db_pool()
            except Exception:
                log.debug("database pool sample failed", exc_info=True)

    _sampler = threading.Thread(target=loop, name="metrics-sampler", daemon=True)
    _sampler.start()


def process_exited(pid: int | None = None) -> None:
    """A child process (a prefork worker, a web worker) ended: its live gauges stop counting."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid or os.getpid())


def task_finished(name: str, outcome: str) -> None:
    TASKS.labels(name, outcome).inc()
